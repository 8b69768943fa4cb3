"""Hypothesis strategies for random small networks, built directly as ModelSpec values.

No YAML is involved: the specs are what the loader would produce (columns in
``itertools.product`` order of the parents' states), so the tests exercise
the engine, not the file reader. Alongside the strategies live two
independent references the property tests compare against:

* :func:`cpt_by_definition` builds a node's table from its spec by looking
  up each column by its ``given`` assignment (never by position) and by
  evaluating the noisy-OR formula cell by cell;
* :func:`brute_force` multiplies every such table into the full joint and
  conditions it on the evidence.
"""

from __future__ import annotations

import functools
import itertools
import math
import string
from pathlib import Path
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from kneebayes.modelfile.schema import (
    ModelSpec,
    NodeSpec,
    NoisyOr,
    Parameter,
    Prior,
    Table,
    TableColumn,
)

MAX_PARENTS = 3
BINARY_STATE_SETS: tuple[tuple[str, str], ...] = (("yes", "no"), ("no", "yes"), ("s0", "s1"))
OTHER_KINDS = ("risk_factor", "finding", "symptom")

# Probabilities an author might write, including the extremes that break naive code.
EXTREME = (0.0, 1e-6, 1e-3, 0.5, 1.0 - 1e-6, 1.0)


# Strategies are immutable values: the helpers below build each one once and hand the same object
# out again. Building them anew for every node and column of every example (and hypothesis
# validating each) took most of a random-network property's time; the values drawn are the same.
_cached = functools.lru_cache(maxsize=4096)


@_cached
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=low, max_value=high)


@_cached
def _one_of(values: tuple[object, ...]) -> st.SearchStrategy[object]:
    return st.sampled_from(values)


@_cached
def _subsets(values: tuple[str, ...], max_size: int | None = None) -> st.SearchStrategy[list[str]]:
    """Lists of distinct items of ``values`` (a sampled_from list, as drawn before)."""
    return st.lists(st.sampled_from(values), unique=True, max_size=max_size)


_BOOLEANS = st.booleans()


def scaled(examples: int) -> int:
    """``examples`` under the default profile, scaled by the loaded profile's size.

    For the few slow properties (pgmpy on random networks) that run fewer
    examples than the core ones: the thorough profile still runs 20x more.
    """
    return max(1, examples * settings().max_examples // 100)


def param(value: float) -> Parameter:
    return Parameter(float(value), source="test", rationale="test", range=None)


# ---------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------
SPECIAL_WEIGHTS = (1e-6, 1e-3, 1.0)   # weights an author might write, beside the continuous ones
_WEIGHT_BYTES = 3                     # one weight's share of a drawn byte string: a flag and 23 bits
_WEIGHT_STEPS = (1 << 23) - 1


def weight_from_code(code: int, allow_zero: bool = True) -> float:
    """One Dirichlet-like weight from a 24-bit code: an odd code picks one of :data:`SPECIAL_WEIGHTS`
    (or 0.0 when ``allow_zero``), an even one a value in [0.01, 1] (steps of about 1.2e-7, both ends
    included). Zero, where a byte string shrinks to, gives 0.01."""
    if code & 1:
        specials = SPECIAL_WEIGHTS + ((0.0,) if allow_zero else ())
        return specials[(code >> 1) % len(specials)]
    return 0.01 + 0.99 * (code >> 1) / _WEIGHT_STEPS


def normalised(raw: Sequence[float]) -> tuple[float, ...]:
    """Weights scaled to sum to 1 (last = 1 - fsum(others)); all zero gives the uniform vector."""
    size = len(raw)
    total = math.fsum(raw)
    if total == 0.0:
        raw, total = [1.0] * size, float(size)
    probs = [w / total for w in raw[:-1]]
    last = 1.0 - math.fsum(probs)
    probs.append(max(last, 0.0))
    return tuple(probs)


@_cached
def tables(columns: int, size: int, allow_zero: bool = True) -> st.SearchStrategy[tuple[tuple[float, ...], ...]]:
    """``columns`` probability vectors of ``size`` entries, each summing to 1 (see :func:`distributions`).

    Drawn as one byte string, three bytes a weight: hypothesis's bookkeeping per draw (spans,
    choices, the example tree) cost far more than the few arithmetic steps of a weight, and a
    table of 64 columns took hundreds of draws. The values are those of a strategy drawing every
    weight on its own: half of them special, the others spread over [0.01, 1]; the byte string
    shrinks towards 0.01 everywhere, the uniform table.
    """
    width = size * _WEIGHT_BYTES
    return st.binary(min_size=columns * width, max_size=columns * width).map(
        lambda data: tuple(
            normalised([weight_from_code(int.from_bytes(data[at:at + _WEIGHT_BYTES], "big"), allow_zero)
                        for at in range(start, start + width, _WEIGHT_BYTES)])
            for start in range(0, columns * width, width)
        )
    )


@_cached
def distributions(size: int, allow_zero: bool = True) -> st.SearchStrategy[tuple[float, ...]]:
    """A probability vector of ``size`` entries that sums to 1 (last = 1 - fsum(others)).

    Dirichlet-like: independent positive weights, normalised; some entries are
    tiny (1e-6 of the others) or, when ``allow_zero``, exactly zero.
    """
    return tables(1, size, allow_zero).map(lambda columns: columns[0])


@_cached
def probabilities(allow_zero: bool = True) -> st.SearchStrategy[float]:
    """One probability, often at or near 0 or 1."""
    extremes = EXTREME if allow_zero else tuple(p for p in EXTREME if 0.0 < p < 1.0)
    return st.one_of(st.floats(min_value=0.0, max_value=1.0), st.sampled_from(extremes))


# ---------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------
def _is_yes_no(states: Sequence[str]) -> bool:
    return set(states) == {"yes", "no"} and len(states) == 2


@st.composite
def networks(
    draw: st.DrawFn,
    min_nodes: int = 2,
    max_nodes: int = 8,
    min_causes: int = 0,
    max_causes: int = 4,
    allow_zero: bool = True,
    max_card: int = 4,
) -> ModelSpec:
    """A random DAG of ``min_nodes``-``max_nodes`` nodes as a ModelSpec.

    Up to three parents per node, 2-``max_card`` states per node, 0-4 targets (kind
    ``cause``), roots with a Prior, children with a Table or (when the node
    and its parents are yes/no) a NoisyOr. Nodes are listed in a random
    order, not necessarily topological.
    """
    n = draw(_integers(min_nodes, max_nodes))
    ids = draw(st.permutations([f"v{i}" for i in range(n)]))  # ids[i] is i-th in topological order
    states: dict[str, tuple[str, ...]] = {}
    for node in ids:
        card = draw(_integers(2, max_card))
        if card == 2:
            states[node] = draw(_one_of(BINARY_STATE_SETS))
        else:
            states[node] = tuple(f"s{j}" for j in range(card))
    n_causes = draw(_integers(min(min_causes, n), min(max_causes, n)))
    causes = set(draw(st.lists(st.sampled_from(ids), min_size=n_causes, max_size=n_causes, unique=True)))

    specs: list[NodeSpec] = []
    for i, node in enumerate(ids):
        earlier = ids[:i]
        parents = tuple(
            draw(_subsets(tuple(earlier), min(MAX_PARENTS, i)))
        ) if earlier else ()
        params: Prior | NoisyOr | Table
        if not parents:
            probs = draw(distributions(len(states[node]), allow_zero))
            params = Prior(tuple(param(p) for p in probs))
        elif (
            _is_yes_no(states[node])
            and all(_is_yes_no(states[p]) for p in parents)
            and draw(_BOOLEANS)
        ):
            leak = draw(probabilities(allow_zero))
            weights = tuple((p, param(draw(probabilities(allow_zero)))) for p in parents)
            params = NoisyOr(param(leak), weights)
        else:
            combos = list(itertools.product(*(states[p] for p in parents)))
            drawn = draw(tables(len(combos), len(states[node]), allow_zero))
            params = Table(parents, tuple(TableColumn(tuple(zip(parents, combo)), tuple(param(p) for p in probs))
                                          for combo, probs in zip(combos, drawn)))
        kind = "cause" if node in causes else draw(_one_of(OTHER_KINDS))
        specs.append(NodeSpec(
            id=node, label=node, kind=kind, question=f"{node}?", states=states[node],
            parameters=params, askable=kind != "cause",
        ))
    order = draw(st.permutations(specs))
    return ModelSpec(name="random", version="0", title="random network", nodes=tuple(order))


@st.composite
def evidence_for(draw: st.DrawFn, spec: ModelSpec, max_size: int | None = None) -> dict[str, str]:
    """Evidence on ``spec``: a random subset of its nodes, each at a random state."""
    ids = tuple(n.id for n in spec.nodes)
    chosen = draw(_subsets(ids, len(ids) if max_size is None else max_size))
    return {node: draw(_one_of(tuple(spec.node(node).states))) for node in chosen}


@st.composite
def networks_with_evidence(draw: st.DrawFn, **kwargs: int | bool) -> tuple[ModelSpec, dict[str, str]]:
    spec = draw(networks(**kwargs))  # type: ignore[arg-type]
    return spec, draw(evidence_for(spec))


# ---------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------
def cpt_by_definition(node: NodeSpec, states: Mapping[str, Sequence[str]]) -> np.ndarray:
    """P(node | parents) with axes (parents..., node), cell by cell from the spec's meaning."""
    params = node.parameters
    if isinstance(params, Prior):
        return np.array([p.value for p in params.probabilities], dtype=float)
    parents = params.parents
    shape = tuple(len(states[p]) for p in parents) + (len(node.states),)
    out = np.empty(shape)
    if isinstance(params, Table):
        by_given = {frozenset(col.given): col for col in params.columns}
        for idx in itertools.product(*(range(len(states[p])) for p in parents)):
            col = by_given[frozenset((p, states[p][j]) for p, j in zip(parents, idx))]
            out[idx] = [p.value for p in col.probabilities]
        return out
    assert isinstance(params, NoisyOr)
    weights = dict((p, w.value) for p, w in params.weights)
    yes = node.states.index("yes")
    for idx in itertools.product(*(range(len(states[p])) for p in parents)):
        present = [weights[p] for p, j in zip(parents, idx) if states[p][j] == "yes"]
        p_no = (1.0 - params.leak.value) * math.prod(1.0 - w for w in present)
        # 1 - p_no, evaluated without cancelling: a leak of 1e-144 is 1e-144, not 0
        out[idx + (yes,)] = 1.0 if p_no == 0.0 else -math.expm1(math.log1p(-params.leak.value) +
                                                                  math.fsum(math.log1p(-w) for w in present))
        out[idx + (1 - yes,)] = p_no
    return out


@dataclass(frozen=True)
class BruteForce:
    """The full joint of a network, conditioned on evidence."""

    names: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    p_evidence: float
    conditioned: np.ndarray | None   # P(all nodes | evidence), None when P(evidence) = 0

    def marginal(self, node: str) -> dict[str, float]:
        assert self.conditioned is not None
        i = self.names.index(node)
        axes = tuple(a for a in range(len(self.names)) if a != i)
        values = self.conditioned.sum(axis=axes)
        return dict(zip(self.states[i], values.tolist()))


def brute_force(spec: ModelSpec, evidence: Mapping[str, str]) -> BruteForce:
    """Multiply every CPT into the full joint (numpy), then condition on the evidence."""
    names = tuple(n.id for n in spec.nodes)
    states = {n.id: n.states for n in spec.nodes}
    letters = string.ascii_letters
    pos = {name: letters[i] for i, name in enumerate(names)}
    operands: list[object] = []
    for node in spec.nodes:
        operands.append(cpt_by_definition(node, states))
        operands.append("".join(pos[p] for p in node.parents) + pos[node.id])
    # np.einsum's sublist-free string form: "ab,bc,...->abc..."
    subs = ",".join(operands[1::2]) + "->" + "".join(pos[n] for n in names)  # type: ignore[arg-type]
    joint = np.einsum(subs, *operands[0::2])
    mask = np.ones(joint.shape, dtype=bool)
    for node, value in evidence.items():
        i = names.index(node)
        keep = np.array([s == value for s in states[node]])
        shape = [1] * len(names)
        shape[i] = len(keep)
        mask = mask & keep.reshape(shape)
    selected = np.where(mask, joint, 0.0)
    p_e = float(math.fsum(selected.ravel().tolist()))
    conditioned = selected / p_e if p_e > 0.0 else None
    return BruteForce(names, tuple(states[n] for n in names), p_e, conditioned)


@st.composite
def mutated_lines(draw: st.DrawFn, text: str, tokens: Sequence[str]) -> str:
    """``text`` after one to four line edits: a line deleted, duplicated or replaced by random text, or one
    of ``tokens`` inserted in it; never empty of lines (fuzzing a reader near valid input)."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace"]))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(tokens)) + lines[i][at:]
        else:
            lines[i] = draw(st.text(max_size=30)) + "\n"
        if not lines:
            lines = [""]
    return "".join(lines)


def tiny_noisy_or_file(path: Path, leak: float, weight: float, prior: float = 0.3) -> Path:
    """A model file: risk factors r0-r2 (P(yes) = ``prior``), parents of one cause c, a noisy-OR with ``leak``
    and ``weight`` for each (numbers written in full, so that 1e-12 stays a number in YAML)."""
    def number(v: float) -> str:
        return f"{{value: {v:.6e}, range: [{v / 2:.6e}, {min(2 * v, 0.99):.6e}], source: s, rationale: r}}"

    lines = ["format: kneebayes-model/1", "name: tiny", 'version: "1"', 'title: "tiny"', "source_document: s", "nodes:"]
    for i in range(3):
        lines += [f"  - id: r{i}", f"    label: r{i}", "    kind: risk_factor", f'    question: "r{i}?"', "    prior:",
                  f"      yes: {number(prior)}", f"      no: {number(1 - prior)}"]
    lines += ["  - id: c", "    label: c", "    kind: cause", '    question: "c?"', "    noisy_or:",
              f"      leak: {number(leak)}", "      weights:", *(f"        r{i}: {number(weight)}" for i in range(3))]
    path.write_text("\n".join(lines) + "\n")
    return path
