"""Time the whole question ranking, kneebayes vs the natural pgmpy way, side by side in one run.

    python benchmarks/bench_ranking.py                    # 200 evidence sets
    python benchmarks/bench_ranking.py --json out.json    # also write the numbers

What is timed, per evidence set (N different, typical sets: complete cases
forward-sampled from the knee model, 2-6 of their askable findings and
risk factors revealed):

* kneebayes, the public calls: ``dx = model.diagnose(ev); qs = list(dx.ranked_questions)``,
  after a warm-up pass, over several repeats (every case timed on its own).
* pgmpy, the natural way: one ``VariableElimination(model.to_pgmpy())`` built
  once (not timed per case); for each candidate (every askable node not in
  the evidence) one ``ve.query(causes + [cand], evidence=ev, joint=True)``,
  and the expected information gain about the causes' joint (64 states),
  H(causes) - sum_x P(x) H(causes | x) in bits, computed from it in numpy.

Both must give every candidate the same gain to 1e-9, and kneebayes' order
must be by score (gain - cost_weight * cost) within its red-flag and other
questions (pending red flags go first once the diagnosis is settled):
asserted here. Timings vary with machine load, so the targets are printed
beside the numbers, never asserted.
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
from pathlib import Path

import numpy as np

import kneebayes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_runners import forward_sample  # noqa: E402

TARGET_MEDIAN_MS = 0.3
TARGET_RATIO = 50.0
AGREEMENT_TOL = 1e-9


def typical_evidence(model: kneebayes.Model, n: int, seed: int, low: int = 2, high: int = 6) -> list[dict[str, str]]:
    """n evidence sets: a random 2-6 of the askable nodes of a forward-sampled complete case."""
    rng = np.random.default_rng(seed)
    askable = [node.id for node in model.nodes if node.askable]
    evidence = []
    for case in forward_sample(model, n, rng):
        k = int(rng.integers(low, high + 1))
        shown = rng.choice(len(askable), size=k, replace=False)
        evidence.append({askable[j]: case[askable[j]] for j in sorted(shown)})
    return evidence


def time_ours(model: kneebayes.Model, cases: list[dict[str, str]], repeats: int) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per ranking: every (case, repeat) wall and CPU (this thread), and each case's median wall time."""
    for ev in cases:                                         # warm-up pass
        dx = model.diagnose(ev)
        list(dx.ranked_questions)
    clock = time.perf_counter_ns
    cpu_clock = time.thread_time_ns
    per_case: list[list[float]] = [[] for _ in cases]
    cpu: list[float] = []
    for _ in range(repeats):
        for i, ev in enumerate(cases):
            c0 = cpu_clock()
            t0 = clock()
            dx = model.diagnose(ev)
            qs = list(dx.ranked_questions)
            t1 = clock()
            cpu.append((cpu_clock() - c0) / 1e6)
            per_case[i].append((t1 - t0) / 1e6)
            del qs
    pooled = [t for ts in per_case for t in ts]
    return pooled, cpu, [statistics.median(ts) for ts in per_case]


def mutual_information_bits(joint: np.ndarray) -> float:
    """H(causes) - sum_x P(x) H(causes | x) for a joint with the candidate on axis 0 and the causes flattened on axis 1."""
    joint = joint / joint.sum()
    px = joint.sum(axis=1)
    pc = joint.sum(axis=0)

    def h(p: np.ndarray) -> float:
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    return h(pc) - sum(float(px[x]) * h(joint[x] / px[x]) for x in range(joint.shape[0]) if px[x] > 0)


def pgmpy_ranking(ve, causes: list[str], candidates: list[str], ev: dict[str, str]) -> dict[str, float]:
    """The natural pgmpy way: one joint query of the causes and the candidate per candidate."""
    gains = {}
    for cand in candidates:
        factor = ve.query(causes + [cand], evidence=ev, joint=True, show_progress=False)
        values = np.moveaxis(factor.values, factor.variables.index(cand), 0)
        gains[cand] = mutual_information_bits(values.reshape(values.shape[0], -1))
    return gains


def time_pgmpy(model: kneebayes.Model, cases: list[dict[str, str]]) -> tuple[list[float], list[dict[str, float]], float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination
    t0 = time.perf_counter()
    ve = VariableElimination(model.to_pgmpy())               # built once, reused
    setup_s = time.perf_counter() - t0
    causes = list(model.causes)
    askable = [n.id for n in model.nodes if n.askable]
    pgmpy_ranking(ve, causes, [a for a in askable if a not in cases[0]], cases[0])   # warm-up
    clock = time.perf_counter_ns
    times, results = [], []
    for ev in cases:
        candidates = [a for a in askable if a not in ev]
        t0 = clock()
        gains = pgmpy_ranking(ve, causes, candidates, ev)
        times.append((clock() - t0) / 1e6)
        results.append(gains)
    return times, results, setup_s


def check_agreement(model: kneebayes.Model, cases: list[dict[str, str]], theirs: list[dict[str, float]]) -> float:
    """Largest |gain difference|; asserts 1e-9 agreement, the same candidates, and kneebayes' order."""
    worst = 0.0
    for ev, gains in zip(cases, theirs):
        qs = list(model.diagnose(ev).ranked_questions)
        assert {q.id for q in qs} == set(gains), f"different candidates for {ev}"
        for q in qs:
            gap = abs(q.expected_information_gain - gains[q.id])
            worst = max(worst, gap)
            assert gap <= AGREEMENT_TOL, f"gain of {q.id} given {ev}: kneebayes {q.expected_information_gain!r}, pgmpy {gains[q.id]!r}"
        weight = model.settings.cost_weight
        for group in ([q for q in qs if q.red_flag], [q for q in qs if not q.red_flag]):
            scores = [gains[q.id] - weight * q.cost for q in group]       # scores from pgmpy's gains
            for a, b in zip(scores, scores[1:]):
                assert a >= b - AGREEMENT_TOL, f"kneebayes' ranking is out of score order for {ev}"
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="different evidence sets (default 200)")
    parser.add_argument("--pgmpy-cases", type=int, default=None, help="how many of them pgmpy ranks (default: all)")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes over the cases for kneebayes (default 7)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    import pgmpy

    machine = {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
               "pgmpy": pgmpy.__version__, "kneebayes": kneebayes.__version__, "cpu_count": os.cpu_count(),
               "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))

    model = kneebayes.load_model()
    cases = typical_evidence(model, args.cases, args.seed)
    n_pg = len(cases) if args.pgmpy_cases is None else min(args.pgmpy_cases, len(cases))
    sizes = [len(ev) for ev in cases]
    n_askable = sum(1 for n in model.nodes if n.askable)
    cands = [n_askable - s for s in sizes]
    print(f"Model {model.name} {model.version} (hash {model.content_hash[:12]}): {n_askable} askable nodes, "
          f"{len(model.causes)} causes (joint of {2 ** len(model.causes)} states); {len(cases)} evidence sets, "
          f"{min(sizes)}-{max(sizes)} answers each, {min(cands)}-{max(cands)} candidates (mean {statistics.fmean(cands):.1f}); "
          f"seed {args.seed}")

    ours_all, ours_cpu, ours_case = time_ours(model, cases, args.repeats)
    theirs, theirs_gains, setup_s = time_pgmpy(model, cases[:n_pg])
    worst = check_agreement(model, cases[:n_pg], theirs_gains)

    def pct(v: list[float], q: float) -> float:
        return float(np.percentile(v, q))

    ours_med, ours_p90 = pct(ours_all, 50), pct(ours_all, 90)
    theirs_med, theirs_p90 = pct(theirs, 50), pct(theirs, 90)
    # the ratio on the same cases pgmpy ranked, median of per-case ratios as well as ratio of medians
    ratio = theirs_med / pct(ours_case[:n_pg], 50)
    per_case_ratio = pct([t / o for t, o in zip(theirs, ours_case[:n_pg])], 50)
    ok_t, ok_r = ours_med < TARGET_MEDIAN_MS, ratio >= TARGET_RATIO

    print()
    print(f"Whole question ranking per evidence set (kneebayes: {len(cases)} cases x {args.repeats} repeats; "
          f"pgmpy: {n_pg} cases x 1)")
    print("| | median ms | p90 ms |")
    print("|---|---:|---:|")
    print(f"| kneebayes `diagnose(ev)` + `list(ranked_questions)` | {ours_med:.3f} | {ours_p90:.3f} |")
    print(f"| kneebayes, CPU time of this thread (not wall) | {pct(ours_cpu, 50):.3f} | {pct(ours_cpu, 90):.3f} |")
    print(f"| pgmpy, one joint VE query per candidate + numpy gain | {theirs_med:.2f} | {theirs_p90:.2f} |")
    print(f"| ratio pgmpy / kneebayes (medians, same cases) | {ratio:.0f}x | |")
    print(f"median of the per-case ratios: {per_case_ratio:.0f}x; per candidate, pgmpy: "
          f"{statistics.median(t / (n_askable - len(ev)) for t, ev in zip(theirs, cases[:n_pg])):.2f} ms median")
    print(f"targets: kneebayes median < {TARGET_MEDIAN_MS} ms: {'met' if ok_t else 'MISSED'}; "
          f"ratio >= {TARGET_RATIO:g}x: {'met' if ok_r else 'MISSED'}")
    print(f"agreement: largest |gain difference| {worst:.2e} bits over "
          f"{sum(len(g) for g in theirs_gains)} candidate gains (tolerance {AGREEMENT_TOL:g}); order checked")
    print(f"pgmpy set-up, once (to_pgmpy + VariableElimination): {setup_s * 1e3:.0f} ms")

    if args.json:
        numbers = {
            "machine": machine,
            "model": {"name": model.name, "version": model.version, "content_hash": model.content_hash},
            "seed": args.seed, "cases": len(cases), "pgmpy_cases": n_pg, "repeats": args.repeats,
            "answers_per_case": {"min": min(sizes), "max": max(sizes), "mean": statistics.fmean(sizes)},
            "candidates_per_case": {"min": min(cands), "max": max(cands), "mean": statistics.fmean(cands)},
            "ranking_ms": {"kneebayes_median": ours_med, "kneebayes_p90": ours_p90,
                           "pgmpy_median": theirs_med, "pgmpy_p90": theirs_p90,
                           "kneebayes_cpu_median": pct(ours_cpu, 50), "kneebayes_cpu_p90": pct(ours_cpu, 90),
                           "ratio_of_medians": ratio, "median_per_case_ratio": per_case_ratio},
            "agreement_max_abs_diff_bits": worst,
            "pgmpy_setup_s": setup_s,
            "targets": {"kneebayes_median_ms": TARGET_MEDIAN_MS, "ratio": TARGET_RATIO},
            "targets_met": {"median": ok_t, "ratio": ok_r},
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
