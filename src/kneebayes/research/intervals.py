"""Uncertainty from the ranges, as tables: posterior intervals, posterior draws, top-question stability.

Every number with a range may vary: a range is read as the central 90% of
a Beta (a Dirichlet for a full-table column; see
:mod:`kneebayes.research.ranges`), the numbers are drawn independently
(:mod:`kneebayes.research.draws`) and each draw's posterior is exact, all
draws at once (:mod:`kneebayes.research.draw_engine`). This module checks
the arguments, runs the draws in chunks with a progress bar, and returns
pandas DataFrames: :func:`posterior_intervals`, :func:`posterior_samples`
and :func:`top_question_stability` (which rebuilds a :class:`Model` per
draw).

Limits
------
``draws`` is an int from 1 to :data:`MAX_DRAWS` (10 million;
:func:`top_question_stability`, which rebuilds a model per draw, to
:data:`MAX_STABILITY_DRAWS`), and the draws of one call may need at most
:data:`DRAW_MEMORY` bytes (4 GiB, read at each call): every draw keeps the
model's varying numbers and its posteriors, so a model with many ranged
numbers allows fewer draws, and the error says how much memory the draws
asked for would need. ``seed`` is None or an int in ``[0, 2**128)``;
``mass`` a number in (0, 1). A wrong type raises WrongTypeError, a value out of
range SettingError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ImpossibleEvidenceError
from ..evidence import EvidenceLike, normalize, to_indices
from ..extras import require
from ..model import Model
from . import checks
from .checks import check_count, check_mass, check_progress, check_seed
from .draw_engine import TargetDraws
from .draws import Sampler, build_sampler, spec_with_numbers
from ..progress import Progress
from .ranges import RANGE_MASS, beta_for_range, dirichlet_for_ranges

# These lived here before the checks, the sampler and the draw engine had modules of their own;
# they stay importable from here (the ``as`` marks a re-export).
from .checks import SEED_BITS as SEED_BITS
from .checks import show as show
from .draw_engine import DrawPlan as DrawPlan
from .draws import flat_values as flat_values

if TYPE_CHECKING:
    import pandas

__all__ = [
    "DRAW_MEMORY",
    "MAX_DRAWS",
    "MAX_STABILITY_DRAWS",
    "RANGE_MASS",
    "beta_for_range",
    "dirichlet_for_ranges",
    "posterior_intervals",
    "posterior_samples",
    "top_question_stability",
]

#: The most draws :func:`posterior_intervals` and :func:`posterior_samples` take.
MAX_DRAWS = 10_000_000
#: The most draws :func:`top_question_stability` takes (it rebuilds a model per draw, tens of ms each).
MAX_STABILITY_DRAWS = 100_000
#: The most memory, in bytes, the draws of one call may need (4 GiB); read at each call.
DRAW_MEMORY = 4 << 30


def check_memory(count: int, per_item: int, name: str = "draws", what: str = "draw") -> None:
    """SettingError when ``count`` items of ``per_item`` bytes each would need more than :data:`DRAW_MEMORY`.

    >>> check_memory(1_000, 8)   # 8 KB: fine
    """
    checks.check_memory(count, per_item, limit=DRAW_MEMORY, limit_name="kneebayes.research.intervals.DRAW_MEMORY",
                        name=name, what=what)


def _sampler(model: Model) -> Sampler:
    return model.cached("intervals.sampler", lambda: build_sampler(model.spec))


def _check_draws(model: Model, draws: object, seed: object, progress: object, maximum: int = MAX_DRAWS,
                 limit_name: str = "kneebayes.research.intervals.MAX_DRAWS") -> tuple[int, int | None, Sampler]:
    """Checked draws and seed, and the model's sampler; SettingError when the draws would not fit DRAW_MEMORY."""
    n = check_count(draws, "draws", maximum, limit_name=limit_name)
    seed = check_seed(seed)
    check_progress(progress)
    sampler = _sampler(model)
    varying = sum(int(sampler.base[i].size) for i in sampler.sampled)
    net = model.network
    outputs = sum(net.cards[t] for t in net.targets)
    # per draw: the drawn numbers, the posteriors, and up to three copies of them (selection, filtering, quantiles)
    check_memory(n, 8 * (varying + 4 * outputs) + 8)
    return n, seed, sampler


@dataclass(frozen=True, eq=False)
class _Prepared:
    targets: TargetDraws
    evidence: dict[str, str]
    base: np.ndarray                      # the main engine's answer at the written values, per targets.labels


def _prepare(model: Model, evidence: EvidenceLike | None, sampler: Sampler) -> _Prepared:
    net = model.network
    ev = normalize(net, evidence, model.graded_answers)     # UnknownNodeError / InvalidStateError as everywhere
    dist = model.diagnose(ev).distributions   # ImpossibleEvidenceError when the written numbers rule it out
    targets = TargetDraws.build(model.spec, net, to_indices(net, ev), sampler.sampled, sampler.base)
    return _Prepared(targets, dict(ev), np.array([dist[t][s] for t, s in targets.labels]))


def _run_draws(model: Model, evidence: EvidenceLike | None, draws: int, seed: int | None,
               progress: bool | None) -> tuple[_Prepared, np.ndarray]:
    n, seed, sampler = _check_draws(model, draws, seed, progress)
    prepared = _prepare(model, evidence, sampler)
    numbers = sampler.draw(np.random.default_rng(seed), n)
    targets = prepared.targets
    chunk = targets.chunk_size
    result = np.empty((n, len(targets.labels)))
    with Progress(n, enabled=progress, label="posterior draws") as bar:
        for lo in range(0, n, chunk):
            hi = min(lo + chunk, n)
            result[lo:hi] = targets.posteriors({i: a[lo:hi] for i, a in numbers.items()}, hi - lo)
            bar.update(hi - lo)
    return prepared, result


def _pandas_and_scipy(feature: str) -> Any:
    """pandas, once scipy (for the Beta and Dirichlet fits) is known to be there too: one clear error up front."""
    require("scipy", "research", feature)
    return require("pandas", "research", feature)


def _index(targets: TargetDraws) -> Any:
    pd = require("pandas", "research", "a table of posterior draws")
    if targets.binary:
        return pd.Index([t for t, s in targets.labels if s == "yes"], name="cause")
    return pd.MultiIndex.from_tuples(targets.labels, names=["cause", "state"])


def _columns(targets: TargetDraws) -> np.ndarray:
    if targets.binary:
        return np.array([k for k, (_, s) in enumerate(targets.labels) if s == "yes"], dtype=np.intp)
    return np.arange(len(targets.labels))


def posterior_samples(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 10_000, seed: int | None = 0,
                      progress: bool | None = None) -> pandas.DataFrame:
    """Each cause's exact posterior under each of ``draws`` sampled models: one row per draw.

    The numbers are drawn as :func:`posterior_intervals` describes; the
    columns are the causes (P(yes)), or (cause, state) pairs for a model
    with multi-state targets. Same ``seed``, same draws. ``draws`` and
    ``seed`` are checked as there.

    >>> import kneebayes
    >>> samples = posterior_samples(kneebayes.load_model(), {"limping": "yes"}, draws=20, seed=1)
    >>> samples.shape[0], samples.index.name
    (20, 'draw')
    """
    pd = _pandas_and_scipy("posterior_samples")
    prepared, result = _run_draws(model, evidence, draws, seed, progress)
    targets = prepared.targets
    frame = pd.DataFrame(result[:, _columns(targets)], columns=_index(targets))
    frame.index.name = "draw"
    frame.attrs.update({"draws": int(draws), "seed": seed, "evidence": dict(prepared.evidence)})
    return frame


def posterior_intervals(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 10_000, seed: int | None = 0,
                        mass: float = 0.9, progress: bool | None = None) -> pandas.DataFrame:
    """Each cause's posterior mean and central credible interval when the numbers vary within their ranges.

    Every number with a range is drawn from a Beta (a Dirichlet for a
    full-table column) whose central 90% interval is that range (see
    :mod:`kneebayes.research.ranges`); numbers without a range stay fixed.
    Each draw's posterior is exact. Returns a DataFrame indexed by cause
    with columns ``mean``, ``low`` and ``high`` (the central ``mass``
    interval of the draws' posteriors: their ``(1 - mass) / 2`` and
    ``(1 + mass) / 2`` quantiles; where the draws are very skewed, as
    near 0 or 1, the mean may lie outside it); ``attrs`` holds ``mass``,
    ``draws``, ``seed``, ``evidence``, ``posterior`` (at the written
    numbers) and ``impossible_draws`` (draws under which the evidence had
    probability zero, left out). ``progress`` shows a bar on stderr (None:
    only in a terminal or notebook, for runs over half a second).

    ``draws`` is an int from 1 to :data:`MAX_DRAWS` whose draws fit in
    :data:`DRAW_MEMORY`; ``seed`` is None or an int in ``[0, 2**128)``;
    ``mass`` a number strictly between 0 and 1. A wrong type raises
    WrongTypeError, a value out of range SettingError (saying how much memory
    too many draws would need).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> table = model.posterior_intervals({"locking_or_catching": "yes"}, draws=500, seed=1)
    >>> bool((table["low"] < table["high"]).all())
    True
    """
    pd = _pandas_and_scipy("posterior_intervals")
    mass = check_mass(mass)
    prepared, result = _run_draws(model, evidence, draws, seed, progress)
    targets = prepared.targets
    cols = _columns(targets)
    values = result[:, cols]
    ok = ~np.isnan(values).any(axis=1)
    values = values[ok]
    if values.shape[0] == 0:
        raise ImpossibleEvidenceError(prepared.evidence.items())
    tail = (1.0 - mass) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail], axis=0)
    mean = values.mean(axis=0)
    frame = pd.DataFrame({"mean": mean, "low": low, "high": high}, index=_index(targets))
    frame.attrs.update({
        "mass": mass, "draws": int(draws), "seed": seed, "evidence": dict(prepared.evidence),
        "posterior": dict(zip(frame.index, prepared.base[cols].tolist())),
        "impossible_draws": int((~ok).sum()), "range_mass": RANGE_MASS,
    })
    return frame


def top_question_stability(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 200, seed: int | None = 0,
                           progress: bool | None = None) -> pandas.DataFrame:
    """How often each question is the top question when the numbers vary within their ranges.

    Draws models as :func:`posterior_intervals` does (same seed, same
    draws), rebuilds each one and takes ``diagnose(evidence).next_question``.
    Returns a DataFrame with columns ``question`` (None when nothing is
    left to ask), ``count`` and ``share``, most frequent first (ties by
    id); ``attrs["top"]`` is the top question at the written numbers.
    It rebuilds a model per draw, so ``draws`` is at most
    :data:`MAX_STABILITY_DRAWS`; otherwise checked as there.

    >>> import kneebayes
    >>> table = top_question_stability(kneebayes.load_model(), {"limping": "yes"}, draws=5, seed=1)
    >>> int(table["count"].sum())
    5
    """
    pd = _pandas_and_scipy("top_question_stability")
    n, seed, sampler = _check_draws(model, draws, seed, progress, MAX_STABILITY_DRAWS,
                                    "kneebayes.research.intervals.MAX_STABILITY_DRAWS")
    dx = model.diagnose(evidence)
    base_top = dx.next_question.id if dx.next_question is not None else None
    numbers = sampler.draw(np.random.default_rng(seed), n)
    counts: dict[str | None, int] = {}
    with Progress(n, enabled=progress, label="top question draws") as bar:
        for k in range(n):
            spec = spec_with_numbers(model.spec, {i: a[k] for i, a in numbers.items()})
            drawn = Model(spec, targets=model.causes, joint_limit=model.joint_limit, memory_budget=model.memory_budget,
                          work_limit=model.work_limit)
            bar.update(1)
            try:
                q = drawn.diagnose(dx.evidence, skipped=dx.skipped).next_question
            except ImpossibleEvidenceError:
                continue
            key = None if q is None else q.id
            counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    frame = pd.DataFrame({"question": [q for q, _ in rows], "count": [c for _, c in rows],
                          "share": [c / total for _, c in rows] if total else []})
    frame.attrs.update({"draws": n, "seed": seed, "evidence": dict(dx.evidence), "top": base_top,
                        "impossible_draws": n - total})
    return frame
