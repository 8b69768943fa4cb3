"""Time ``model.diagnose_frame`` against a loop of ``model.diagnose`` on the networks pgmpy ships.

    python benchmarks/bench_frames.py                                  # the default networks below
    python benchmarks/bench_frames.py --networks alarm hepar2 --next-question --rows 60
    python benchmarks/bench_frames.py --networks diabetes munin1 --json out.json

A batch of rows should never cost more a row than diagnosing them one by
one: a single diagnosis is a batch of one. For each network (read from
pgmpy's bundled ``utils/example_models/NAME.bif.gz``; targets its roots, or
the ten roots with most descendants, as ``bench_scale.py`` takes them):

* **Rows**: ``--rows`` plus ``--loop-rows`` complete cases forward-sampled
  from the network (``model.sample``, seeded), each value hidden with
  probability ``--hidden``; the targets' columns dropped.
* **Loop**: ``model.diagnose(row)`` (``.distributions``, and with
  ``--next-question`` ``.next_question``) over the first ``--loop-rows``
  rows, timed first, per row.
* **Frame**: ``model.diagnose_frame`` of the other ``--rows`` rows (with
  ``next_question=True`` under ``--next-question``), its first call, per
  row. Different rows from the loop's, so that neither reads plans the
  other made; every frame row is then checked against ``model.diagnose`` to
  1e-12 (posteriors, log P(evidence), the next question), untimed.

Each network runs in this process, one after another; timings move with
the machine and its load, so nothing is asserted but agreement.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import kneebayes

DEFAULT = ["alarm", "hailfinder", "water", "mildew", "barley", "pigs", "diabetes", "munin1"]
MAX_TARGETS = 10
TOL = 1e-12


def bif_path(name: str) -> Path:
    import pgmpy

    return Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"


def targets_of(path: Path) -> list[str]:
    """The roots, or the ``MAX_TARGETS`` roots with most descendants (ties by name), from the BIF's blocks."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    parents: dict[str, list[str]] = {}
    for head in re.findall(r"probability\s*\(([^)]*)\)", text):
        child, _, given = head.partition("|")
        parents[child.strip()] = [p.strip() for p in given.split(",") if p.strip()]
    children: dict[str, list[str]] = {n: [] for n in parents}
    for n, ps in parents.items():
        for p in ps:
            children[p].append(n)

    def descendants(n: str) -> int:
        seen, stack = set(), [n]
        while stack:
            for c in children[stack.pop()]:
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        return len(seen)

    roots = [n for n, ps in parents.items() if not ps]
    return sorted(roots, key=lambda r: (-descendants(r), r))[:MAX_TARGETS]


def evidence(row: pd.Series) -> dict[str, str]:
    return {k: v for k, v in row.items() if isinstance(v, str)}


def run_network(name: str, args: argparse.Namespace) -> dict[str, Any]:
    path = bif_path(name)
    targets = targets_of(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)   # the published files are rounded
        model = kneebayes.load_bif(path, targets=targets)
    cases = model.sample(args.rows + args.loop_rows, seed=args.seed)
    hidden = np.random.default_rng(args.seed).random(cases.shape) < args.hidden
    frame = cases.astype(object).mask(hidden).drop(columns=targets)
    loop_rows, frame = frame.iloc[: args.loop_rows], frame.iloc[args.loop_rows :].reset_index(drop=True)
    model.diagnose({}).distributions   # one-off costs, paid by neither
    t0 = time.perf_counter()
    for _, row in loop_rows.iterrows():
        dx = model.diagnose(evidence(row))
        dx.distributions
        if args.next_question:
            dx.next_question
    loop_ms = (time.perf_counter() - t0) * 1e3 / len(loop_rows)
    t0 = time.perf_counter()
    out = model.diagnose_frame(frame, next_question=args.next_question)
    frame_ms = (time.perf_counter() - t0) * 1e3 / len(frame)
    worst = 0.0
    for r, row in frame.iterrows():
        dx = model.diagnose(evidence(row))
        worst = max(worst, abs(out["log_evidence_probability"][r] - dx.log_evidence_probability))
        for t, dist in dx.distributions.items():
            for s, p in dist.items():
                column = t if model.targets.binary and s == "yes" else f"{t}={s}"
                if column in out:
                    worst = max(worst, abs(out[column][r] - p))
        if args.next_question:
            q = dx.next_question
            assert out["next_question"][r] == (None if q is None else q.id), (name, r)
    assert worst <= TOL, (name, worst)
    print(f"{name:10s} {len(model.nodes):5d} nodes  frame {frame_ms:9.2f} ms a row  loop {loop_ms:9.2f} ms a row  "
          f"ratio {loop_ms / frame_ms:5.2f}x  (largest difference {worst:.1e})", flush=True)
    return {"network": name, "nodes": len(model.nodes), "targets": targets, "joint_states": model.network.n_joint,
            "frame_rows": len(frame), "loop_rows": len(loop_rows), "frame_ms_per_row": frame_ms,
            "loop_ms_per_row": loop_ms, "largest_difference": worst}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", nargs="+", default=DEFAULT, metavar="NAME", help="pgmpy example networks")
    parser.add_argument("--rows", type=int, default=100, help="rows of the frame (default 100)")
    parser.add_argument("--loop-rows", type=int, default=10, help="other rows for the loop (default 10)")
    parser.add_argument("--hidden", type=float, default=0.7, help="chance each value is hidden (default 0.7)")
    parser.add_argument("--next-question", action="store_true", help="also the next question, both ways")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    if not (0.0 <= args.hidden <= 1.0) or args.rows < 1 or args.loop_rows < 1 or not math.isfinite(args.hidden):
        parser.error("--hidden must be in [0, 1] and --rows, --loop-rows at least 1")
    print(f"kneebayes {kneebayes.__version__}, python {sys.version.split()[0]}; {args.rows} frame rows, "
          f"{args.loop_rows} loop rows, {args.hidden:.0%} hidden, next question: {args.next_question}", flush=True)
    rows = [run_network(name, args) for name in args.networks]
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "networks": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
