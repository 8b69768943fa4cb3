"""Diagnose many cases at once: a DataFrame of answers in, a DataFrame of posteriors out.

>>> import pandas as pd, kneebayes
>>> model = kneebayes.load_model()
>>> cases = pd.DataFrame({"locking_or_catching": ["yes", None, "no"], "tingling_or_numbness": [None, True, ""]})
>>> out = model.diagnose_frame(cases)
>>> list(out.columns[:2]), len(out)
(['hamstring_strain', 'popliteus_overload'], 3)
>>> bool(abs(out.loc[0, "meniscal_injury"] - model.diagnose({"locking_or_catching": "yes"}).posterior["meniscal_injury"]) < 1e-12)
True
>>> out["impossible"].tolist()
[False, False, False]
>>> pointed = model.diagnose_frame(cases, explain=True)
>>> pointed.loc[0, "explaining_cause"] == model.diagnose({"locking_or_catching": "yes"}).explaining_causes[0][0]
True

**Input.** One row per case; each column a node id, each cell the answer:

* a state name (``"yes"``/``"no"`` for the knee model, or any state of the
  node, such as CHILD's ``"Asy/Patch"``), exactly as ``model.diagnose``
  takes it;
* ``True``/``False`` for a yes/no node (as ``model.diagnose`` takes them);
* a number, matched against a state whose name is that number written out
  (``1`` and ``1.0`` match a state ``"1"``; a CSV of a network with
  numeric states reads back as numbers). A yes/no node has no state
  ``"1"``, so ``1``/``0`` are *invalid* there, not yes/no: in the knee
  model state 0 *is* "yes", and guessing which coding a 1 means would be
  silently wrong half the time;
* a soft answer: a :class:`~kneebayes.Likelihood`, or one of the model
  file's graded answers (``"probably"``, ``"not_sure"``,
  ``"probably_not"`` for the knee model) in a yes/no column, read as
  ``model.diagnose`` reads it (a row with one runs through the general
  engine, not the fast path);
* missing (``NaN``, ``None``, ``pd.NA`` or ``""``): not asked.

**Cases from a CSV file.** ``pandas.read_csv`` reads some state names as
something else before kneebayes sees them: ``"None"``, ``"NA"``, ``"N/A"``,
``"null"`` and ``"nan"`` become missing (CHILD's ``"None"``, Pathfinder's
``"NA"``: those answers would silently count as not asked), and a column of
``"TRUE"``/``"FALSE"`` (ALARM) or ``"True"``/``"False"`` becomes booleans,
which only a yes/no node takes. Read the states as written, with an empty
cell as the only missing answer::

    cases = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])

Anything else fails loudly: a column that is no node id raises
``UnknownNodeError`` with the nearest ids and the ``keep=`` that would
carry it through instead (see below); an invalid cell raises
``InvalidStateError`` naming the row (index label), the column, the value
and the valid states, and how many rows of that column are invalid. Besides
a pandas DataFrame, a list of ``{node id: answer}`` dicts (one per case)
and a dict of equally long columns (lists, arrays or Series) are accepted
and go through ``pandas.DataFrame`` first; a Dask DataFrame gives a lazy Dask
DataFrame, partition by partition (:mod:`kneebayes.dask`); anything else (None, a string, a
number, a dict of single answers) raises WrongTypeError naming its type, and
``triage``, ``next_question`` and ``explain`` must be True or False
(WrongTypeError otherwise).

**Columns that are not answers.** A patient id, a visit date or a cohort
label rides along with ``keep=``: one column name, or a list of them.
Each kept column is copied unchanged, values and dtype, into the result,
row for row in the frame's order and with its index, before the computed
columns and in ``keep``'s order; it takes no part in the diagnosis (and
no part in the search for identical rows). ``keep`` works the same for a
DataFrame, a list of dicts and a dict of columns.

>>> visits = pd.DataFrame({"patient_id": ["a1", "b2", "c3"], "visit": pd.to_datetime(["2024-05-01"] * 3),
...                        "limping": ["yes", "no", None]}, index=[7, 8, 9])
>>> kept = model.diagnose_frame(visits, keep=["patient_id", "visit"], triage=True)
>>> list(kept.columns[:3]), list(kept.index), kept["visit"].dtype == visits["visit"].dtype
(['patient_id', 'visit', 'hamstring_strain'], [7, 8, 9], True)
>>> kept["triage"].tolist()
['see_doctor', 'incomplete', 'incomplete']

A column that is neither a node id nor kept is still refused, and the
message names the ``keep=`` to pass. A kept name must be a column of the
frame (``UnknownNodeError`` with the nearest column names otherwise), must
not be a node id (that column is an answer: copy it under another name to
keep it too), must appear once, and must not have the name of a column
the result adds (the causes, ``triage`` and the rest below, as the flags
in use add them): each of these raises ``EvidenceError`` saying which.

**Output.** A DataFrame with the frame's index, in this column order:

* the kept columns, if any (see above);
* one column per cause with P(cause = yes | row), in ``model.causes``
  order; for a model with targets other than yes/no, one column
  ``"target=state"`` per target and state (as ``Diagnosis.distributions``);
* ``evidence_probability`` (P(row's answers)), ``log_evidence_probability``
  (exact where P underflows on big networks) and ``impossible``;
* with ``triage=True``: ``triage``, the level ``dx.triage.level`` gives
  (``"see_doctor"``: a red flag answered yes or an escalation;
  ``"self_care"``: every warning-sign question answered with its all-clear
  state and nothing escalates; ``"incomplete"``: no warning sign, but some
  warning-sign question is not answered in that row; ``"not_assessed"``:
  the model has no red flags and no escalations), and ``reasons``, a tuple
  of the reasons' trigger ids, as ``tuple(r.trigger for r in
  dx.triage.reasons)`` (the red flags and escalations that fired, else
  ``("no_warning_sign",)``, ``("screen_incomplete",)`` or
  ``("no_triage_rules",)``). The level comes from
  :func:`kneebayes.triage.warning_signs`, the rules the Diagnosis uses, on
  each row's own answers: like ``model.diagnose``, the batch assumes nothing
  about a question a row leaves open;
* with ``next_question=True``: ``next_question`` (the id of
  ``dx.next_question``, or None when nothing is left to ask);
* with ``explain=True``: ``explaining_cause`` (the cause the answers point
  to most, ``dx.explaining_causes[0][0]``) and ``bayes_factor`` (its Bayes
  factor, ``dx.explaining_causes[0][1]``); for a model with targets other
  than yes/no, also ``explaining_state`` between them (which state of the
  target, ``dx.explaining_states``). The rule is Diagnosis's, from the same
  function (:mod:`kneebayes.inference.evidence_weight`): each target by its
  leading abnormal state, the largest Bayes factor first, ties by posterior,
  then id. None (and NaN) when the model has no targets.

**Impossible rows.** A row whose answers have probability zero has no
posterior (``model.diagnose`` raises ``ImpossibleEvidenceError``). Here the
row is kept: ``impossible`` is True, every posterior is NaN,
``evidence_probability`` is 0.0, ``triage``, ``reasons``,
``next_question``, ``explaining_cause`` and ``explaining_state`` are None
and ``bayes_factor`` is NaN. Nothing is silently wrong, and one bad row does
not cost the other 199,999. Filter with ``out[~out.impossible]``.

**How it runs.** No Python loop over rows: each column is mapped to state
codes with ``pandas.factorize`` (a loop over the column's *distinct* values
only; a column of arrow strings is matched against the states on its arrow buffers), identical rows are diagnosed once (where a sample of the rows
shows enough of them to pay for the search), and the distinct rows run in
chunks of ``CHUNK`` rows, on up to ``WORKERS`` threads (numpy releases the
GIL in its kernels), through the same fast path as ``model.diagnose``
(:mod:`kneebayes.inference.fast`, ``FAST_CHUNK`` rows a call; its parts
regrouped once per frame for the frame's columns, ``rows_plan``) where the
network has one, else through the batched engine (``target_joint``); the
rows the fast path leaves to the general engine run together at the end.
Small chunks stay in the CPU cache (on the knee model chunks of 1,024 rows
ran about 3x faster than chunks of 50,000), and memory stays linear in the
rows. Posteriors agree with ``model.diagnose`` row by row to 1e-12.
Triage is vectorised too. The next question is vectorised over each chunk
with the Diagnosis's own functions (the gains of
``inference.gain.expected_information_gains`` and the ranking and stopping
rules of ``questions.decide``, for every askable node at once); the rare
rows where two questions' scores, or a number and its threshold, lie within
1e-9 are redone with ``model.diagnose``, where rounding that differs
between a batch and a single row could tip the choice. It costs far more
than the posterior: every row runs a clamped copy of the network for each
state of each askable node (knee model, 2 cores: about 6,000 rows a second
against 200,000 and more without it; a loop of ``dx.next_question``
manages about 3,000). Rows go in passes of at most 64, fewer where their
candidates' joints with the targets are wide (8 MiB a pass); a component's
clamps run row by row where the rows differ in what is open, and a large
one's (from ``ROW_PRUNE_WORK`` a row) always, each row on its own paths:
on ALARM, HEPAR II and Win95pts with ten targets a frame is as fast as a
loop of single diagnoses, where it was 2-4 times slower. On a network
whose targets' joint is too large to enumerate, the gains are the sum of
the targets' own gains, one row at a time, as the Diagnosis computes them.
The explaining cause is vectorised over the distinct rows (one matrix
product, a division and a sort of the candidates per row); rows whose best
two candidates' factors agree within a relative 1e-6 (no evidence, or
answers that bear on none of the leaders) are redone with
``model.diagnose``, so that a tie is always broken as the Diagnosis breaks
it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .cells import MISSING, column_codes, distinct_rows, invalid_cell
from .errors import EvidenceError, KneeBayesError, UnknownNodeError, WrongTypeError, nearest, quote
from .extras import require
from .inference.evidence_weight import explaining_order, weigh
from .inference.fast import rows_marginals, rows_plan
from .inference.gain import expected_information_gains
from .inference.node_joints import marginals
from .inference.posterior import TargetJoint, rows_apart, target_joint
from .likelihood import Likelihood
from .modelfile.schema import RedFlag
from .questions import decide, question_candidates
from .triage import QUIET_TRIGGER, SEE_DOCTOR, CodedAnswers, has_triage_rules, levels, warning_signs

if TYPE_CHECKING:
    from collections.abc import Hashable

    import pandas as pd

    from .model import Model
    from .network.compiled import CompiledNetwork

__all__ = ["diagnose_frame", "CHUNK", "NEAR"]

#: Rows per engine call: small enough to stay in cache (faster than 50,000, measured) and bound memory.
CHUNK = 1024
#: Rows per fast-path call (inference.fast): 512 to 1,024 run about 10% faster a row than 256 (fewer calls), measured.
FAST_CHUNK = 1024
#: Rows sampled to judge whether looking for identical rows pays (see ``_distinct``).
DISTINCT_SAMPLE = 16384
#: Estimated share of repeated rows below which the fast path's rows are not searched for repeats (without
#: triage and next_question): the search costs about 0.2 us a row (key, hash, gathers), a row spared about 0.5 us
#: (knee, 200k rows, measured). Every other way a row costs microseconds, and rows are always searched.
DISTINCT_PAYS = 0.4
#: Rows per general-engine call for the rows the fast path leaves (as fast a row as larger calls, measured).
GENERAL_CHUNK = 256
#: Rows per next-question pass (each row runs a clamped copy of the network per askable state), at most: fewer
#: where a row's joints of the candidates with the targets pass ``NEXT_ROW_ENTRIES`` / this many entries.
NEXT_CHUNK = 64
#: The most entries (8 MiB) of the candidates' joints with the targets one next-question pass holds: ALARM with
#: ten targets (2,304 joint states, 341k entries a row) ran 64 rows in one 170 MB stack, its entropies alone
#: 2.3 ms a row where a row alone takes 0.4 ms.
NEXT_ROW_ENTRIES = 1 << 20
#: Threads over the chunks (numpy releases the GIL in its kernels); 1 runs everything in the caller's thread.
WORKERS = min(2, os.cpu_count() or 1)

_TOL = 1e-9          # a tie or threshold this close is redone with model.diagnose
#: Explaining causes whose log Bayes factors are this close are redone with ``model.diagnose`` (a tie).
NEAR = 1e-6
_EXTRA = ("evidence_probability", "log_evidence_probability", "impossible", "triage", "reasons", "next_question",
          "explaining_cause", "explaining_state", "bayes_factor")


def diagnose_frame(model: Model, frame: Any, *, triage: bool = False, next_question: bool = False,
                   explain: bool = False, keep: str | Sequence[Hashable] = ()) -> pd.DataFrame:
    """One row per case in, one row of posteriors out (see the module docstring for every rule).

    ``triage``, ``next_question`` and ``explain`` add the columns the
    module docstring lists, each equal to the single Diagnosis's answer.
    ``keep`` names columns that are not answers (a patient id, a date, a
    cohort label): a column name or a list of them, copied unchanged
    (values and dtype) into the result, first and in ``keep``'s order.

    Raises UnknownNodeError for a column that is no node id and not kept
    (its message says how to keep it) or a kept name the frame does not
    have; EvidenceError for a kept column that is a node id or that has the
    name of an output column; InvalidStateError (naming row, column and
    value) for a cell that is not a state of its node. Rows with impossible
    answers come back flagged in the ``impossible`` column with NaN
    posteriors.

    >>> import pandas as pd, kneebayes
    >>> model = kneebayes.load_model()
    >>> visits = pd.DataFrame({"patient_id": ["p7", "p9"], "limping": ["yes", None]}, index=[10, 11])
    >>> out = model.diagnose_frame(visits, keep="patient_id", triage=True)
    >>> out[["patient_id", "triage"]]
       patient_id      triage
    10         p7  see_doctor
    11         p9  incomplete
    >>> model.diagnose_frame(visits)
    Traceback (most recent call last):
    ...
    kneebayes.errors.UnknownNodeError: unknown column 'patient_id'; to carry it through to the result, pass keep=['patient_id']
    """
    for flag, value in (("triage", triage), ("next_question", next_question), ("explain", explain)):
        if not isinstance(value, (bool, np.bool_)):
            raise WrongTypeError(f"{flag} must be True or False, got {type(value).__name__} {quote(value)}")
    if type(frame).__module__.startswith("dask."):   # a Dask DataFrame: dask is loaded already, so it costs nothing
        from .dask import diagnose_frame as diagnose_dask

        return diagnose_dask(model, frame, triage=triage, next_question=next_question, explain=explain, keep=keep)
    frame = _as_frame(frame)
    pd = _pandas()
    kept_names = _keep_names(keep)

    net = model.network
    out_names = _output_names(model)
    for name in out_names:
        if name in _EXTRA:
            raise KneeBayesError(f"the model's target column {quote(name)} clashes with an output column of diagnose_frame")
    frame, kept = _split_kept(net, frame, kept_names)
    produced = set(out_names) | set(_added_columns(model, triage, next_question, explain))
    for name in kept_names:
        if name in produced:
            raise EvidenceError(f"kept column {quote(name)} has the name of a column diagnose_frame adds; rename it "
                                f"before keeping it (for example frame.rename(columns={{{quote(name)}: ...}}))")

    cols, codes = _encode(net, frame, kept_names, model.graded_answers)      # the columns, (N, n_cols) codes
    nodes = cols.nodes
    n_rows = len(frame)
    # Identical rows are looked for always where a row costs much (the general engine, triage, the next question),
    # and on the fast path only where a sample says enough of them repeat; inverse None: every row is its own.
    cheap = not (triage or next_question) and model.fast_plan is not None and model.targets.matrix is not None
    unique_codes, inverse = _distinct(codes, cols.widths, DISTINCT_PAYS if cheap else 0.0)
    n_unique = unique_codes.shape[0]

    width = len(out_names)
    values = np.empty((n_unique, width), order="F")   # by column: the result gathers each column whole
    log_e = np.empty(n_unique)
    encoder = _Encoder(net, cols)
    soft_rows = cols.soft_rows(unique_codes)   # the fast path takes states only: these rows take the general engine
    targets_in = np.array([k for k, i in enumerate(nodes) if i in set(net.targets)], dtype=np.intp)
    targets = model.targets
    yes = targets.yes_positions
    matrix = targets.matrix
    want_next = next_question
    one_at_a_time = rows_apart(net)
    next_rows = _next_rows(model) if next_question else NEXT_CHUNK
    nq = np.empty(n_unique, dtype=object) if next_question else None
    redo_next = np.zeros(n_unique, dtype=bool)
    full_marg = np.empty((n_unique, targets.width)) if explain else None

    # The fast path (inference.fast) gives the posteriors; the next question needs the general engine's parts.
    # the marginals the result needs: the causes' "yes" alone, unless explain wants every state
    wanted = matrix if matrix is None or yes is None or full_marg is not None else matrix[:, yes]
    plan = None if want_next or model.fast_plan is None or wanted is None else \
        rows_plan(model.fast_plan, nodes, wanted)
    # the fast path takes states only: a soft answer is read as not asked there, and its row redone
    hard = unique_codes if not any(cols.soft) else np.where(unique_codes < cols.cards, unique_codes, MISSING)

    def _fast_rows(start: int, chunk: np.ndarray) -> None:
        rows = slice(start, start + len(chunk))
        assert plan is not None  # noqa: S101
        found = rows_marginals(plan, chunk)
        log_e[rows] = found.log_evidence
        marg = found.marginals   # capped at 1 below, all rows at once
        if full_marg is not None:
            full_marg[rows] = marg
            marg = marg if yes is None else marg[:, yes]
        values[rows] = marg
        left = ~found.ok | soft_rows[rows]
        if left.any():   # rows the fast path leaves to the general engine, run together at the end
            leftover.append(start + np.flatnonzero(left))

    def _store(rows: slice | np.ndarray, joint: np.ndarray) -> None:
        assert matrix is not None  # noqa: S101
        marg = joint @ matrix
        np.clip(marg, 0.0, 1.0, out=marg)   # as Model.diagnose forms them
        values[rows] = marg if yes is None else marg[:, yes]
        if full_marg is not None:
            full_marg[rows] = marg

    def _general_rows(which: np.ndarray) -> None:
        part = unique_codes[which]
        observed = bool(targets_in.size) and bool((part[:, targets_in] >= 0).any())
        tj = target_joint(net, encoder.lam(part), targets_observed=observed)
        log_e[which] = tj.log_evidence
        _store(which, tj.joint)

    def run(start: int) -> None:
        rows = slice(start, min(start + CHUNK, n_unique))
        if plan is not None:
            chunk = hard[rows]
            for a in range(0, len(chunk), FAST_CHUNK):
                _fast_rows(start + a, chunk[a : a + FAST_CHUNK])
            return
        chunk = unique_codes[rows]
        lam = encoder.lam(chunk)
        observed_targets = bool(targets_in.size) and bool((chunk[:, targets_in] >= 0).any())
        tj: TargetJoint | None = None
        if matrix is not None:
            tj = target_joint(net, lam, targets_observed=observed_targets)
            marg = np.clip(tj.joint @ matrix, 0.0, 1.0)   # as Model.diagnose forms them
            log_e[rows] = tj.log_evidence
        elif one_at_a_time:
            # Each row's targets' marginals straight after its value, as a single diagnosis asks them: a large
            # component's collect pass is kept for one row at a time, so all the values first and the marginals
            # after ran each row's pass twice (WATER: 7.0 against 4.8 ms a row for a loop of diagnoses).
            found = []
            for r in range(len(chunk)):
                one = target_joint(net, lam[r : r + 1], targets_observed=observed_targets)
                found.append(_target_marginals(net, lam[r : r + 1], one))
                log_e[start + r] = one.log_evidence[0]
            marg = np.concatenate(found)
        else:
            tj = target_joint(net, lam, targets_observed=observed_targets)
            marg = _target_marginals(net, lam, tj)
            log_e[rows] = tj.log_evidence
        values[rows] = marg if yes is None else marg[:, yes]
        if full_marg is not None:
            full_marg[rows] = marg
        if want_next:   # smaller pieces: each row runs every askable node's clamps, which is wide
            if tj is None:
                tj = target_joint(net, lam, targets_observed=observed_targets)
            for a in range(0, len(chunk), next_rows):
                part = slice(a, a + next_rows)
                found, redo = _next_questions(model, cols, chunk[part], lam[part], tj.take(part), marg[part])
                nq[start + a : start + a + len(found)] = found
                redo_next[start + a : start + a + len(found)] = redo

    leftover: list[np.ndarray] = []   # list.append is atomic: the worker threads may share it
    starts = range(0, n_unique, CHUNK)
    workers = min(WORKERS, len(starts))
    if workers > 1:
        # numpy releases the GIL inside its kernels; each chunk writes its own rows.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
            list(pool.map(_general_rows, _pieces(leftover)))   # the rows left to the general engine, shared out too
    else:
        for start in starts:
            run(start)
        for piece in _pieces(leftover):
            _general_rows(piece)
    if plan is not None:   # the fast path's marginals capped at 1, as Model.diagnose caps them (never negative)
        np.minimum(values, 1.0, out=values)
        if full_marg is not None:
            np.minimum(full_marg, 1.0, out=full_marg)
    impossible = log_e == -np.inf
    values[impossible] = np.nan

    def spread(per_distinct: np.ndarray) -> np.ndarray:   # per distinct row -> per row
        return per_distinct if inverse is None else per_distinct.take(inverse, axis=0)

    columns: dict[str, Any] = {name: spread(values[:, j]) for j, name in enumerate(out_names)}
    columns["evidence_probability"] = spread(np.exp(log_e))
    columns["log_evidence_probability"] = spread(log_e)
    columns["impossible"] = spread(impossible)
    # Object columns stay object (pandas 3 would turn None into NaN in a string column).
    if triage:
        level, reasons = _triage(model, cols, unique_codes, values, impossible)
        columns["triage"] = pd.Series(spread(level), dtype=object)
        columns["reasons"] = pd.Series(spread(reasons), dtype=object)
    if next_question:
        assert nq is not None  # noqa: S101
        for u in np.flatnonzero(redo_next & ~impossible):
            q = model.diagnose(cols.evidence(unique_codes[u])).next_question
            nq[u] = None if q is None else q.id
        nq[impossible] = None
        columns["next_question"] = pd.Series(spread(nq), dtype=object)
    if explain:
        assert full_marg is not None  # noqa: S101
        cause, state, factor = _explaining(model, cols, unique_codes, full_marg, impossible)
        columns["explaining_cause"] = pd.Series(spread(cause), dtype=object)
        if yes is None:
            columns["explaining_state"] = pd.Series(spread(state), dtype=object)
        columns["bayes_factor"] = spread(factor)
    result = pd.DataFrame(columns, index=pd.RangeIndex(n_rows))
    if kept is not None:   # joined on positions, so that duplicate index labels cannot misalign a row
        result = pd.concat([kept.set_axis(result.index, axis=0), result], axis=1)
    result.index = frame.index
    return result


def _distinct(codes: np.ndarray, widths: list[int], pays: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The distinct rows and which one each row is (``cells.distinct_rows``); or the rows themselves and None
    where a sample of them shows too few repeats for finding them to pay.

    A seeded random sample of ``DISTINCT_SAMPLE`` rows estimates how many
    distinct rows the frame has (Chao's estimate of the values a sample
    has not seen, for a sample drawn without replacement from a finite
    frame: from the values seen once and twice); rows are left as they are
    where fewer than ``pays`` of them would be spared (0: never). The
    estimate leans high (knee frames: 0.18 for 7% repeated rows, 0.35 for
    16%, 0.55 for every row twice), so a search that pays is not skipped.
    """
    n = len(codes)
    if pays > 0.0 and n > 2 * DISTINCT_SAMPLE:
        m = DISTINCT_SAMPLE
        sample = codes[np.sort(np.random.default_rng(0).choice(n, m, replace=False))]
        counts = np.bincount(distinct_rows(sample, widths)[1])
        once, twice = int((counts == 1).sum()), int((counts == 2).sum())
        unseen = once * once / (n / (n - 1) * 2 * twice + m / (n - m) * once) if once else 0.0
        if 1.0 - min(n, len(counts) + unseen) / n < pays:
            return codes, None
    return distinct_rows(codes, widths)


def _pieces(leftover: list[np.ndarray]) -> list[np.ndarray]:
    """The rows left to the general engine, in row order, in pieces of ``GENERAL_CHUNK``: the same pieces whatever
    the threads (each piece's numbers are then the same to the bit), and enough of them to share out."""
    if not leftover:
        return []
    rows = np.sort(np.concatenate(leftover))
    return [rows[a : a + GENERAL_CHUNK] for a in range(0, len(rows), GENERAL_CHUNK)]


# -- encoding -----------------------------------------------------------------------------

def _pandas() -> Any:
    """pandas, or MissingExtraError naming the extra that installs it (``research``)."""
    return require("pandas", feature="diagnose_frame")


def _added_columns(model: Model, triage: bool, next_question: bool, explain: bool) -> list[str]:
    """The columns diagnose_frame adds after the posteriors, in their order."""
    names = ["evidence_probability", "log_evidence_probability", "impossible"]
    if triage:
        names += ["triage", "reasons"]
    if next_question:
        names.append("next_question")
    if explain:
        names += ["explaining_cause", "bayes_factor"] if model.targets.binary else \
            ["explaining_cause", "explaining_state", "bayes_factor"]
    return names


_KEEP_HELP = "keep must be a column name or a list of column names"
#: How many other unknown columns an unknown-column message looks at for its ``keep=`` hint.
_HINT_SCAN = 20


def _keep_names(keep: Any) -> list[Hashable]:
    """``keep`` as a list of distinct column labels; WrongTypeError for anything that names no columns."""
    pd = _pandas()
    if keep is None:
        return []
    if isinstance(keep, str):
        return [keep]
    if not isinstance(keep, (list, tuple, pd.Index)) and not (isinstance(keep, np.ndarray) and keep.ndim == 1):
        raise WrongTypeError(f"{_KEEP_HELP}, got {type(keep).__name__} {quote(keep)}")
    names: dict[Hashable, None] = {}     # a dict: ordered, and a long keep costs no quadratic search
    for k, name in enumerate(keep):
        name = name.item() if isinstance(name, np.generic) else name
        try:
            hash(name)
        except TypeError:
            raise WrongTypeError(f"{_KEEP_HELP}; item {k} of keep is {type(name).__name__} {quote(name)}") from None
        if name in names:
            raise EvidenceError(f"keep names column {quote(name)} twice; name each column once")
        names[name] = None
    return list(names)


def _split_kept(net: CompiledNetwork, frame: pd.DataFrame,
                names: list[Hashable]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The frame without the kept columns, and the kept columns in ``names``' order (None when nothing is kept)."""
    if not names:
        return frame, None
    columns = list(frame.columns)
    where: dict[Hashable, list[int]] = {}
    for k, c in enumerate(columns):
        where.setdefault(c, []).append(k)
    positions = []
    for name in names:
        if isinstance(name, str) and name in net.index:
            raise EvidenceError(f"kept column {quote(name)} is a node id of the model, so it is read as an answer and "
                                "cannot also be kept; to keep its answers beside the result, copy it under another "
                                "name and keep that")
        found = where.get(name, [])
        if not found:
            raise UnknownNodeError(name, [c for c in columns if isinstance(c, str)], what="column",
                                   context=" in keep: the frame has no such column")
        if len(found) > 1:
            raise EvidenceError(f"kept column {quote(name)} appears more than once in the frame; keep one copy")
        positions.append(found[0])
    taken = set(positions)
    return frame.iloc[:, [k for k in range(len(columns)) if k not in taken]], frame.iloc[:, positions]


_FRAME_HELP = ("diagnose_frame needs a pandas DataFrame (one row per case, one column per node id), a list of "
               "{node id: answer} dicts, or a dict of equally long columns")
_COLUMN_TYPES = (list, tuple, np.ndarray)


def _as_frame(frame: Any) -> pd.DataFrame:
    """``frame`` itself, or a list of dicts / a dict of columns as a DataFrame; WrongTypeError for anything else."""
    pd = _pandas()

    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, (list, tuple)):
        for k, row in enumerate(frame):
            if not isinstance(row, Mapping):
                raise WrongTypeError(f"{_FRAME_HELP}; item {k} of the {type(frame).__name__} is "
                                f"{type(row).__name__} {quote(row)}, not a dict")
        return pd.DataFrame(list(frame))
    if isinstance(frame, Mapping):
        lengths = {}
        for col, values in frame.items():
            if not isinstance(values, (_COLUMN_TYPES, pd.Series)):
                raise WrongTypeError(f"{_FRAME_HELP}; column {quote(col)} of the dict is {type(values).__name__} "
                                f"{quote(values)}, not a list (for one case, pass [{{...}}] or use model.diagnose)")
            if isinstance(values, np.ndarray) and values.ndim != 1:
                raise WrongTypeError(f"{_FRAME_HELP}; column {quote(col)} of the dict is a "
                                     f"{values.ndim}-dimensional array")
            lengths.setdefault(len(values), col)
        if len(lengths) > 1:
            (n1, c1), (n2, c2) = list(lengths.items())[:2]
            raise EvidenceError(f"the columns of a dict of columns must be equally long: column {quote(c1)} has {n1:,} "
                                f"answers, column {quote(c2)} {n2:,}")
        if any(isinstance(v, pd.Series) for v in frame.values()):   # aligned on their index, as pandas does
            return pd.DataFrame(dict(frame))
        return pd.DataFrame({k: list(v) if isinstance(v, tuple) else v for k, v in frame.items()})
    shown = f" {quote(frame)}" if frame is None or isinstance(frame, (str, bytes, int, float)) else ""
    raise WrongTypeError(f"{_FRAME_HELP}, got {type(frame).__name__}{shown}")


def _output_names(model: Model) -> list[str]:
    return list(model.targets.output_names)


@dataclass(frozen=True, eq=False)
class _Columns:
    """The answer columns: each one's node, its number of states, and the distinct soft answers it holds.

    A cell's code is its state's index, -1 where not asked, or ``cards[k] + j``
    for the column's ``j``-th soft answer (``soft[k][j]``, a Likelihood).
    """

    net: CompiledNetwork
    nodes: np.ndarray                        # (columns,) node index
    cards: np.ndarray                        # (columns,) the node's number of states
    soft: tuple[tuple[Likelihood, ...], ...]

    @property
    def widths(self) -> list[int]:
        """How many codes (besides -1) each column uses."""
        return [int(c) + len(s) for c, s in zip(self.cards, self.soft)]

    def firm(self, codes: np.ndarray) -> np.ndarray:
        """Which cells hold a hard answer, (rows, columns)."""
        return (codes >= 0) & (codes < self.cards)

    def soft_rows(self, codes: np.ndarray) -> np.ndarray:
        """Which rows hold a soft answer, (rows,)."""
        if not codes.size or not any(self.soft):
            return np.zeros(len(codes), dtype=bool)
        return (codes >= self.cards).any(axis=1)

    def answers(self, k: int) -> np.ndarray:
        """Column ``k``'s answer per code, an object array: states, soft answers, then None (code -1)."""
        states = self.net.states[int(self.nodes[k])]
        out = np.empty(len(states) + len(self.soft[k]) + 1, dtype=object)
        for j, value in enumerate([*states, *self.soft[k]]):   # one by one: numpy would unpack a Likelihood
            out[j] = value
        out[-1] = None
        return out

    def evidence(self, row: np.ndarray) -> dict[str, str | Likelihood]:
        """One row's codes as the evidence ``model.diagnose`` takes."""
        out: dict[str, str | Likelihood] = {}
        for k, (i, c) in enumerate(zip(self.nodes.tolist(), row.tolist())):
            if c >= 0:
                card = int(self.cards[k])
                out[self.net.names[i]] = self.net.states[i][c] if c < card else self.soft[k][c - card]
        return out


def _encode(net: CompiledNetwork, frame: pd.DataFrame, kept: Sequence[Hashable] = (),
            graded: Mapping[str, Likelihood] | None = None) -> tuple[_Columns, np.ndarray]:
    """The columns and the codes, (rows, columns): -1 where not asked (see ``_Columns``)."""
    columns = list(frame.columns)
    seen: set[Any] = set()
    nodes = []
    for pos, col in enumerate(columns):
        i = net.index.get(col) if isinstance(col, str) else None
        if i is None:
            raise _unknown_column(net, pos, columns, kept)
        if col in seen:
            raise EvidenceError(f"column {quote(col)} appears more than once; a case gives each node one answer")
        seen.add(col)
        nodes.append(i)
    dtype = np.int8 if max(net.cards, default=0) < 127 else np.int32
    codes = np.empty((len(frame), len(columns)), dtype=dtype, order="F")   # filled, and keyed, column by column
    softs: list[tuple[Likelihood, ...]] = []
    for k, ((col, series), i) in enumerate(zip(frame.items(), nodes)):   # items(): a third of iloc's cost a column
        try:
            column, soft = column_codes(series, net, i, graded)
        except EvidenceError as exc:   # a bad soft answer (a Likelihood that misses a state, ...)
            raise EvidenceError(f"column {quote(col)}: {exc}") from None
        softs.append(soft)
        if codes.dtype == np.int8 and column.size and column.max() > 126:   # many distinct soft answers
            codes = codes.astype(np.int32, order="F")
        codes[:, k] = column
        err = invalid_cell(frame, k, column, net.states[i], tuple(graded or ()))
        if err is not None:
            raise err
    index = np.array(nodes, dtype=np.intp)
    cards = np.array([net.cards[i] for i in nodes], dtype=np.int64)
    return _Columns(net, index, cards, tuple(softs)), codes


def _unknown_column(net: CompiledNetwork, pos: int, columns: list[Any], kept: Sequence[Hashable]) -> UnknownNodeError:
    """A column that is no node id: the nearest ids, and the ``keep`` that would carry it (and its like) through.

    The ``keep`` offered lists the columns already kept, this one, and the
    frame's other unknown columns that resemble no node id (a misspelt id
    is a mistake to fix, not a column to keep).
    """
    col = columns[pos]
    err = UnknownNodeError(col, net.names, what="column")
    unknown = [c for k, c in enumerate(columns) if k != pos and not (isinstance(c, str) and c in net.index)]
    others = [c for c in unknown[:_HINT_SCAN] if not nearest(str(c), net.names)]   # bounded: a hostile frame is wide
    carry = list(kept) + [col] + others
    what = "it" if not others else "such columns"
    hint = f"to carry {what} through to the result, pass keep={quote(carry)}"
    err.message += f" Or, {hint}" if err.suggestions else f"; {hint}"
    err.args = (err.message,)
    return err


class _Encoder:
    """Builds ``lam`` for a chunk of coded rows with one ``np.take`` (no per-node work)."""

    def __init__(self, net: CompiledNetwork, cols: _Columns) -> None:
        n, max_card = net.lam_template.shape
        soft = [()] * n
        for k, i in enumerate(cols.nodes.tolist()):
            soft[i] = cols.soft[k]
        sizes = [1 + net.cards[i] + len(soft[i]) for i in range(n)]     # not asked, each state, each soft answer
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        table = np.zeros((sum(sizes), max_card))
        for i in range(n):
            at, card = int(starts[i]), net.cards[i]
            table[at] = net.lam_template[i]                                  # not asked
            table[at + 1 : at + 1 + card, :card] = np.eye(card)
            for j, value in enumerate(soft[i]):                              # a soft answer: its likelihood
                table[at + 1 + card + j, :card] = value.vector(net.states[i])
        self.table = table
        self.base = starts + 1                                             # + code: -1 is "not asked"
        self.nodes = cols.nodes

    def lam(self, chunk: np.ndarray) -> np.ndarray:
        full = np.full((len(chunk), len(self.base)), MISSING, dtype=chunk.dtype)
        if len(self.nodes):
            full[:, self.nodes] = chunk
        return np.take(self.table, full + self.base, axis=0)             # (rows, nodes, max card)


# -- triage -------------------------------------------------------------------------------

def _triage(model: Model, cols: _Columns, codes: np.ndarray, posterior: np.ndarray,
            impossible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level and reason triggers per distinct row: ``kneebayes.triage.warning_signs``, the rule a Diagnosis uses.

    Rows whose posterior lies within ``_TOL`` of an escalation's threshold
    are redone with ``model.diagnose``, so that rounding cannot tip them
    differently.
    """
    spec, net, targets = model.spec, model.network, model.targets
    column_of = {int(i): k for k, i in enumerate(cols.nodes)}
    n = codes.shape[0]
    answers = {}
    for node in {f.node for f in spec.red_flags}:
        k = column_of.get(net.index[node])
        if k is not None:   # each distinct answer read once; code -1 (not asked) picks the last entry, None
            answers[node] = CodedAnswers(cols.answers(k), codes[:, k])
    columns = {t: k for k, t in enumerate(targets.ids)} if targets.binary else dict(targets.yes_columns)
    yes_probability = {t: posterior[:, k] for t, k in columns.items()}
    signs = warning_signs(spec, answers, n, yes_probability)
    # Rows that fire alike and agree on the screen share their level and reasons: each pattern is judged once.
    flags = np.column_stack([signs.fired, signs.screen_open]).view(np.int8) - 1   # -1 no, 0 yes: one code each
    unique, pattern = distinct_rows(flags, [1] * flags.shape[1])
    unique = unique == 0
    fired_in = unique[:, :-1]
    level_in = levels(fired_in.any(axis=1), has_triage_rules(spec), unique[:, -1])
    triggers = [r.node if isinstance(r, RedFlag) else r.cause for r in signs.rules]
    reasons_in = np.empty(len(unique), dtype=object)
    for p, (lv, row) in enumerate(zip(level_in.tolist(), fired_in.tolist())):
        reasons_in[p] = tuple(t for t, f in zip(triggers, row) if f) if lv == SEE_DOCTOR else (QUIET_TRIGGER[lv],)
    level, reasons = level_in.take(pattern), reasons_in.take(pattern)
    near = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for esc in spec.escalations:
            if esc.cause in yes_probability:
                near |= np.abs(yes_probability[esc.cause] - esc.threshold) < _TOL
    for u in np.flatnonzero(near & ~impossible):   # a posterior within 1e-9 of a threshold: ask the Diagnosis
        t = model.diagnose(cols.evidence(codes[u])).triage
        level[u], reasons[u] = t.level, tuple(r.trigger for r in t.reasons)
    level[impossible] = None
    reasons[impossible] = None
    return level, reasons


# -- what the answers point to ------------------------------------------------------------

def _explaining(model: Model, cols: _Columns, codes: np.ndarray, marg: np.ndarray,
                impossible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct row: the explaining cause, its leading state and its Bayes factor, as the Diagnosis gives them.

    The same functions as ``Diagnosis.explaining_causes`` (``weigh``,
    ``explaining_order``) on every row at once; rows whose best two
    candidates are within ``NEAR`` (in log factor) are redone with
    ``model.diagnose``, whose rounding then decides the tie.
    """
    n = marg.shape[0]
    cause = np.full(n, None, dtype=object)
    state = np.full(n, None, dtype=object)
    factor = np.full(n, np.nan)
    layout = model.weight_layout
    c = layout.n_candidates
    if n == 0 or c == 0:
        return cause, state, factor
    with np.errstate(invalid="ignore", divide="ignore"):
        factors, posteriors = weigh(marg, layout)
        order = explaining_order(factors, posteriors, layout)
        rows = np.arange(n)
        top = order[:, 0]
        candidates = factors[:, :c]
        factor = candidates[rows, top]
        cause = np.array(layout.ids[:c], dtype=object)[top]
        state = np.array(layout.states[:c], dtype=object)[top]
        log_f = np.log(candidates)
        gap = np.abs(log_f - log_f[rows, top][:, None])
    gap[rows, top] = np.inf
    near = (gap < NEAR).any(axis=1) & ~impossible
    for u in np.flatnonzero(near):
        dx = model.diagnose(cols.evidence(codes[u]))
        cause[u], factor[u] = dx.explaining_causes[0]
        state[u] = dx.explaining_states[cause[u]]
    cause[impossible] = None
    state[impossible] = None
    factor[impossible] = np.nan
    return cause, state, factor


def _target_marginals(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint) -> np.ndarray:
    """Every target's marginal for each row, side by side (rows, the targets' states): where the targets are
    not enumerated."""
    if not net.targets:
        return np.zeros((lam.shape[0], 0))
    result = marginals(net, lam, tj, net.targets)
    return np.concatenate([result[t] for t in net.targets], axis=1)


# -- next question ------------------------------------------------------------------------

def _next_rows(model: Model) -> int:
    """Rows per next-question pass: ``NEXT_CHUNK``, fewer where each row's joints of the candidates with the
    targets (candidates x widest card x joint states) are wide (``NEXT_ROW_ENTRIES``)."""
    net = model.network
    cands = question_candidates(model)
    width = max((net.cards[i] for i in cands.indices), default=1)
    per_row = max(1, len(cands.indices) * width * net.n_joint)
    return max(1, min(NEXT_CHUNK, NEXT_ROW_ENTRIES // per_row))


def _next_questions(model: Model, cols: _Columns, chunk: np.ndarray, lam: np.ndarray, tj: TargetJoint,
                    marg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Diagnosis's next question for each row of the chunk, and which rows to redo one by one.

    The Diagnosis's own functions on every row at once: the gains of
    ``expected_information_gains`` and the rules of ``questions.decide``.
    Rows where two questions' scores, or a number and its threshold, lie
    within ``_TOL`` are redone with ``model.diagnose``: there, rounding
    that differs between a batch and a single row could tip the choice.
    """
    settings = model.settings
    cands = question_candidates(model)
    b = chunk.shape[0]
    if not cands.nodes:
        return np.full(b, None, dtype=object), np.zeros(b, dtype=bool)
    ids = np.array([n.id for n in cands.nodes] + [None], dtype=object)
    observed = np.zeros((b, lam.shape[1]), dtype=bool)
    observed[:, cols.nodes] = cols.firm(chunk)   # a soft answer leaves its question open
    open_ = ~observed[:, list(cands.indices)]
    gains = expected_information_gains(model.network, lam, tj, cands.indices).gains
    leading = model.targets.leading(marg) if marg.shape[1] else np.zeros(b)   # as Diagnosis.leading_probability
    decided = decide(gains, cands.costs, cands.red, open_, leading, settings)
    choice = np.where(decided.n_open > 0, decided.order[:, 0], len(cands.nodes))
    score = decided.score
    redo = np.abs(leading - settings.confidence) < _TOL
    redo |= (open_ & ((np.abs(gains - settings.min_gain) < _TOL) | (np.abs(score) < _TOL))).any(axis=1)
    if len(cands.nodes) > 1:
        rows = np.arange(b)
        first, second = score[rows, decided.order[:, 0]], score[rows, decided.order[:, 1]]
        redo |= (decided.n_open > 1) & (np.abs(first - second) < _TOL)
    return ids[choice], redo
