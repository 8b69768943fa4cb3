"""Time to a first answer: what ``import kneebayes``, ``load_model()`` and a first diagnosis cost a fresh process.

    python benchmarks/bench_startup.py              # 15 fresh processes per row
    python benchmarks/bench_startup.py --runs 31

Each row is the median (and minimum) over ``--runs`` fresh processes, run one
after another:

* in one process, stage by stage (``time.perf_counter`` between the stages):
  ``import numpy, yaml`` (the baseline every user of kneebayes pays), then
  ``import kneebayes``, ``load_model()``, the first
  ``model.diagnose(ev).posterior`` and its ``next_question`` (the ranking);
  the "kneebayes on top of numpy + yaml" line is the sum of those stages;
* whole processes, wall time: ``python -c "import numpy, yaml"`` and the same
  process going on to load and diagnose; the difference is the same cost
  seen from outside, with the interpreter's exit included;
* a cold ``kneebayes diagnose locking_or_catching=yes`` (the console script
  beside this interpreter; a pyenv-style shim on PATH adds tens of ms of its
  own and is not timed);
* parsing models/knee.yaml alone, in this process, with libyaml and with the
  pure-Python reader (median of 20 parses each).

When ``PYTHONDONTWRITEBYTECODE`` is set, every fresh process compiles
kneebayes's modules from source, which an installed wheel never does; each
row is then also timed with bytecode kept in a temporary
``PYTHONPYCACHEPREFIX`` (the "cached" columns). Nothing is asserted: the
numbers move with the machine's load, which the first line prints.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVIDENCE = {"locking_or_catching": "yes"}
CLI_ARGS = ["diagnose", "locking_or_catching=yes"]

STAGES = f"""
import time
t = [time.perf_counter()]
import numpy, yaml
t.append(time.perf_counter())
import kneebayes
t.append(time.perf_counter())
model = kneebayes.load_model()
t.append(time.perf_counter())
dx = model.diagnose({EVIDENCE!r})
dx.posterior
t.append(time.perf_counter())
dx.next_question
t.append(time.perf_counter())
import json
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
STAGE_NAMES = ["import numpy, yaml", "+ import kneebayes", "+ load_model()", "+ first diagnose().posterior",
               "+ its next_question"]
BASELINE = "import numpy, yaml"
WHOLE = f"import numpy, yaml, kneebayes; kneebayes.load_model().diagnose({EVIDENCE!r}).next_question"


def run(argv: list[str], env: dict[str, str] | None) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, done.stdout


def stage_times(runs: int, env: dict[str, str] | None) -> list[list[float]]:
    """Per stage, the seconds it took in each fresh process."""
    per_run = [json.loads(run([sys.executable, "-c", STAGES], env)[1]) for _ in range(runs)]
    return [list(column) for column in zip(*per_run)]


def wall(argv: list[str], runs: int, env: dict[str, str] | None) -> list[float]:
    return [run(argv, env)[0] for _ in range(runs)]


def cli_argv() -> list[str]:
    beside = Path(sys.executable).parent / "kneebayes"
    return [str(beside), *CLI_ARGS] if beside.exists() else [sys.executable, "-m", "kneebayes.cli", *CLI_ARGS]


def parse_times(repeats: int = 20) -> dict[str, float]:
    """Median seconds to parse the packaged model file, with each YAML reader this machine has."""
    from kneebayes.modelfile import yamlsafe
    from kneebayes.modelfile.load import default_model_path

    text = default_model_path().read_text(encoding="utf-8")
    readers = {"pure Python": False}
    if yamlsafe.HAS_LIBYAML:
        readers = {"libyaml": True, **readers}
    out = {}
    for name, libyaml in readers.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            yamlsafe.parse_yaml(text, libyaml=libyaml)
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


def line(label: str, times: list[float], cached: list[float] | None) -> str:
    text = f"  {label:<44}{statistics.median(times) * 1e3:9.1f}{min(times) * 1e3:8.1f}"
    if cached is not None:
        text += f"{statistics.median(cached) * 1e3:9.1f}{min(cached) * 1e3:8.1f}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per row (default 15)")
    args = parser.parse_args(argv)

    print(f"{sys.platform}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"1-minute load {os.getloadavg()[0]:.2f}; median and min of {args.runs} fresh processes, ms")
    with tempfile.TemporaryDirectory(prefix="kneebayes-pycache-") as prefix:
        cached_env = None
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            cached_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            cached_env["PYTHONPYCACHEPREFIX"] = prefix
            run([sys.executable, "-c", STAGES], cached_env)          # compile once into the cache
            run(cli_argv(), cached_env)
        header = f"  {'':<44}{'median':>9}{'min':>8}"
        if cached_env is not None:
            header += f"{'cached':>9}{'min':>8}   (PYTHONDONTWRITEBYTECODE is set; 'cached' keeps bytecode)"
        print(header)

        print(" in one process, stage by stage:")
        stages = stage_times(args.runs, None)
        cached_stages = stage_times(args.runs, cached_env) if cached_env is not None else None
        for i, name in enumerate(STAGE_NAMES):
            print(line(name, stages[i], cached_stages[i] if cached_stages else None))
        ours = [sum(run_[1:]) for run_ in zip(*stages)]
        cached_ours = [sum(run_[1:]) for run_ in zip(*cached_stages)] if cached_stages else None
        print(line("kneebayes on top of numpy + yaml", ours, cached_ours))

        print(" whole processes, wall time:")
        rows = [("python -c pass", [sys.executable, "-c", "pass"]),
                (f'python -c "{BASELINE}"', [sys.executable, "-c", BASELINE]),
                ("... + import kneebayes, load, diagnose", [sys.executable, "-c", WHOLE]),
                (f"cold kneebayes {' '.join(CLI_ARGS)}", cli_argv())]
        walls = {}
        for label, command in rows:
            times = wall(command, args.runs, None)
            cached = wall(command, args.runs, cached_env) if cached_env is not None else None
            walls[label] = (statistics.median(times), statistics.median(cached) if cached else None)
            print(line(label, times, cached))
        (base, cbase), (full, cfull) = walls[rows[1][0]], walls[rows[2][0]]
        difference = f"  {'difference of the medians':<44}{(full - base) * 1e3:9.1f}{'':8}"
        if cbase is not None and cfull is not None:
            difference += f"{(cfull - cbase) * 1e3:9.1f}"
        print(difference)

    print(" parsing models/knee.yaml, in this process (median of 20):")
    for name, seconds in parse_times().items():
        print(f"  {name:<44}{seconds * 1e3:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
