"""Time ``model.diagnose_frame(df)`` on 200,000 cases, side by side with pgmpy, in one run.

    python benchmarks/bench_batch.py                  # defaults: 200,000 cases, median of 5
    python benchmarks/bench_batch.py --json out.json  # also write the numbers

The cases: complete cases forward-sampled from the knee model's own tables
(vectorised ancestral sampling, seeded), each revealing a random 3 to 8 of
its askable findings and risk factors; the rest of the row is None (not
asked). One DataFrame, one column per askable node.

What is timed, all through public calls:

* ``model.diagnose_frame(df)``: the whole frame, median of ``--repeats``
  runs after one warm-up; cases per second. The same with ``triage=True``;
  the same answers as categorical columns and as object columns of shared
  strings (as pandas 2 reads a CSV; pandas 3 reads text as arrow strings,
  the frame's own columns), each asserted to give the same result (to 1e-12); and
  ``next_question=True`` on the first ``--next-rows`` rows (it costs more;
  see ``kneebayes.batch``).
* pgmpy, the baseline a researcher would write: one
  ``VariableElimination(model.to_pgmpy())`` built once, then a loop of
  ``query(causes, evidence=row, joint=False)`` over the first
  ``--pgmpy-rows`` rows; cases per second.
* For reference, a plain loop of ``model.diagnose(row).posterior`` over the
  first ``--loop-rows`` rows.

Agreement is asserted, not just printed: diagnose_frame equals the
``model.diagnose`` loop to 1e-12 and pgmpy to 1e-9 on those rows.
Nothing here is a test: timings move with the machine and its load (the
first line prints the load average), so the target is printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd

import kneebayes
from kneebayes.research.sampling import sample_states

TARGET_CASES_PER_S = 200_000
PGMPY_TOL = 1e-9
LOOP_TOL = 1e-12


def typical_frame(model: kneebayes.Model, n: int, seed: int, low: int = 3, high: int = 8) -> pd.DataFrame:
    """What runners would answer: a random 3-8 of the askable nodes of a sampled case; the rest None."""
    rng = np.random.default_rng(seed)
    net = model.network
    askable = [node.id for node in model.nodes if node.askable]
    cols = np.array([net.index[a] for a in askable])
    full = sample_states(model, n, rng)[:, cols]
    k = rng.integers(low, min(high, len(askable)) + 1, size=n)
    shown = np.argsort(rng.random((n, len(askable))), axis=1).argsort(axis=1) < k[:, None]
    data = {}
    for j, a in enumerate(askable):
        states = np.array(list(net.states[net.index[a]]) + [None], dtype=object)
        data[a] = states[np.where(shown[:, j], full[:, j], -1)]
    return pd.DataFrame(data)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The same answers as categorical columns (a frame read with ``dtype="category"``, or a sampled table)."""
    return frame.astype("category")


def as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """The same answers as object columns of shared strings and None, as pandas 2 reads a CSV."""
    data = {}
    for c in frame.columns:
        codes = frame[c].astype("category")
        shared = np.array([*codes.cat.categories.tolist(), None], dtype=object)   # one object per distinct answer
        data[c] = shared[codes.cat.codes.to_numpy()]   # code -1 (missing) picks None
    return pd.DataFrame(data, dtype=object)


def rows_as_evidence(frame: pd.DataFrame) -> list[dict[str, str]]:
    records = frame.to_dict("records")
    return [{k: v for k, v in r.items() if isinstance(v, str)} for r in records]   # None/NaN: not asked


def timed(fn, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()   # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="rows in the frame (default 200,000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of diagnose_frame (median; default 5)")
    parser.add_argument("--pgmpy-rows", type=int, default=500, help="rows queried one by one in pgmpy (default 500)")
    parser.add_argument("--loop-rows", type=int, default=5_000, help="rows for the model.diagnose loop (default 5,000)")
    parser.add_argument("--next-rows", type=int, default=20_000, help="rows for next_question=True (default 20,000)")
    parser.add_argument("--seed", type=int, default=20261125, help="seed for sampling the cases")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.2f}; "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    model = kneebayes.load_model()
    causes = list(model.causes)
    t0 = time.perf_counter()
    frame = typical_frame(model, args.cases, args.seed)
    answered = frame.notna().sum(axis=1)
    distinct = len(frame.drop_duplicates()) if len(frame) <= 1_000_000 else float("nan")
    print(f"{len(frame):,} cases ({time.perf_counter() - t0:.1f} s to sample): {answered.mean():.2f} answers per row "
          f"on average ({answered.min()}-{answered.max()}), {distinct:,} distinct rows")

    out = model.diagnose_frame(frame)
    ours = timed(lambda: model.diagnose_frame(frame), args.repeats)
    ours_triage = timed(lambda: model.diagnose_frame(frame, triage=True), args.repeats)
    categorical, objects = as_categories(frame), as_objects(frame)
    for other in (categorical, objects):   # the same answers read from other column types: the same result
        pd.testing.assert_frame_equal(model.diagnose_frame(other), out, check_exact=False, rtol=0, atol=LOOP_TOL)
    ours_cat = timed(lambda: model.diagnose_frame(categorical), args.repeats)
    ours_obj = timed(lambda: model.diagnose_frame(objects), args.repeats)
    head_next = frame.iloc[: args.next_rows]
    ours_next = timed(lambda: model.diagnose_frame(head_next, triage=True, next_question=True), 1)

    # reference: a plain loop of the public single-case call
    loop_ev = rows_as_evidence(frame.iloc[: args.loop_rows])
    t0 = time.perf_counter()
    loop_post = [model.diagnose(ev).posterior for ev in loop_ev]
    loop_s = time.perf_counter() - t0
    loop_gap = max(abs(p[c] - out.iloc[r][c]) for r, p in enumerate(loop_post) for c in causes)
    assert loop_gap <= LOOP_TOL, f"diagnose_frame and model.diagnose disagree by {loop_gap:.3g}"

    # pgmpy: one VariableElimination, one query per row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination
    ve = VariableElimination(model.to_pgmpy())
    pg_ev = rows_as_evidence(frame.iloc[: args.pgmpy_rows])
    ve.query(causes, evidence=pg_ev[0], joint=False, show_progress=False)   # warm-up
    t0 = time.perf_counter()
    pg_results = [ve.query(causes, evidence=ev, joint=False, show_progress=False) for ev in pg_ev]
    pg_s = time.perf_counter() - t0
    pg_gap = 0.0
    for r, res in enumerate(pg_results):
        for c in causes:
            gap = abs(float(res[c].get_value(**{c: "yes"})) - out.iloc[r][c])
            pg_gap = max(pg_gap, gap)
            assert gap <= PGMPY_TOL, f"row {r}: diagnose_frame and pgmpy disagree on {c} by {gap:.3g}"

    med = statistics.median(ours)
    rate = len(frame) / med
    rows = [
        ("kneebayes diagnose_frame(df)", len(frame), med, rate),
        ("  ... with triage=True", len(frame), statistics.median(ours_triage), len(frame) / statistics.median(ours_triage)),
        ("  ... categorical columns", len(frame), statistics.median(ours_cat), len(frame) / statistics.median(ours_cat)),
        ("  ... object columns (pandas 2)", len(frame), statistics.median(ours_obj), len(frame) / statistics.median(ours_obj)),
        ("  ... with triage + next_question", len(head_next), ours_next[0], len(head_next) / ours_next[0]),
        ("kneebayes loop of model.diagnose", len(loop_ev), loop_s, len(loop_ev) / loop_s),
        ("pgmpy loop of VE.query", len(pg_ev), pg_s, len(pg_ev) / pg_s),
    ]
    pg_rate = len(pg_ev) / pg_s
    print()
    print(f"{'what':<36} {'cases':>9} {'seconds':>9} {'cases/s':>11} {'vs pgmpy':>9}")
    for name, n, s, r in rows:
        print(f"{name:<36} {n:>9,} {s:>9.3f} {r:>11,.0f} {r / pg_rate:>8.0f}x")
    print()
    print(f"diagnose_frame runs (s): {', '.join(f'{t:.3f}' for t in ours)}")
    print(f"target >= {TARGET_CASES_PER_S:,} cases/s: {'met' if rate >= TARGET_CASES_PER_S else 'MISSED'} "
          f"({rate:,.0f}); ratio to pgmpy {rate / pg_rate:,.0f}x")
    print(f"agreement: model.diagnose loop {loop_gap:.2e} (<= {LOOP_TOL:g}), pgmpy {pg_gap:.2e} (<= {PGMPY_TOL:g})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({
                "cases": len(frame), "distinct_rows": distinct, "mean_answers": float(answered.mean()),
                "diagnose_frame_s": ours, "diagnose_frame_cases_per_s": rate,
                "triage_s": ours_triage, "triage_cases_per_s": len(frame) / statistics.median(ours_triage),
                "column_dtype": str(frame.dtypes.iloc[0]) if len(frame.columns) else None,
                "categorical_s": ours_cat, "categorical_cases_per_s": len(frame) / statistics.median(ours_cat),
                "object_s": ours_obj, "object_cases_per_s": len(frame) / statistics.median(ours_obj),
                "next_question_rows": len(head_next), "next_question_s": ours_next,
                "loop_rows": len(loop_ev), "loop_s": loop_s, "pgmpy_rows": len(pg_ev), "pgmpy_s": pg_s,
                "pgmpy_cases_per_s": pg_rate, "ratio": rate / pg_rate, "max_gap_loop": loop_gap,
                "max_gap_pgmpy": pg_gap, "load": load,
            }, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
