"""Time the uncertainty tools on the knee model: intervals, sensitivity, top-question stability.

    python benchmarks/bench_intervals.py                  # 20 cases, 10,000 draws each
    python benchmarks/bench_intervals.py --json out.json  # also write the numbers

What is timed, each on 20 different typical evidence sets (forward-sampled
runners who answered 2-8 questions; seeded, so every run times the same
cases), each call on its own with ``time.perf_counter``, after one untimed
warm-up call on another case:

* ``model.posterior_intervals(ev, draws=10_000, seed=k)``: the public call,
  progress bar off (target: about a second or less per case);
* ``kneebayes.research.sensitivity.sensitivity(model, ev, cause)`` for the
  case's leading cause: every number at both ends of its range, each an
  exact posterior (target: under 3 s);
* ``top_question_stability(model, ev, draws=200)`` on the first 5 cases
  (it rebuilds one model per draw).

Nothing here is a test: timings move with the machine's load, so the
targets are printed beside the numbers, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import kneebayes
from kneebayes.research.sampling import sample_states
from kneebayes.research.intervals import top_question_stability
from kneebayes.research.sensitivity import sensitivity

TARGET_INTERVALS_S = 1.0
TARGET_SENSITIVITY_S = 3.0


def typical_cases(model: kneebayes.Model, n: int, seed: int) -> list[dict[str, str]]:
    """n runners forward-sampled from the model, each revealing 2-8 askable answers."""
    rng = np.random.default_rng(seed)
    net = model.network
    askable = [node.id for node in model.nodes if node.askable]
    cases = []
    for x in sample_states(model, n, rng):
        k = int(rng.integers(2, 9))
        shown = rng.choice(len(askable), size=min(k, len(askable)), replace=False)
        cases.append({askable[j]: net.states[net.index[askable[j]]][x[net.index[askable[j]]]] for j in sorted(shown)})
    return cases


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_s": statistics.median(ordered), "p90_s": ordered[int(0.9 * (len(ordered) - 1))],
            "min_s": ordered[0], "max_s": ordered[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--stability-cases", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", type=str, default=None)
    args = ap.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"numpy {np.__version__}, 1-min load {load:.2f}")
    model = kneebayes.load_model()
    cases = typical_cases(model, args.cases + 1, args.seed)
    warm, cases = cases[0], cases[1:]
    model.posterior_intervals(warm, draws=args.draws, progress=False)
    sensitivity(model, warm, model.causes[0])

    interval_times, sens_times = [], []
    for k, ev in enumerate(cases):
        t = time.perf_counter()
        model.posterior_intervals(ev, draws=args.draws, seed=k, progress=False)
        interval_times.append(time.perf_counter() - t)
        cause = model.diagnose(ev).ranked_causes[0][0]
        t = time.perf_counter()
        sensitivity(model, ev, cause)
        sens_times.append(time.perf_counter() - t)
    stab_times = []
    for k, ev in enumerate(cases[: args.stability_cases]):
        t = time.perf_counter()
        top_question_stability(model, ev, draws=200, seed=k)
        stab_times.append(time.perf_counter() - t)

    results = {
        "cases": len(cases), "draws": args.draws, "parameters": len(model.parameters),
        "posterior_intervals": _summary(interval_times),
        "sensitivity": _summary(sens_times),
        "top_question_stability_200": _summary(stab_times) if stab_times else None,
    }
    iv, sv = results["posterior_intervals"], results["sensitivity"]
    print(f"posterior_intervals, {args.draws:,} draws, {len(cases)} cases: median {iv['median_s']:.3f} s, "
          f"p90 {iv['p90_s']:.3f} s, max {iv['max_s']:.3f} s   (target <= {TARGET_INTERVALS_S:g} s)")
    print(f"sensitivity, {len(model.parameters)} numbers x 2 ends, {len(cases)} cases: median {sv['median_s']:.3f} s, "
          f"p90 {sv['p90_s']:.3f} s   (target < {TARGET_SENSITIVITY_S:g} s)")
    if stab_times:
        st = results["top_question_stability_200"]
        print(f"top_question_stability, 200 draws, {len(stab_times)} cases: median {st['median_s']:.3f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
