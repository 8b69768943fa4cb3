"""Learning a model's numbers from cases: EM with the hand-set ranges as priors.

:func:`learn` takes a model and a pandas DataFrame of cases (one row a
case, one column a node id, missing values allowed anywhere: causes are
usually missing in every row) and returns a :class:`Learning` whose
``model`` has the same structure, wording and rules, with new numbers.

The prior. Each hand-set number and its range are read the way posterior
intervals read them (:mod:`kneebayes.research.draws`): a Beta whose central
90% is the range for a yes/no prior, a noisy-OR leak or a weight; a
Dirichlet fitted to the ranges for a table column or a prior with more
states. A number without a range (a bare cell of an imported network) gets
a flat prior, Dirichlet(1) over its column. A number whose range is a
single value ("certain", "impossible") stays as it is, as does a cell at 0
inside a column that varies.

The iteration, from the hand-set numbers:

* E-step: the expected count of every node's family configuration given
  each case (:mod:`.learning_counts`, batched, identical rows once);
* M-step: each column's (or Beta's) posterior ``alpha + counts``; the new
  number is its mode, ``(counts + alpha - 1) / (total + sum(alpha) - k)``,
  when every posterior alpha exceeds 1, else (a mode on the boundary of
  the simplex) the posterior mean. With ``prior=False`` it is maximum
  likelihood, ``counts / total``;
* a noisy-OR stays a noisy-OR: EM runs over its hidden link activations.
  Given the family's posterior, link i (parent i present) fired with
  probability ``w_i / P(yes | parents)`` when the child is yes and never
  when it is no, so its successes are ``sum_u P(yes, u | case) w_i /
  P(yes | u)`` over the parent states u with parent i present, and its
  trials ``sum_u P(u | case)`` over the same u; the leak likewise, over
  every u, with one trial per case.

``log_likelihoods[t]`` is the objective at the numbers iteration t started
from: the log-likelihood of the cases (log P(observed values), summed),
plus the log prior density with ``prior=True``. EM never lowers it while
every mode is interior. It stops (``converged``) when an iteration raises
the objective by at most ``tolerance`` per case, keeping that iteration's
M-step, or after ``max_iterations`` with a :class:`ConvergenceWarning`.

Every learned number keeps its source and rationale; its range becomes the
central 90% interval of its posterior Beta (a Dirichlet's marginal; under
``prior=False`` the posterior of a flat prior), widened where needed to
hold the new value, and it records the data it saw
(:class:`~kneebayes.modelfile.schema.DataRecord`, appended after any earlier
ones). A number no case informs keeps its value and range.

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> cases = sample(model.with_parameters({"bakers_cyst.leak": 0.06}), 300, seed=1)
>>> result = learn(model, cases, name="simulated", date="2024-05-01")
>>> result.converged, result.cases
(True, 300)
>>> result.model.parameters["bakers_cyst.leak"].data
(DataRecord(name='simulated', cases=300, date='2024-05-01'),)
"""

from __future__ import annotations

import datetime
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ImpossibleEvidenceError, SettingError, quote
from ..extras import require
from ..model import Model
from ..modelfile.format import complement
from ..modelfile.schema import DataRecord, ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table
from ..network.compiled import CompiledNetwork, compile_network
from ..progress import Progress
from .draws import build_sampler, flat_values, spec_with_numbers
from .learning_counts import expected_counts, families
from .learning_frame import code_frame, sample
from .ranges import RANGE_MASS

if TYPE_CHECKING:
    import pandas

__all__ = ["ConvergenceWarning", "Learning", "learn", "updated_with", "sample"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iterations`` before its numbers settled; the message says how far they still moved.

    >>> import warnings, kneebayes
    >>> model = kneebayes.load_model()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = learn(model, sample(model, 50), name="short", max_iterations=1, date="2024-05-01")
    >>> result.converged, caught[0].category.__name__
    (False, 'ConvergenceWarning')
    """


@dataclass(frozen=True)
class Learning:
    """What :func:`learn` found: the new model and how EM got there.

    ``iterations`` run, ``log_likelihoods`` one objective per iteration (see
    the module docstring), whether it ``converged``, and how many ``cases``
    (rows of the frame) it learned from.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> result = learn(model, sample(model, 100), name="example", date="2024-05-01")
    >>> result.model.name == model.name, len(result.log_likelihoods) == result.iterations
    (True, True)
    """

    model: Model
    iterations: int
    log_likelihoods: tuple[float, ...]
    converged: bool
    cases: int


@dataclass(frozen=True)
class _Group:
    """Numbers of one node learned together: a Dirichlet over positions of its flat vector, or a Beta.

    ``kind``: "column" (a table column or a prior's states), "yes" (P(yes)
    of a yes/no prior, its complement at ``complement``), "leak" or
    "weight" (a noisy-OR's, the weight's parent at ``index``). ``alpha`` is
    the prior (two numbers for a Beta: successes, failures).
    """

    node: int
    kind: str
    positions: tuple[int, ...]
    alpha: tuple[float, ...]
    column: int = 0
    index: int = 0
    complement: int | None = None


def _groups(spec: ModelSpec) -> list[_Group]:
    """Every learnable group of numbers, with its prior from the range fits of ``draws.build_sampler``."""
    fitted = {(g.node, g.positions): g for g in build_sampler(spec).groups}
    out: list[_Group] = []

    def fit(node: int, positions: tuple[int, ...], params: Sequence[Parameter]) -> tuple[float, ...] | None:
        found = fitted.get((node, positions))
        if found is not None:
            return found.alpha
        if all(p.range is None for p in params):   # bare numbers: a flat prior (a Beta has two alphas)
            return (1.0,) * (2 if len(positions) == 1 else len(positions))
        return None   # a single-valued range: certain or impossible, kept as written

    for i, node in enumerate(spec.nodes):
        p = node.parameters
        if isinstance(p, Prior):
            probs = p.probabilities
            if p.derived_last and len(probs) == 2:
                yes = node.states.index("yes") if "yes" in node.states else 0
                alpha = fit(i, (yes,), [probs[yes]])
                if alpha is not None:
                    out.append(_Group(i, "yes", (yes,), alpha, complement=1 - yes))
            else:
                positions = _live(i, 0, probs, fitted)
                alpha = fit(i, positions, probs)
                if alpha is not None:
                    out.append(_Group(i, "column", positions, alpha))
        elif isinstance(p, NoisyOr):
            alpha = fit(i, (0,), [p.leak])
            if alpha is not None:
                out.append(_Group(i, "leak", (0,), alpha))
            for j, (_, w) in enumerate(p.weights):
                alpha = fit(i, (1 + j,), [w])
                if alpha is not None:
                    out.append(_Group(i, "weight", (1 + j,), alpha, index=j))
        elif isinstance(p, Table):
            card = len(node.states)
            for c, col in enumerate(p.columns):
                positions = _live(i, c * card, col.probabilities, fitted)
                alpha = fit(i, positions, col.probabilities)
                if alpha is not None:
                    out.append(_Group(i, "column", positions, alpha, column=c))
    return out


def _live(node: int, start: int, probs: Sequence[Parameter],
          fitted: dict[tuple[int, tuple[int, ...]], Any]) -> tuple[int, ...]:
    """A column's positions as the range fit took them (cells at 0 left out), else all of them."""
    live = tuple(start + j for j, q in enumerate(probs) if q.value > 0.0)
    return live if (node, live) in fitted else tuple(start + j for j in range(len(probs)))


def _noisy_or_ratio(net: CompiledNetwork, node: int, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per parent configuration: expected (child yes) / P(yes | parents), the expected total; the child's yes."""
    yes = net.state_index[node]["yes"]
    p_yes = np.asarray(net.tables[node])[..., yes]
    ratio = np.divide(counts[..., yes], p_yes, out=np.zeros(p_yes.shape), where=p_yes > 0)
    return ratio, counts.sum(axis=-1), yes


def _group_counts(g: _Group, counts: np.ndarray, values: np.ndarray, net: CompiledNetwork,
                  ratios: dict[int, tuple[np.ndarray, np.ndarray, int]]) -> np.ndarray:
    """The expected counts behind one group: per cell of a column, or (successes, failures) of a Beta."""
    if g.kind == "column":
        card = counts.shape[-1]
        column = counts.reshape(-1, card)[g.column]
        return column[[q - g.column * card for q in g.positions]]
    if g.kind == "yes":
        s = counts[g.positions[0]]
        return np.array([s, counts.sum() - s])
    if g.node not in ratios:
        ratios[g.node] = _noisy_or_ratio(net, g.node, counts)
    ratio, total, _ = ratios[g.node]
    if g.kind == "leak":
        s, t = values[0] * ratio.sum(), total.sum()
    else:   # a weight: only parent states with this parent present (its "yes") count
        parent = net.parents[g.node][g.index]
        present = net.state_index[parent]["yes"]
        s = values[1 + g.index] * ratio.take(present, axis=g.index).sum()
        t = total.take(present, axis=g.index).sum()
    return np.array([s, t - s])


def _updated(c: np.ndarray, alpha: np.ndarray, prior: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """New probabilities of one group and its posterior alpha; None when no case informs it."""
    c = np.maximum(c, 0.0)
    total = c.sum()
    if not total > 0.0:
        return None
    if not prior:
        return c / total, 1.0 + c
    post = alpha + c
    if (post > 1.0).all():
        return (post - 1.0) / (post.sum() - len(post)), post
    return post / post.sum(), post   # the mode lies on the boundary: the posterior mean instead


def _probabilities(g: _Group, values: np.ndarray) -> np.ndarray:
    if g.kind == "column":
        return values[list(g.positions)]
    return np.array([values[g.positions[0]], 1.0 - values[g.positions[0]]])


def _log_prior(groups: Sequence[_Group], values: Sequence[np.ndarray]) -> float:
    """The log density of the numbers under their priors (Beta and Dirichlet, with normalising constants)."""
    total = 0.0
    for g in groups:
        alpha = np.asarray(g.alpha)
        theta = _probabilities(g, values[g.node])
        with np.errstate(divide="ignore"):
            terms = np.where(alpha == 1.0, 0.0, (alpha - 1.0) * np.log(theta))
        total += float(terms.sum()) + math.lgamma(float(alpha.sum())) - sum(math.lgamma(float(a)) for a in alpha)
    return total


def _m_step(groups: Sequence[_Group], values: list[np.ndarray], tables: Sequence[np.ndarray], net: CompiledNetwork,
            prior: bool) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """New flat numbers per node, and each informed group's posterior alpha (by group position)."""
    new = [v.copy() for v in values]
    posterior: dict[int, np.ndarray] = {}
    ratios: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    for k, g in enumerate(groups):
        found = _updated(_group_counts(g, tables[g.node], values[g.node], net, ratios), np.asarray(g.alpha), prior)
        if found is None:
            continue
        probs, posterior[k] = found
        if g.kind == "column":
            new[g.node][list(g.positions)] = probs
        else:
            new[g.node][g.positions[0]] = probs[0]
            if g.complement is not None:
                new[g.node][g.complement] = 1.0 - probs[0]
    return new, posterior


def _range(alpha: float, rest: float, value: float) -> tuple[float, float]:
    """The central RANGE_MASS interval of Beta(alpha, rest), widened to hold ``value``; a single value at 0 or 1."""
    if value in (0.0, 1.0):
        return (value, value)
    beta = require("scipy.stats", "research", "learning from cases").beta
    low, high = (float(q) for q in beta.ppf([(1.0 - RANGE_MASS) / 2.0, (1.0 + RANGE_MASS) / 2.0], alpha, rest))
    low = min(value, max(low, 1e-12)) if math.isfinite(low) else value
    high = max(value, min(high, 1.0 - 1e-12)) if math.isfinite(high) else value
    return (low, high)


def _learned_spec(spec: ModelSpec, groups: Sequence[_Group], values: Sequence[np.ndarray],
                  posterior: dict[int, np.ndarray], record: DataRecord) -> ModelSpec:
    """``spec`` with every informed group's numbers, ranges and data records replaced."""
    changes: dict[int, dict[int, Parameter]] = {}
    for k, g in enumerate(groups):
        if k not in posterior:
            continue
        post = posterior[k]
        node = spec.nodes[g.node]
        for j, position in enumerate(g.positions):
            old = _parameter_at(node, position)
            value = float(values[g.node][position])
            rng = _range(float(post[j]), float(post.sum() - post[j]), value)
            changes.setdefault(g.node, {})[position] = replace(old, value=value, range=rng, term=None,
                                                               data=old.data + (record,))
    nodes = list(spec.nodes)
    for i, by_position in changes.items():
        nodes[i] = _with_parameters(nodes[i], by_position)
    return replace(spec, nodes=tuple(nodes), path=None)


def _parameter_at(node: NodeSpec, position: int) -> Parameter:
    p = node.parameters
    if isinstance(p, Prior):
        return p.probabilities[position]
    if isinstance(p, NoisyOr):
        return p.leak if position == 0 else p.weights[position - 1][1]
    assert isinstance(p, Table)  # noqa: S101 - the three kinds of the schema
    card = len(node.states)
    return p.columns[position // card].probabilities[position % card]


def _with_parameters(node: NodeSpec, by_position: dict[int, Parameter]) -> NodeSpec:
    p = node.parameters
    if isinstance(p, Prior):
        probs = [by_position.get(j, q) for j, q in enumerate(p.probabilities)]
        if p.derived_last and len(probs) == 2:   # P(no) follows P(yes), as the loader builds it
            yes = node.states.index("yes") if "yes" in node.states else 0
            probs[1 - yes] = complement(probs[yes])
        return replace(node, parameters=replace(p, probabilities=tuple(probs)))
    if isinstance(p, NoisyOr):
        weights = tuple((parent, by_position.get(1 + j, w)) for j, (parent, w) in enumerate(p.weights))
        return replace(node, parameters=replace(p, leak=by_position.get(0, p.leak), weights=weights))
    assert isinstance(p, Table)  # noqa: S101 - the three kinds of the schema
    card = len(node.states)
    columns = tuple(replace(col, probabilities=tuple(by_position.get(c * card + j, q)
                                                     for j, q in enumerate(col.probabilities)))
                    for c, col in enumerate(p.columns))
    return replace(node, parameters=replace(p, columns=columns))


def _checked(name: object, max_iterations: object, tolerance: object, prior: object, seed: object,
             date: object) -> str:
    """Check the settings of :func:`learn`; the date to record (today when None)."""
    if not isinstance(name, str) or not name.strip():
        raise SettingError(f"name must be non-empty text naming the data set (it is recorded with every learned "
                           f"number), got {quote(name)}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise SettingError(f"max_iterations must be a whole number of at least 1, got {quote(max_iterations)}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance > 0 \
            or not math.isfinite(tolerance):
        raise SettingError(f"tolerance must be a positive number, got {quote(tolerance)}")
    if not isinstance(prior, bool):
        raise SettingError(f"prior must be True or False, got {quote(prior)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SettingError(f"seed must be a whole number, got {quote(seed)}")
    if date is None:
        return datetime.date.today().isoformat()
    if isinstance(date, str) and _DATE.fullmatch(date):
        try:
            return datetime.date.fromisoformat(date).isoformat()
        except ValueError:
            pass
    raise SettingError(f"date must be a date written YYYY-MM-DD, got {quote(date)}")


def learn(model: Model, frame: pandas.DataFrame, *, name: str, max_iterations: int = 200, tolerance: float = 1e-6,
          prior: bool = True, seed: int = 0, date: str | None = None, progress: bool | None = None) -> Learning:
    """Learn the model's numbers from cases by EM, the hand-set ranges read as priors (see the module docstring).

    ``frame``: one row a case, one column a node id; a value is a state
    name, True/False for a yes/no node, or missing. ``name`` names the data
    set in every learned number's record, with the number of cases and
    ``date`` (today when None). EM has converged when an iteration raises
    the objective by at most ``tolerance`` per case. ``prior=False`` gives maximum
    likelihood. ``seed`` is accepted for repeatability; nothing is drawn at
    random (EM starts from the hand-set numbers), so equal inputs give
    equal results. ``progress`` shows a bar with the iteration and the
    log-likelihood (None: in a terminal or notebook, for long runs).

    Raises TypeError when ``frame`` is not a DataFrame; UnknownNodeError for
    a column that is no node id; EvidenceError for a repeated column or a
    frame with nothing to learn from; InvalidStateError naming row, column
    and the valid states; ImpossibleEvidenceError naming the first row
    impossible under the model; SettingError for a bad setting;
    IntractableError when a family's missing members have too many
    configurations to enumerate.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> result = learn(model, sample(model, 200, seed=3), name="example", date="2024-05-01")
    >>> result.iterations > 1, result.log_likelihoods[-1] >= result.log_likelihoods[0]
    (True, True)
    """
    when = _checked(name, max_iterations, tolerance, prior, seed, date)
    net = model.network
    coded = code_frame(net, frame)
    spec = model.spec
    groups = _groups(spec)
    values = [flat_values(node) for node in spec.nodes]
    learned = sorted({g.node for g in groups})
    targets = [net.names[t] for t in net.targets]
    fams = families(net)
    current = net
    log_likelihoods: list[float] = []
    posterior: dict[int, np.ndarray] = {}
    rise = math.inf
    converged = False
    with Progress(max_iterations, enabled=progress, label="EM") as bar:
        for _ in range(max_iterations):
            counts = expected_counts(current, coded.codes, coded.weights, fams, model.memory_budget)
            if counts.impossible is not None:
                raise _impossible(net, coded.codes[counts.impossible], coded.first[counts.impossible])
            objective = counts.log_likelihood + (_log_prior(groups, values) if prior else 0.0)
            if log_likelihoods:
                rise = (objective - log_likelihoods[-1]) / coded.cases
            log_likelihoods.append(objective)
            values, posterior = _m_step(groups, values, counts.tables, current, prior)
            bar.label = f"EM log-likelihood {objective:,.6g}"
            bar.update(1)
            if rise <= tolerance:
                converged = True
                break
            numbers = spec_with_numbers(spec, {i: values[i] for i in learned})
            current = compile_network(numbers, targets, joint_limit=model.joint_limit,
                                      memory_budget=model.memory_budget)
    if not converged:
        warnings.warn(f"learning stopped after {max_iterations} iterations without converging: the log-likelihood "
                      f"still rose by {rise:.3g} per case in the last one (tolerance {tolerance:g}); pass a larger "
                      "max_iterations or tolerance", ConvergenceWarning, stacklevel=2)
    new_spec = _learned_spec(spec, groups, values, posterior, DataRecord(name, coded.cases, when))
    new = Model(new_spec, targets=targets, joint_limit=model.joint_limit, import_report=model.import_report,
                memory_budget=model.memory_budget)
    return Learning(new, len(log_likelihoods), tuple(log_likelihoods), converged, coded.cases)


def _impossible(net: CompiledNetwork, codes: np.ndarray, label: object) -> ImpossibleEvidenceError:
    """The error for a case with probability zero, naming its row."""
    err = ImpossibleEvidenceError((net.names[i], net.states[i][c]) for i, c in enumerate(codes.tolist()) if c >= 0)
    err.args = (f"row {quote(label)} of the cases cannot be learned from: {err}",)
    return err


def updated_with(model: Model, frame: pandas.DataFrame, *, name: str, max_iterations: int = 200,
                 tolerance: float = 1e-6, prior: bool = True, seed: int = 0, date: str | None = None,
                 progress: bool | None = None) -> Model:
    """The model learned from ``frame``: ``learn(...).model`` (the arguments are :func:`learn`'s).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> new = updated_with(model, sample(model, 100), name="example", date="2024-05-01")
    >>> new.parameters["poor_warmup.prior"].data[0].name
    'example'
    """
    return learn(model, frame, name=name, max_iterations=max_iterations, tolerance=tolerance, prior=prior,
                 seed=seed, date=date, progress=progress).model
