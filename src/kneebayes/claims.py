"""The article's qualitative statements, checked against the model's posteriors.

A researcher who changes a number sees at once which statements of the
article the model no longer keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import ImpossibleEvidenceError
from .evidence import to_indices
from .inference.node_joints import marginals
from .inference.posterior import encode, target_joint
from .modelfile.schema import ClaimSpec
from .triage import screened

if TYPE_CHECKING:
    from .diagnosis import Diagnosis
    from .model import Model


#: Two posteriors closer than this are equal as far as a claim can tell: the same probability reached along two
#: paths differs by rounding, and by the processor (with a tear's weight on the cyst at exactly 0, the cyst given a
#: tear came out 1.4e-17 above the cyst given none on one machine, equal on another). A claim that one number
#: exceeds another needs more than this; one that a number reaches a level is not broken by less.
ROUNDING = 1e-12


@dataclass(frozen=True)
class ClaimResult:
    """One claim, whether it held, and the numbers that decided it.

    ``statement`` is the article's sentence, ``source`` its heading, and
    ``detail`` the posteriors the check compared.

    >>> import kneebayes
    >>> result = kneebayes.load_model().check_claims().results[0]
    >>> result.id, result.held
    ('tingling_points_to_nerve_irritation', True)
    >>> print(result)
    [held] tingling_points_to_nerve_irritation: Tingling or numbness raises nerve irritation more than any other cause. (rise of nerve_irritation +0.6976, largest other bakers_cyst +0.0509)
    """

    id: str
    statement: str
    source: str
    held: bool
    detail: str

    def __str__(self) -> str:
        return f"[{'held' if self.held else 'BROKEN'}] {self.id}: {self.statement} ({self.detail})"


@dataclass(frozen=True)
class ClaimReport:
    """Every claim's result; ``all_held`` is True when the model keeps all of them.

    What ``Model.check_claims()`` returns; iterating gives the
    :class:`ClaimResult` values in the file's order.

    >>> import kneebayes
    >>> report = kneebayes.load_model().check_claims()
    >>> report.all_held, len(report), report.broken
    (True, 38, ())
    >>> print(str(report).splitlines()[0])
    38 of 38 claims hold
    """

    results: tuple[ClaimResult, ...]

    @property
    def all_held(self) -> bool:
        """True when the model keeps every claim."""
        return all(r.held for r in self.results)

    @property
    def broken(self) -> tuple[ClaimResult, ...]:
        """The claims the model no longer keeps."""
        return tuple(r for r in self.results if not r.held)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __str__(self) -> str:
        head = f"{sum(r.held for r in self.results)} of {len(self.results)} claims hold"
        return "\n".join([head, *(f"  {r}" for r in self.results)])


def _ev(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(pairs)


def _fmt(ev: tuple[tuple[str, str], ...]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in ev) + "}"


def _given(model: Model, claim: ClaimSpec) -> dict[str, str]:
    """The claim's evidence, after the safety screen when the claim asks for it."""
    return screened(model.spec, _ev(claim.given)) if claim.screened else _ev(claim.given)


class _Diagnoses:
    """The model's diagnoses for one claims check, each evidence set diagnosed once.

    Claims share evidence (26 of the knee's compare with no answers at
    all), and a check runs on every explorer move. A Diagnosis is
    immutable, so sharing one between claims changes nothing they read.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.seen: dict[tuple[tuple[str, str], ...], Diagnosis] = {}

    def __call__(self, evidence: Mapping[str, str]) -> Diagnosis:
        key = tuple(sorted(evidence.items()))
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = self.model.diagnose(evidence)
        return found


def _check(model: Model, claim: ClaimSpec, diagnose: _Diagnoses) -> tuple[bool, str]:
    # cause/than were checked to exist at load time for the checks that need them
    cause, than = claim.cause or "", claim.than or ""
    given = _fmt(claim.given) + (" and every other warning sign 'no'" if claim.screened else "")
    if claim.check == "explains_first":
        dx = diagnose(_given(model, claim))
        first, factor = dx.explaining_causes[0]
        mine = dict(dx.explaining_causes)[cause]
        return first == cause, (f"first is {first} (Bayes factor {factor:.3g}); {cause} {mine:.3g} given {given}")
    if claim.check == "lifts":
        dx = diagnose(_given(model, claim))
        state = dx.explaining_states[cause]     # "yes" for a yes/no cause; else its leading abnormal state
        post = dx.distributions[cause][state]
        lift, prior = (d[cause] if isinstance(d[cause], float) else d[cause][state] for d in (dx.lift, dx.prior))
        return lift >= (claim.by or 1.0) - ROUNDING, (f"P({cause}={state})={post:.4f} is {lift:.2f}x its prior "
                                                      f"{prior:.4f} (needs {claim.by:g}x) given {given}")
    if claim.check == "raises":
        a = diagnose(_ev(claim.given)).posterior[cause]
        b = diagnose(_ev(claim.versus)).posterior[cause]
        return a > b + ROUNDING, f"P({cause}|{_fmt(claim.given)})={a:.4f} vs P(...|{_fmt(claim.versus)})={b:.4f}"
    if claim.check == "raises_most":
        a = diagnose(_ev(claim.given)).posterior
        b = diagnose(_ev(claim.versus)).posterior
        rises = {c: a[c] - b[c] for c in a}
        others = {c: r for c, r in rises.items() if c != cause}
        rival = max(others, key=lambda c: others[c]) if others else None
        held = rival is None or rises[cause] > others[rival] + ROUNDING
        return held, f"rise of {cause} {rises[cause]:+.4f}" + (f", largest other {rival} {others[rival]:+.4f}" if rival else "")
    if claim.check == "more_probable":
        post = diagnose(_ev(claim.given)).posterior
        return post[cause] > post[than] + ROUNDING, f"{cause}={post[cause]:.4f} vs {than}={post[than]:.4f} given {_fmt(claim.given)}"
    if claim.check == "ranks_first":
        ranked = diagnose(_ev(claim.given)).ranked_causes
        return ranked[0][0] == cause, f"first is {ranked[0][0]} ({ranked[0][1]:.4f}) given {_fmt(claim.given)}"
    if claim.check == "edges_raise":
        kinds = {n.id: n.kind for n in model.nodes}
        edges = [(p, n.id) for n in model.nodes if n.kind == claim.child_kind
                 for p in n.parents if kinds[p] == claim.parent_kind]
        children: dict[str, list[str]] = {}
        for p, child in edges:
            children.setdefault(p, []).append(child)
        # one batched query for every parent and state: a claims check is part of every explorer move
        rows = [(p, state) for p in children for state in ("yes", "no")]
        found = _p_yes(model, [{p: state} for p, state in rows], sorted({c for _, c in edges}), diagnose)
        given = dict(zip(rows, found))
        failures = [f"{p}->{child}: {given[p, 'yes'][child]:.4f} <= {given[p, 'no'][child]:.4f}"
                    for p, child in edges if not given[p, "yes"][child] > given[p, "no"][child] + ROUNDING]
        detail = f"{len(edges)} edges checked" + (f"; lowered: {'; '.join(failures)}" if failures else "")
        return bool(edges) and not failures, detail
    raise ValueError(f"unknown check {claim.check!r}")  # unreachable: validated at load


def _p_yes(model: Model, rows: list[dict[str, str]], nodes: list[str], diagnose: _Diagnoses) -> list[dict[str, float]]:
    """P(node = yes | evidence) for each evidence row and node: a diagnosis's posterior where they are all
    yes/no causes, else one batched query of the general engine (the rows are the model's own states)."""
    if model.targets.binary and set(nodes) <= set(model.causes):
        posteriors = [diagnose(row).posterior for row in rows]
        return [{n: posterior[n] for n in nodes} for posterior in posteriors]
    net = model.network
    lam = encode(net, [to_indices(net, row) for row in rows])
    tj = target_joint(net, lam)
    for row, log_evidence in zip(rows, tj.log_evidence):
        if log_evidence == -np.inf:
            raise ImpossibleEvidenceError(row.items())
    index = [net.index[n] for n in nodes]
    found = marginals(net, lam, tj, index)
    yes = [net.state_index[v]["yes"] for v in index]
    return [{n: float(found[v][r, s]) for n, v, s in zip(nodes, index, yes)} for r in range(len(rows))]


def check_claims(model: Model) -> ClaimReport:
    """Check every claim of the model file, in the file's order (``Model.check_claims`` calls this).

    >>> import kneebayes
    >>> report = check_claims(kneebayes.load_model())
    >>> [result.id for result in report][:2]
    ['tingling_points_to_nerve_irritation', 'downhill_raises_popliteus']
    """
    results = []
    diagnose = _Diagnoses(model)
    for claim in model.spec.claims:
        try:
            held, detail = _check(model, claim, diagnose)
        except ImpossibleEvidenceError as exc:   # changed numbers can rule the claim's evidence out: not kept
            held, detail = False, f"cannot be checked: {_fmt(tuple(exc.evidence.items()))} has probability zero"
        results.append(ClaimResult(claim.id, claim.statement, claim.source, held, detail))
    return ClaimReport(tuple(results))
