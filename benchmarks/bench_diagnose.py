"""Time ``model.diagnose(evidence).posterior`` side by side with pgmpy and pyAgrum, in one run.

    python benchmarks/bench_diagnose.py                 # defaults: 300 cases, 5 repeats
    python benchmarks/bench_diagnose.py --json out.json  # also write the numbers

What is timed (see benchmarks/README.md for what each number means):

* kneebayes: the public call ``model.diagnose(ev).posterior`` on N different,
  typical evidence sets (forward-sampled runners, 2-8 answered questions
  each), every case timed on its own with ``time.perf_counter_ns``. The
  headline is the FIRST call on each evidence set, as a user diagnosing a new
  case meets it: each case is a fresh dict that this process has never
  diagnosed (one untimed diagnosis with no evidence comes first, so the
  process's one-off imports are not charged to the first case). Warm repeats
  of the same sets (``--repeats`` passes) are reported beside it, labelled.
* pgmpy, the fair baseline: one ``VariableElimination(model.to_pgmpy())``
  built once and reused, one ``query(causes, evidence=ev, joint=False)`` per
  case.
* pyAgrum, the second reference: one ``LazyPropagation`` over the same
  tables (built through pyAgrum's API from ``model.to_pgmpy()``), built once
  with the causes as targets, then ``setEvidence(ev)``, ``makeInference()``
  and ``posterior(cause)`` per case. All three engines must agree to 1e-9 on
  every case (asserted here).
* isolated calls: more new evidence sets, each diagnosed after unrelated
  work (a matrix product, a sort and a sweep over 16 MB) has pushed the
  library's code and tables out of the caches, as an application meets it.
* how many sets the fast path settles (``kneebayes.inference.fast``); the
  rest go to the general engine, which the mean shows.
* what the answers point to: ``dx.explaining_causes``, first asked of the
  diagnosis of each new evidence set in the first-call pass, timed on its
  own: the extra cost of the Bayes factors on top of the posterior.
* start-up: ``python -c "import kneebayes"``, the modules a first diagnosis
  loads, a cold ``kneebayes diagnose ...`` and pgmpy's own import time.

Nothing here is a test: timings vary by machine and load, so the targets are
printed beside the numbers, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import kneebayes
from kneebayes.research.sampling import sample_cases

TARGET_MEDIAN_US = 20.0       # first call on new evidence, calls one after another
TARGET_ISOLATED_US = 100.0    # first call on new evidence after unrelated work has run
TARGET_RATIO = 25.0
TARGET_EXPLAIN_US = 10.0
TARGET_IMPORT_S = 0.15
TARGET_CLI_S = 0.5
AGREEMENT_TOL = 1e-9
HEAVY_MODULES = ("pgmpy", "pandas", "matplotlib", "networkx", "scipy")
CLI_ARGS = ("diagnose", "locking_or_catching=yes", "swelling_behind_knee=yes")


# -- typical evidence sets ------------------------------------------------------------

def forward_sample(model: kneebayes.Model, n: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """n complete cases drawn from the model's own tables (the library's ancestral sampler)."""
    return sample_cases(model, n, rng)


def typical_evidence(model: kneebayes.Model, n: int, seed: int, low: int = 2, high: int = 8) -> list[dict[str, str]]:
    """What runners would answer: a random 2-8 of the askable findings and risk factors of a sampled case."""
    rng = np.random.default_rng(seed)
    askable = [node.id for node in model.nodes if node.askable]
    high = min(high, len(askable))
    evidence = []
    for case in forward_sample(model, n, rng):
        k = int(rng.integers(low, high + 1))
        shown = rng.choice(len(askable), size=k, replace=False)
        evidence.append({askable[j]: case[askable[j]] for j in sorted(shown)})
    # forward sampling never yields impossible evidence; nothing is diagnosed here, so every
    # timed call below is the first on its evidence set (the agreement checks catch the rest)
    return evidence


# -- timing ---------------------------------------------------------------------------

def time_first_calls(model: kneebayes.Model, cases: list[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Microseconds of the first ``diagnose(ev).posterior`` on each case, and of its ``explaining_causes``.

    Each case is a fresh dict never diagnosed before in this process; the
    one untimed diagnosis with no evidence pays the process's one-off costs
    (lazy imports), which no later case would meet.
    """
    model.diagnose({}).posterior
    clock = time.perf_counter_ns
    posterior: list[float] = []
    explaining: list[float] = []
    for ev in cases:
        fresh = dict(ev)
        t0 = clock()
        dx = model.diagnose(fresh)
        dx.posterior
        t1 = clock()
        dx.explaining_causes
        t2 = clock()
        posterior.append((t1 - t0) / 1e3)
        explaining.append((t2 - t1) / 1e3)
    return posterior, explaining


def time_isolated(model: kneebayes.Model, cases: list[dict[str, str]]) -> list[float]:
    """Microseconds of the first ``diagnose(ev).posterior`` on each case, each after unrelated work."""
    clock = time.perf_counter_ns
    rng = np.random.default_rng(1)
    square = rng.random((200, 200))
    sweep = np.ones(2 << 20)          # 16 MB: more than this machine's caches
    out: list[float] = []
    for ev in cases:
        square = square @ square.T / 200.0
        sorted(rng.random(20_000).tolist())
        sweep += 1.0
        fresh = dict(ev)
        t0 = clock()
        model.diagnose(fresh).posterior
        out.append((clock() - t0) / 1e3)
    return out


def settled_by_fast_path(model: kneebayes.Model, cases: list[dict[str, str]]) -> float:
    """The share of the cases the fast path settles alone (the rest take the general engine)."""
    from kneebayes.evidence import normalize_indexed
    from kneebayes.inference.fast import fast_posterior

    plan = model.fast_plan
    if plan is None:
        return 0.0
    settled = sum(fast_posterior(plan, normalize_indexed(model.network, ev)[1]) is not None for ev in cases)
    return settled / len(cases)


def time_warm(model: kneebayes.Model, cases: list[dict[str, str]], repeats: int) -> list[float]:
    """Microseconds per call on sets already diagnosed: ``repeats`` more passes (for comparison only)."""
    clock = time.perf_counter_ns
    out: list[float] = []
    for _ in range(repeats):
        for ev in cases:
            fresh = dict(ev)
            t0 = clock()
            model.diagnose(fresh).posterior
            out.append((clock() - t0) / 1e3)
    return out


def time_pgmpy(model: kneebayes.Model, cases: list[dict[str, str]]) -> tuple[list[float], float, float]:
    """Microseconds per pgmpy query (one per case), set-up seconds, and the largest disagreement."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination

    t0 = time.perf_counter()
    ve = VariableElimination(model.to_pgmpy())        # built once, reused for every case
    setup_s = time.perf_counter() - t0
    causes = list(model.causes)
    ve.query(causes, evidence={}, joint=False, show_progress=False)   # warm-up on no evidence: every case stays new
    clock = time.perf_counter_ns
    out: list[float] = []
    worst = 0.0
    for ev in cases:
        t0 = clock()
        result = ve.query(causes, evidence=ev, joint=False, show_progress=False)
        out.append((clock() - t0) / 1e3)
        ours = model.diagnose(ev).posterior
        for c in causes:
            theirs = float(result[c].get_value(**{c: "yes"}))
            gap = abs(theirs - ours[c])
            worst = max(worst, gap)
            assert gap <= AGREEMENT_TOL, f"kneebayes and pgmpy disagree on P({c}=yes | {ev}): {ours[c]!r} vs {theirs!r}"
    return out, setup_s, worst


def time_pyagrum(model: kneebayes.Model, cases: list[dict[str, str]]) -> tuple[list[float], float, float]:
    """Microseconds per pyAgrum LazyPropagation query (one per case), set-up seconds, the largest disagreement."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pyagrum_ref

    causes = list(model.causes)
    t0 = time.perf_counter()
    posterior = pyagrum_ref.posterior_engine(pyagrum_ref.from_pgmpy(model.to_pgmpy()), causes)
    setup_s = time.perf_counter() - t0
    clock = time.perf_counter_ns
    out: list[float] = []
    worst = 0.0
    for ev in cases:
        t0 = clock()
        result = posterior(dict(ev))
        out.append((clock() - t0) / 1e3)
        ours = model.diagnose(ev).posterior
        for c in causes:
            gap = abs(result[c]["yes"] - ours[c])
            worst = max(worst, gap)
            assert gap <= AGREEMENT_TOL, f"kneebayes and pyAgrum disagree on P({c}=yes | {ev}): {ours[c]!r} vs {result[c]['yes']!r}"
    return out, setup_s, worst


def wall_times(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Seconds of wall time for each of `runs` fresh processes (stdout discarded; must succeed)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        out.append(time.perf_counter() - t0)
    return out


LOADED_PROBE = f"""
import json, sys
import kneebayes
after_import = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)
kneebayes.load_model().diagnose({{"locking_or_catching": "yes", "swelling_behind_knee": "yes"}}).posterior
after_diagnose = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)
print(json.dumps({{"after_import": after_import, "after_diagnose": after_diagnose}}))
"""


def heavy_modules_loaded() -> dict[str, list[str]]:
    """Which of pgmpy, pandas, matplotlib, networkx, scipy a fresh process has loaded."""
    done = subprocess.run([sys.executable, "-c", LOADED_PROBE], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_commands() -> list[tuple[str, list[str]]]:
    """The console script as a user's shell finds it, and the script itself when PATH holds a shim."""
    found = shutil.which("kneebayes")
    beside = Path(sys.executable).parent / "kneebayes"
    commands = []
    if found:
        commands.append((f"kneebayes on PATH ({found})", [found, *CLI_ARGS]))
    if beside.exists() and (not found or Path(found).resolve() != beside.resolve()):
        commands.append((f"console script ({beside})", [str(beside), *CLI_ARGS]))
    if not commands:
        commands.append(("python -m kneebayes.cli", [sys.executable, "-m", "kneebayes.cli", *CLI_ARGS]))
    return commands


def bytecode_cached_env(prefix: str) -> dict[str, str] | None:
    """An environment that keeps compiled bytecode (in `prefix`), when this one forbids it; else None.

    With PYTHONDONTWRITEBYTECODE set (as on some CI machines), every fresh
    process compiles kneebayes from source: an installed wheel would not.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return None
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = prefix
    return env


def measure_startup(import_runs: int, cli_runs: int) -> tuple[dict[str, dict[str, float]], dict[str, list[str]], dict[str, list[str]]]:
    """Median and min wall time of each start-up row, printed as they come; plus the heavy-module probe."""
    pgmpy_import = ("from pgmpy.models import DiscreteBayesianNetwork; "
                    "from pgmpy.inference import VariableElimination")
    (cli_label, cli_argv), *more_cli = cli_commands()
    rows: list[tuple[str, str, list[str], int, float | None]] = [
        ("python_bare", "python -c pass", [sys.executable, "-c", "pass"], import_runs, None),
        ("import_kneebayes", 'python -c "import kneebayes"', [sys.executable, "-c", "import kneebayes"], import_runs, TARGET_IMPORT_S),
        ("import_pgmpy", "pgmpy import (models, inference)", [sys.executable, "-W", "ignore", "-c", pgmpy_import],
         max(5, import_runs // 3), None),
        ("cold_cli", "cold kneebayes diagnose ...", cli_argv, cli_runs, TARGET_CLI_S),
    ]
    rows += [(f"cold_cli_{i + 2}", f"cold CLI, {label}", argv, cli_runs, TARGET_CLI_S)
             for i, (label, argv) in enumerate(more_cli)]
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="kneebayes-pycache-") as prefix:
        cached = bytecode_cached_env(prefix)
        header = f"  {'':<34}{'median s':>9}{'min s':>8}"
        if cached is not None:
            header += f"{'cached':>9}{'min s':>8}   (PYTHONDONTWRITEBYTECODE is set: 'cached' keeps bytecode, as an installed wheel does)"
        print(header)
        for key, label, argv, runs, target in rows:
            times = wall_times(argv, runs)
            out[key] = {"median": statistics.median(times), "min": min(times)}
            line = f"  {label:<34}{out[key]['median']:9.3f}{out[key]['min']:8.3f}"
            if cached is not None:
                wall_times(argv, 1, env=cached)                       # compile once into the cache
                ctimes = wall_times(argv, runs, env=cached)
                out[key].update(cached_median=statistics.median(ctimes), cached_min=min(ctimes))
                line += f"{out[key]['cached_median']:9.3f}{out[key]['cached_min']:8.3f}"
            if target is not None:
                verdicts = [mark(out[key]["median"] < target)]
                if cached is not None:
                    verdicts.append(mark(out[key]["cached_median"] < target) + " cached")
                line += f"   target < {target:g} s median: {', '.join(verdicts)}"
            print(line)
    print(f"      cold CLI = {cli_label}: kneebayes {' '.join(CLI_ARGS)}")
    loaded = heavy_modules_loaded()
    clean = not loaded["after_import"] and not loaded["after_diagnose"]
    print(f"  heavy modules after import kneebayes: {', '.join(loaded['after_import']) or 'none'}; "
          f"after a first diagnose: {', '.join(loaded['after_diagnose']) or 'none'} ({mark(clean)})")
    commands = {key: argv for key, _, argv, _, _ in rows}
    return out, commands, loaded


# -- report ---------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="number of different evidence sets (default 300)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="warm passes over all cases for kneebayes, reported beside the first calls (default 5)")
    parser.add_argument("--seed", type=int, default=20261125, help="seed for sampling the cases")
    parser.add_argument("--import-runs", type=int, default=15, help="fresh processes for the import time (default 15)")
    parser.add_argument("--cli-runs", type=int, default=10, help="fresh processes for the cold CLI time (default 10)")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    import pgmpy
    import pyagrum

    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pgmpy": pgmpy.__version__,
        "pyagrum": pyagrum.__version__,
        "kneebayes": kneebayes.__version__,
        "cpu_count": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))

    model = kneebayes.load_model()
    cases = typical_evidence(model, args.cases, args.seed)
    sizes = [len(ev) for ev in cases]
    print(f"Model {model.name} {model.version} (hash {model.content_hash[:12]}): {len(model.nodes)} nodes, "
          f"{len(model.causes)} causes; {len(cases)} evidence sets, {min(sizes)}-{max(sizes)} answers each "
          f"(mean {statistics.fmean(sizes):.1f}), seed {args.seed}")

    ours, explaining = time_first_calls(model, cases)      # first: nothing has diagnosed these cases yet
    isolated = time_isolated(model, typical_evidence(model, args.cases, args.seed + 1))
    settled = settled_by_fast_path(model, cases)
    warm = time_warm(model, cases, args.repeats)
    theirs, pgmpy_setup_s, worst = time_pgmpy(model, cases)
    gum_times, pyagrum_setup_s, worst_gum = time_pyagrum(model, cases)
    ours_med, ours_p90 = pct(ours, 50), pct(ours, 90)
    warm_med, warm_p90 = pct(warm, 50), pct(warm, 90)
    theirs_med, theirs_p90 = pct(theirs, 50), pct(theirs, 90)
    gum_med, gum_p90 = pct(gum_times, 50), pct(gum_times, 90)
    ratio = theirs_med / ours_med
    gum_ratio = gum_med / ours_med

    print()
    print(f"diagnose().posterior, first call on each of {len(cases)} new evidence sets (every engine once per set)")
    print(f"  {'':<34}{'median µs':>12}{'p90 µs':>12}")
    print(f"  {'kneebayes, first call':<34}{ours_med:>12.1f}{ours_p90:>12.1f}   target < {TARGET_MEDIAN_US:g} µs median: {mark(ours_med < TARGET_MEDIAN_US)}")
    print(f"  {'kneebayes, first call, mean':<34}{statistics.fmean(ours):>12.1f}{'':>12}   "
          f"{settled:.1%} settled by the fast path, the rest by the general engine")
    iso_med, iso_p90 = pct(isolated, 50), pct(isolated, 90)
    print(f"  {'kneebayes, isolated first call':<34}{iso_med:>12.1f}{iso_p90:>12.1f}   "
          f"target < {TARGET_ISOLATED_US:g} µs median: {mark(iso_med < TARGET_ISOLATED_US)}")
    print(f"  {f'kneebayes, warm (x{args.repeats} repeats)':<34}{warm_med:>12.1f}{warm_p90:>12.1f}   (the same sets again: for comparison only)")
    print(f"  {'pgmpy VariableElimination':<34}{theirs_med:>12.1f}{theirs_p90:>12.1f}")
    print(f"  {'pyAgrum LazyPropagation':<34}{gum_med:>12.1f}{gum_p90:>12.1f}")
    print(f"  {'ratio pgmpy / kneebayes':<34}{ratio:>11.1f}x{theirs_p90 / ours_p90:>11.1f}x   target >= {TARGET_RATIO:g}x: {mark(ratio >= TARGET_RATIO)}")
    print(f"  {'ratio pyAgrum / kneebayes':<34}{gum_ratio:>11.1f}x{gum_p90 / ours_p90:>11.1f}x")
    print(f"  agreement over {len(cases) * len(model.causes)} posteriors: largest |difference| {worst:.2e} with pgmpy, "
          f"{worst_gum:.2e} with pyAgrum (tolerance {AGREEMENT_TOL:g})")
    print(f"  set-up, once: pgmpy (to_pgmpy + VariableElimination) {pgmpy_setup_s * 1e3:.0f} ms, "
          f"pyAgrum (to_pgmpy + BayesNet + LazyPropagation) {pyagrum_setup_s * 1e3:.0f} ms")
    explain_med, explain_p90 = pct(explaining, 50), pct(explaining, 90)
    print()
    print("What the answers point to: dx.explaining_causes, first asked of each new evidence set's diagnosis")
    print(f"  {'kneebayes, extra':<28}{explain_med:>12.1f}{explain_p90:>12.1f}   target < {TARGET_EXPLAIN_US:g} µs median: "
          f"{mark(explain_med < TARGET_EXPLAIN_US)}")

    print()
    print("Start-up (wall time of fresh processes)")
    startup, cli, loaded = measure_startup(args.import_runs, args.cli_runs)

    if args.json:
        numbers = {
            "machine": machine,
            "model": {"name": model.name, "version": model.version, "content_hash": model.content_hash},
            "cases": len(cases), "repeats": args.repeats, "seed": args.seed,
            "answers_per_case": {"min": min(sizes), "max": max(sizes), "mean": statistics.fmean(sizes)},
            "timed": "first call on each new evidence set; warm = the same sets repeated, for comparison",
            "diagnose_us": {"kneebayes_median": ours_med, "kneebayes_p90": ours_p90,
                            "kneebayes_mean": statistics.fmean(ours), "fast_path_share": settled,
                            "kneebayes_isolated_median": iso_med, "kneebayes_isolated_p90": iso_p90,
                            "kneebayes_warm_median": warm_med, "kneebayes_warm_p90": warm_p90,
                            "pgmpy_median": theirs_med, "pgmpy_p90": theirs_p90, "ratio_median": ratio,
                            "pyagrum_median": gum_med, "pyagrum_p90": gum_p90, "pyagrum_ratio_median": gum_ratio},
            "explaining_causes_extra_us": {"median": explain_med, "p90": explain_p90},
            "agreement_max_abs_diff": worst,
            "agreement_max_abs_diff_pyagrum": worst_gum,
            "pgmpy_setup_s": pgmpy_setup_s,
            "pyagrum_setup_s": pyagrum_setup_s,
            "startup_s": startup,
            "cold_cli_commands": cli,
            "heavy_modules": loaded,
            "targets": {"median_us": TARGET_MEDIAN_US, "isolated_median_us": TARGET_ISOLATED_US, "ratio": TARGET_RATIO, "explaining_extra_us": TARGET_EXPLAIN_US,
                        "import_s": TARGET_IMPORT_S, "cold_cli_s": TARGET_CLI_S},
        }
        Path(args.json).write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
