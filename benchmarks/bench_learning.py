"""Time learning from cases (EM) on the knee model, with pgmpy's ExpectationMaximization beside it.

    python benchmarks/bench_learning.py                  # 100,000 cases; pgmpy on 500 cases, 2 iterations
    python benchmarks/bench_learning.py --json out.json  # also write the numbers

What is timed:

* ``kneebayes.research.learning.learn(model, cases, name=...)``, the public
  call, on ``--cases`` cases forward-sampled (seeded) from the knee model
  with two numbers changed, every cause hidden (its column dropped), EM run
  from the hand-set numbers to convergence (default tolerance), progress
  bar off. One untimed warm-up call on 100 other cases comes first (it
  imports scipy and fits the ranges' priors, once per process).
* pgmpy's ``ExpectationMaximization.get_parameters`` on the exported model
  (``model.to_pgmpy()``) with the six causes latent, started from the same
  tables (``init_cpds``; the latents' states renamed to 0/1 as pgmpy's
  latents take them), convergence check off (``atol=0``), for
  ``--pgmpy-iterations`` iterations on the first ``--pgmpy-cases`` cases:
  it expands every distinct case over the 64 states of the causes, so a
  run on 100,000 cases to convergence would take days here.

The comparison is the time per case per pass over the cases (an E-step
and an M-step; for pgmpy, an iteration), each on its own data size (both
drop duplicate rows first; the share of distinct rows is printed).
kneebayes's accelerated EM counts an iteration per accepted step; a
stretched step it drops costs a pass too, so passes are what is compared.
Nothing here is a test: timings move with the machine's load, so the
targets are printed beside the numbers, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np

import kneebayes
from kneebayes.research.learning import learn, sample

#: The two numbers the simulated clinic's model has changed, each outside its hand-set range.
CHANGES = {"bakers_cyst.leak": (0.35, (0.2, 0.5)),
           "swelling_behind_knee.leak": (0.5, (0.4, 0.6))}
TARGET_SECONDS = 60.0
TARGET_RATIO = 20.0


def _pgmpy_run(model: kneebayes.Model, cases: object, iterations: int) -> float:
    """Seconds pgmpy's EM takes for ``iterations`` iterations from the model's own tables."""
    from pgmpy.estimators import ExpectationMaximization
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    exported = model.to_pgmpy()
    latents = set(model.causes)

    def renamed(cpd: TabularCPD) -> TabularCPD:
        names = {v: list(range(len(s))) if v in latents else list(s) for v, s in cpd.state_names.items()}
        evidence = cpd.variables[1:]
        return TabularCPD(cpd.variable, cpd.variable_card, cpd.get_values(), evidence=evidence or None,
                          evidence_card=[cpd.cardinality[cpd.variables.index(e)] for e in evidence] or None,
                          state_names=names)

    init = {cpd.variable: renamed(cpd) for cpd in exported.get_cpds()}
    network = DiscreteBayesianNetwork(exported.edges(), latents=latents)
    start = time.perf_counter()
    ExpectationMaximization(network, cases).get_parameters(latent_card={c: 2 for c in latents}, max_iter=iterations,
                                                           atol=0.0, init_cpds=init, show_progress=False)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--pgmpy-cases", type=int, default=500)
    ap.add_argument("--pgmpy-iterations", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", type=str, default=None)
    args = ap.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, numpy {np.__version__}, 1-min load {load:.2f}")
    model = kneebayes.load_model()
    truth = model.with_parameters(CHANGES)
    causes = list(model.causes)
    cases = sample(truth, args.cases, seed=args.seed).drop(columns=causes)
    distinct = len(cases.drop_duplicates())
    learn(model, sample(truth, 100, seed=args.seed + 1).drop(columns=causes), name="warm-up", progress=False)

    start = time.perf_counter()
    result = learn(model, cases, name="simulated clinic", progress=False)
    seconds = time.perf_counter() - start
    per = seconds / (result.passes * args.cases)
    moved = {c.address: (c.old, c.new) for c in model.diff(result.model) if c.address in CHANGES}
    print(f"kneebayes: {args.cases:,} cases ({distinct:,} distinct), causes hidden: {seconds:.1f} s, "
          f"{result.iterations} iterations, {result.passes} passes over the cases (converged: {result.converged}), "
          f"{seconds / result.passes * 1e3:.0f} ms a pass, {per * 1e6:.2f} us per case per pass (target: under "
          f"{TARGET_SECONDS:.0f} s)")
    for address, (old, new) in moved.items():
        print(f"  {address}: hand-set {old:g}, learned {new:.4f}, true {CHANGES[address][0]:g}")

    out = {"cases": args.cases, "distinct": distinct, "seconds": seconds, "iterations": result.iterations,
           "passes": result.passes, "converged": result.converged, "us_per_case_pass": per * 1e6,
           "learned": {a: n for a, (_, n) in moved.items()}, "load": load}
    try:
        import pgmpy
    except ImportError:
        print("pgmpy: not installed")
    else:
        small = cases.iloc[: args.pgmpy_cases].astype(str)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pg_seconds = _pgmpy_run(model, small, args.pgmpy_iterations)
        pg_per = pg_seconds / (args.pgmpy_iterations * args.pgmpy_cases)
        ratio = pg_per / per
        print(f"pgmpy {pgmpy.__version__}: {args.pgmpy_cases:,} cases ({len(small.drop_duplicates()):,} distinct), "
              f"{args.pgmpy_iterations} iterations: {pg_seconds:.1f} s, {pg_per * 1e6:,.0f} us per case per "
              f"iteration; pgmpy per case per iteration / kneebayes per case per pass: {ratio:,.0f}x (target: at least "
              f"{TARGET_RATIO:.0f}x)")
        out.update({"pgmpy_version": pgmpy.__version__, "pgmpy_cases": args.pgmpy_cases,
                    "pgmpy_iterations": args.pgmpy_iterations, "pgmpy_seconds": pg_seconds,
                    "pgmpy_us_per_case_iteration": pg_per * 1e6, "ratio": ratio})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
