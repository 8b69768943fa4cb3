"""Time learning from cases (EM) on pgmpy's networks, with pyAgrum's EM beside it, in one run.

    python benchmarks/bench_learning_networks.py                       # the default networks, 5 passes each
    python benchmarks/bench_learning_networks.py --networks alarm link --json out.json

What is timed, per network (each BIF that ships with pgmpy, loaded with its
ten roots with most descendants as targets, as ``bench_frames.py`` does):

* ``model.updated_with(cases, name=..., max_iterations=N, accelerate=False)``,
  the public call, on ``--cases`` cases forward-sampled (seeded) from the
  network with ``--hidden`` of all values hidden at random: plain EM, so
  each of the N iterations is one pass over the cases (an E-step and an
  M-step), from the network's own numbers. Whole call, first call in the
  process for that network (compiling, laying the cases out, writing the
  learned model with its ranges included); one untimed call on the knee
  model comes first (it imports scipy, once per process).
* pyAgrum's ``BNLearner`` on the same cases (a CSV, "?" for a hidden
  value) and the same network's structure and numbers, ``useEM`` with
  N iterations (the other stopping rules off, but at most
  ``--pyagrum-max-seconds``: on PIGS five passes took over ten minutes) and
  a smoothing prior of 1 (without one pyAgrum refuses a parent
  configuration the cases never show); ``learnParameters`` timed.

The two do the same work per pass (expected counts of every family over
every case, then new tables); their priors differ, so their numbers are
not compared, only their time per pass (the ratio). Timings move with the
machine's load: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import kneebayes

from bench_frames import bif_path, targets_of

NETWORKS = ["alarm", "insurance", "hailfinder", "win95pts", "hepar2", "pigs", "andes", "water", "mildew", "barley"]


def run(name: str, cases: int, hidden: float, passes: int, seed: int, work: Path, limit: float) -> dict[str, object]:
    bif = work / f"{name}.bif"
    bif.write_text(gzip.open(bif_path(name), "rt").read())   # pyAgrum reads plain text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = kneebayes.load_bif(bif, targets=targets_of(bif_path(name)))
    sampled = model.sample(cases, seed=seed)
    frame = sampled.astype(object).mask(np.random.default_rng(seed + 1).random(sampled.shape) < hidden)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # plain EM stopped at N passes warns that it has not converged
        model.updated_with(frame, name="bench", max_iterations=passes, accelerate=False)
    ours = time.perf_counter() - start
    row: dict[str, object] = {"network": name, "nodes": len(model.network.names), "cases": cases, "hidden": hidden,
                              "passes": passes, "kneebayes_seconds": ours}
    try:
        import pyagrum as gum
    except ImportError:
        return row
    csv = work / f"{name}.csv"
    frame.where(frame.notna(), "?").astype(str).to_csv(csv, index=False)
    bn = gum.loadBN(str(bif))
    start = time.perf_counter()
    learner = gum.BNLearner(str(csv), bn, ["?"])
    learner.useEM(1e-12)
    learner.useSmoothingPrior(1.0)
    learner.EMsetMaxIter(passes)
    learner.EMdisableEpsilon()
    learner.EMdisableMinEpsilonRate()
    learner.EMsetMaxTime(limit)
    learner.learnParameters(bn.dag())
    theirs = time.perf_counter() - start
    done = max(1, learner.EMnbrIterations())
    row.update({"pyagrum_seconds": theirs, "pyagrum_passes": done, "ratio": (theirs / done) / (ours / passes)})
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", nargs="+", default=NETWORKS)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--hidden", type=float, default=0.3)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pyagrum-max-seconds", type=float, default=120.0)
    ap.add_argument("--json", type=str, default=None)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, numpy {np.__version__}, kneebayes {kneebayes.__version__}, 1-min load {load:.2f}")
    print(f"{args.cases} cases, {args.hidden:.0%} of values hidden, {args.passes} EM passes; seconds for the whole call")
    knee = kneebayes.load_model()
    warm = knee.sample(20, seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knee.updated_with(warm.astype(object).mask(np.random.default_rng(0).random(warm.shape) < args.hidden),
                          name="warm-up", max_iterations=1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.networks:
            row = run(name, args.cases, args.hidden, args.passes, args.seed, Path(tmp), args.pyagrum_max_seconds)
            rows.append(row)
            theirs = (f"pyAgrum {row['pyagrum_seconds']:8.2f} s ({row['pyagrum_passes']} passes)   "
                      f"pyAgrum / kneebayes a pass {row['ratio']:6.1f}x" if "ratio" in row else "pyAgrum: not installed")
            print(f"{name:12s} {row['nodes']:5d} nodes   kneebayes {row['kneebayes_seconds']:8.2f} s   {theirs}",
                  flush=True)
            if args.json:   # after every network: a long run stopped early keeps what it measured
                Path(args.json).write_text(json.dumps({"load": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
