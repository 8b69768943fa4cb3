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
  the simplex) the posterior mean; a group whose prior has an alpha below
  1 (a range hugging 0 or 1) always takes its mean, since its density is
  unbounded at the boundary. With ``prior=False`` it is maximum
  likelihood, ``counts / total``;
* a noisy-OR stays a noisy-OR: EM runs over its hidden link activations.
  Given the family's posterior, link i (parent i present) fired with
  probability ``w_i / P(yes | parents)`` when the child is yes and never
  when it is no, so its successes are ``sum_u P(yes, u | case) w_i /
  P(yes | u)`` over the parent states u with parent i present, and its
  trials ``sum_u P(u | case)`` over the same u; the leak likewise, over
  every u, with one trial per case.

The objective is the log-likelihood of the cases (log P(observed values),
summed) plus, with ``prior=True``, the log prior density; a plain EM step
never lowers it while every group takes its mode (a group at its mean may
lower it a little). ``log_likelihoods[t]`` is
its value at the numbers of iteration t (the hand-set ones first). EM is
accelerated by stretching each step (adaptive over-relaxation, on the log
scale of each column or Beta: Salakhutdinov and Roweis, 2003): after each
accepted step the next goes 1.5 times further than plain EM would (up to
16 times); a stretched step that lowers the objective is dropped and the
plain step taken instead. ``accelerate=False`` gives plain EM. It stops
(``converged``) when an iteration moves the objective by at most
``tolerance`` per case, up or down (a drop is no convergence; the
result is then the M-step from that iteration's numbers), or after
``max_iterations`` with a :class:`ConvergenceWarning`.

Every learned number keeps its source and rationale; its range becomes the
central 90% interval of its posterior Beta (a Dirichlet's marginal; under
``prior=False`` the posterior of a flat prior) given the last E-step's
expected counts, widened where needed to hold the new value. Where the
cases hide the number's node or parents this counts expected counts as if
observed, so the range is narrower than the true uncertainty. It records
the data it saw
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImpossibleEvidenceError, IntractableError, SettingError, quote
from ..inference.posterior import target_joint
from ..model import Model
from ..modelfile.schema import DataRecord, NoisyOr
from ..network.compiled import CompiledNetwork, Component, compile_network
from ..network.table_gradient import table_gradient
from ..progress import Progress
from .checks import check_progress
from .draws import flat_values, spec_with_numbers
from .learning_counts import Counts, case_layout, counts
from .learning_frame import code_frame, sample
from .learning_parts import Encoder
from .learning_steps import extrapolated, groups, learned_spec, log_prior, m_step, partly_ranged
from .learning_sweep import fits

if TYPE_CHECKING:
    import pandas

__all__ = ["ConvergenceWarning", "Learning", "learn", "updated_with", "sample"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: Accelerated EM: after each accepted step the next one is stretched this much more, up to _MAX_STRETCH times.
_STRETCH = 1.5
_MAX_STRETCH = 16.0


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iterations`` before it converged; the message says how much the last iteration still gained.

    >>> import warnings, kneebayes
    >>> model = kneebayes.load_model()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = learn(model, sample(model, 50), name="short", max_iterations=1, date="2024-05-01")
    >>> result.converged, caught[0].category.__name__
    (False, 'ConvergenceWarning')
    """


class UnlearnedWarning(UserWarning):
    """Some numbers the cases inform are kept as written: their column mixes numbers with a range and without.

    A column's prior is a Dirichlet fitted to every cell's range, or a flat
    one where no cell has a range; a column with both has neither, so
    :func:`learn` keeps it and says which (its first number without a range).
    """


@dataclass(frozen=True)
class Learning:
    """What :func:`learn` found: the new model and how EM got there.

    ``iterations`` (steps taken), ``log_likelihoods`` one objective per
    iteration (non-decreasing while every group takes its mode: see the module docstring), whether it
    ``converged``, how many ``cases`` (rows of the frame) it learned from,
    and ``passes``: how many times the cases were read (an E-step each;
    with acceleration, a stretched step that went too far costs a pass but
    is no iteration).

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
    passes: int = 0


def _checked(name: object, max_iterations: object, tolerance: object, prior: object, date: object) -> str:
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
    if date is None:
        return datetime.date.today().isoformat()
    if isinstance(date, str) and _DATE.fullmatch(date):
        try:
            return datetime.date.fromisoformat(date).isoformat()
        except ValueError:
            pass
    raise SettingError(f"date must be a date written YYYY-MM-DD, got {quote(date)}")


def learn(model: Model, frame: pandas.DataFrame, *, name: str, max_iterations: int = 200, tolerance: float = 1e-6,
          prior: bool = True, date: str | None = None, progress: bool | None = None,
          accelerate: bool = True) -> Learning:
    """Learn the model's numbers from cases by EM, the hand-set ranges read as priors (see the module docstring).

    ``frame``: one row a case, one column a node id; a value is a state
    name, True/False for a yes/no node, or missing. ``name`` names the data
    set in every learned number's record, with the number of cases and
    ``date`` (today when None). EM has converged when an iteration raises
    the objective by at most ``tolerance`` per case. ``prior=False`` gives maximum
    likelihood. Nothing is drawn at random (EM starts from the hand-set
    numbers), so equal inputs give equal results, bit for bit. ``progress`` shows a bar with the iteration and the
    log-likelihood (None: in a terminal or notebook, for long runs).
    ``accelerate=False`` runs plain EM, one M-step per iteration (as
    textbooks and pgmpy do).

    Raises WrongTypeError when ``frame`` is not a DataFrame; UnknownNodeError for
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
    when = _checked(name, max_iterations, tolerance, prior, date)
    progress = check_progress(progress)
    if not isinstance(accelerate, bool):
        raise SettingError(f"accelerate must be True or False, got {quote(accelerate)}")
    spec = model.spec
    net = model.network
    targets = [net.names[t] for t in net.targets]
    coded = code_frame(net, frame)
    # Where some case hides a non-target and some part of the model's own network has no sweep that fits the
    # budget (LINK, ten targets enumerated: 1.3e8 entries a case), learning runs on the network with every
    # noisy-OR one table and no targets enumerated, whose sweep carries no target axes (LINK's then fits).
    # Elsewhere the model's own serves: its enumerated targets and split noisy-ORs keep the knee's paths
    # cheap (20,000 knee cases with 10% of answers missing: 1.3 s a pass on it, 4.3 on the other).
    split, joint_limit = True, model.joint_limit
    hides = not bool((coded.codes[:, _non_targets(net)] >= 0).all())
    if hides and not all(_sweepable(c, model.memory_budget) for c in net.components):
        found = _sweep_network(model, targets)
        if found is not None:
            (net, joint_limit), split = found, False
    learned = groups(spec)
    kept = partly_ranged(spec)
    if kept:
        shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        warnings.warn(f"{len(kept)} column(s) keep their numbers as written: some of their numbers have a range and "
                      f"others none ({shown} has none); give every number of a column a range, or none (a flat "
                      "prior), for it to be learned", UnlearnedWarning, stacklevel=2)
    nodes = sorted({g.node for g in learned})
    layout = case_layout(net, coded.codes, coded.weights, memory_budget=model.memory_budget)
    record = DataRecord(name, coded.cases, when)

    noisy = [i for i in nodes if isinstance(spec.nodes[i].parameters, NoisyOr)]
    plain = [i for i in nodes if not isinstance(spec.nodes[i].parameters, NoisyOr)]
    shapes = {i: tuple(net.cards[p] for p in net.parents[i]) + (net.cards[i],) for i in plain}

    def evaluate(numbers: list[np.ndarray]) -> tuple[Counts, float, CompiledNetwork]:
        """The expected counts at ``numbers``, the objective there, and the network they make."""
        # A prior's or table's numbers go in as its table; only noisy-ORs (whose split reads them) make a spec.
        current = net if numbers is start else compile_network(
            spec_with_numbers(spec, {i: numbers[i] for i in noisy}), targets, joint_limit=joint_limit,
            memory_budget=model.memory_budget, split_noisy_or=split, work_limit=model.work_limit,
            tables={i: _read_only(numbers[i].reshape(shapes[i])) for i in plain})
        found = counts(current, layout)
        if found.impossible is not None:
            if numbers is start:
                first = _first_impossible(net, coded.codes, found.impossible)
                raise _impossible(net, coded.codes[first], coded.first[first])
            return found, -math.inf, current   # a stretched step that rules a case out: dropped below
        return found, found.log_likelihood + (log_prior(learned, numbers) if prior else 0.0), current

    start = [flat_values(node) for node in spec.nodes]
    found, objective, current = evaluate(start)
    theta = start
    step, posterior = m_step(learned, theta, found.tables, current, prior)
    log_likelihoods = [objective]
    passes, factor, rise, converged, stopped = 1, 1.0, math.inf, False, ""
    with Progress(max_iterations, enabled=progress, label="EM") as bar:
        bar.label = f"EM log-likelihood {objective:,.6g}"
        bar.update(1)
        while len(log_likelihoods) < max_iterations:
            candidate = extrapolated(learned, theta, step, factor) if factor > 1.0 else step
            found, value, current = evaluate(candidate)
            passes += 1
            if not value >= objective and factor > 1.0:   # the stretched step went too far: take the plain one next
                factor = 1.0
                continue
            if value == -math.inf:   # exact EM never rules a case out: rounding did, so the last numbers stand
                stopped = (f"learning stopped after {len(log_likelihoods)} iterations: its next step ruled a case out "
                           "by rounding (numbers near the smallest float), so the numbers are those before it")
                step = theta   # the plain step that failed is the M-step's: keep what it started from
                break
            rise = (value - objective) / coded.cases
            theta, objective = candidate, value
            log_likelihoods.append(objective)
            step, posterior = m_step(learned, theta, found.tables, current, prior)
            factor = min(factor * _STRETCH, _MAX_STRETCH) if accelerate else 1.0
            bar.label = f"EM log-likelihood {objective:,.6g}"
            bar.update(1)
            if abs(rise) <= tolerance:   # a drop is no convergence: a group that took its mean lowers it
                converged = True
                break
    if not converged:
        warnings.warn(stopped or f"learning stopped after {max_iterations} iterations without converging: the "
                      f"objective still moved by {rise:.3g} per case in the last one (tolerance {tolerance:g}); pass "
                      "a larger max_iterations or tolerance", ConvergenceWarning, stacklevel=2)
    new = Model(learned_spec(spec, learned, step, posterior, record), targets=targets, joint_limit=model.joint_limit,
                import_report=model.import_report, memory_budget=model.memory_budget, work_limit=model.work_limit)
    return Learning(new, len(log_likelihoods), tuple(log_likelihoods), converged, coded.cases, passes)


def _read_only(table: np.ndarray) -> np.ndarray:
    table = np.array(table, dtype=float)   # its own copy: the step's numbers stay the caller's
    table.setflags(write=False)
    return table


def _sweep_network(model: Model, targets: list[str]) -> tuple[CompiledNetwork, int] | None:
    """The network learning sweeps, and its joint limit: every noisy-OR one table, no targets enumerated
    where that is no Quickscore network (else the model's own limit); None where neither fits the memory
    budget (a noisy-OR too wide for one table: the model's own network serves)."""
    for limit in (1, model.joint_limit):
        try:
            net = compile_network(model.spec, targets, joint_limit=limit, memory_budget=model.memory_budget,
                                  split_noisy_or=False, work_limit=model.work_limit)
        except IntractableError:
            continue
        if net.bipartite is None or limit == model.joint_limit:
            return net, limit
    return None


def _sweepable(comp: Component, budget: float) -> bool:
    plan = table_gradient(comp)
    return plan is not None and fits(plan, budget)


def _non_targets(net: CompiledNetwork) -> np.ndarray:
    keep = np.ones(len(net.names), dtype=bool)
    keep[list(net.enumerated)] = False
    return keep


def _first_impossible(net: CompiledNetwork, codes: np.ndarray, found: int) -> int:
    """The first of the distinct rows ``codes`` (in the frame's order of first occurrence) with probability zero:
    the counts stop at the first chunk holding one, and chunks go by pattern. ``found``: the one they met."""
    encoder = Encoder(net)
    for start in range(0, min(len(codes), found), _CHECK_ROWS):   # only the rows before it can come first
        log_evidence = target_joint(net, encoder.lam(codes[start : min(start + _CHECK_ROWS, found)])).log_evidence
        bad = np.flatnonzero(~np.isfinite(log_evidence))
        if bad.size:
            return start + int(bad[0])
    return found


#: Distinct rows per pass when looking for the first impossible one (an error's path only).
_CHECK_ROWS = 4096


def _impossible(net: CompiledNetwork, codes: np.ndarray, label: object) -> ImpossibleEvidenceError:
    """The error for a case with probability zero, naming its row."""
    err = ImpossibleEvidenceError((net.names[i], net.states[i][c]) for i, c in enumerate(codes.tolist()) if c >= 0)
    err.args = (f"row {quote(label)} of the cases cannot be learned from: {err}",)
    return err


def updated_with(model: Model, frame: pandas.DataFrame, *, name: str, max_iterations: int = 200,
                 tolerance: float = 1e-6, prior: bool = True, date: str | None = None,
                 progress: bool | None = None, accelerate: bool = True) -> Model:
    """The model learned from ``frame``: ``learn(...).model`` (the arguments are :func:`learn`'s).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> new = updated_with(model, sample(model, 100), name="example", date="2024-05-01")
    >>> new.parameters["poor_warmup.prior"].data[0].name
    'example'
    """
    return learn(model, frame, name=name, max_iterations=max_iterations, tolerance=tolerance, prior=prior,
                 date=date, progress=progress, accelerate=accelerate).model
