"""Time a move of the live explorer's sliders, beside what pgmpy and pyAgrum take to show one changed number.

    pip install -e ".[benchmark,notebook]"
    python benchmarks/bench_explore.py                   # 60 moves of each kind
    python benchmarks/bench_explore.py --json benchmarks/results/bench_explore.json

What is timed, per move (a slider of one of the causes' numbers set to a
random value in its span; the moves are seeded, the same for every engine):

* **explorer, claims on demand**: ``slider.value = v`` on a
  ``kneebayes.explore(model, evidence)`` view with *check claims on every
  change* unticked. Setting a widget's value runs the update synchronously,
  so the time is everything until the output's HTML is rebuilt: the new
  model (``with_parameters``), its diagnosis and the page.
* **explorer, claims on every change** (the default): the same, plus the
  38 claims checked and shown; ``view.seconds`` (when the diagnosis showed)
  beside the whole move.
* **kneebayes, the number alone**: ``model.with_parameters(change)`` then
  ``.diagnose(evidence).posterior``: what a script that changes a number
  pays, without widgets.
* **pyAgrum**: the changed node's table written into the ``BayesNet``
  (``fillWith``), then on one ``LazyPropagation`` built before the first
  move (reused, the fastest way we found that stays exact; pyAgrum's
  ``showInference`` builds a new one per call) ``setEvidence``,
  ``makeInference`` and every cause's ``posterior``. The new table comes
  from the changed model's pgmpy export, made before the clock starts:
  pyAgrum is not charged for turning a noisy-OR weight into a table.
* **pgmpy**: the changed node's ``TabularCPD`` put in place
  (``add_cpds`` replaces it; made before the clock starts, as for
  pyAgrum), then ``VariableElimination(net).query(causes, evidence,
  joint=False)``.

Every engine's posteriors after every move are checked against
``diagnose`` on the changed model to 1e-9 (asserted). Timings vary with
the machine and its load, so nothing is asserted about them; the 16.7 ms of
a frame at 60 Hz is printed beside the explorer's numbers as the target.
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
from typing import Any, Callable

import numpy as np

import kneebayes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyagrum_ref  # noqa: E402 - the benchmarks' own helper, beside this file

FRAME_MS = 1000.0 / 60.0
TOL = 1e-9
#: The answers the explorer starts from: a runner who reports locking but no swelling behind the knee.
EVIDENCE = {"locking_or_catching": "yes", "swelling_behind_knee": "no", "poor_warmup": "yes"}


def _moves(view: Any, n: int, seed: int) -> list[tuple[str, float]]:
    """``n`` (slider address, value) pairs, each value drawn uniformly from that slider's span."""
    rng = np.random.default_rng(seed)
    names = sorted(view.sliders)
    out = []
    for _ in range(n):
        address = names[int(rng.integers(len(names)))]
        slider = view.sliders[address]
        out.append((address, float(rng.uniform(slider.min, slider.max))))
    return out


def _ms(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p90": float(np.percentile(values, 90))}


def time_explorer(model: kneebayes.Model, moves: list[tuple[str, float]], live_claims: bool,
                  warm: int) -> dict[str, Any]:
    """Move the view's sliders one after another; the first ``warm`` moves are not counted."""
    view = kneebayes.explore(model, evidence=EVIDENCE)
    view.live_claims.value = live_claims
    whole, shown, claims = [], [], []
    for n, (address, value) in enumerate(moves):
        slider = view.sliders[address]
        start = time.perf_counter()
        slider.value = value
        took = time.perf_counter() - start
        if n >= warm:
            whole.append(took * 1000)
            shown.append(view.seconds * 1000)
            if live_claims and view.claims_seconds is not None:
                claims.append(view.claims_seconds * 1000)
    out = {"move_ms": _ms(whole), "diagnosis_shown_ms": _ms(shown), "moves": len(whole)}
    if claims:
        out["claims_check_ms"] = _ms(claims)
    return out


def changed_models(model: kneebayes.Model, moves: list[tuple[str, float]]) -> list[tuple[str, kneebayes.Model]]:
    """Each move as (changed node, the model with that one number set), one after another as the sliders do.

    A table cell's slider moves its column's other states with it; the
    explorer does that, so the changes come from a view driven through the
    same moves.
    """
    view = kneebayes.explore(model, evidence=EVIDENCE)
    view.live_claims.value = False
    out = []
    for address, value in moves:
        view.sliders[address].value = value
        out.append((address.split(".", 1)[0], view.model))
    return out


def time_ours(base: kneebayes.Model, changed: list[tuple[str, kneebayes.Model]],
              warm: int) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """``with_parameters`` + ``diagnose(...).posterior`` per move, from the numbers each changed model has."""
    times, posteriors = [], []
    current = base
    for n, (_, target) in enumerate(changed):
        change = {address: (p.value, p.range) for address, p in target.parameters.items()
                  if current.parameters[address] != p}   # with its range: a slider reaches past the stated one
        start = time.perf_counter()
        current = current.with_parameters(change)
        post = dict(current.diagnose(EVIDENCE).posterior)
        took = time.perf_counter() - start
        posteriors.append(post)
        if n >= warm:
            times.append(took * 1000)
    return {"move_ms": _ms(times)}, posteriors


def _time_moves(engine: str, moves: list[Callable[[], dict[str, float]]], expected: list[dict[str, float]],
                warm: int) -> dict[str, Any]:
    """Each move (a call that applies one change and returns every cause's P(yes)) timed on its own, its
    posteriors checked against ``diagnose`` on the changed model."""
    times, worst = [], 0.0
    for n, move in enumerate(moves):
        start = time.perf_counter()
        post = move()
        took = time.perf_counter() - start
        worst = max(worst, max(abs(post[c] - expected[n][c]) for c in expected[n]))
        assert worst <= TOL, f"{engine} after move {n}: differs from diagnose by {worst:.2e}"
        if n >= warm:
            times.append(took * 1000)
    return {"move_ms": _ms(times), "max_abs_diff": worst}


def time_pyagrum(base: kneebayes.Model, changed: list[tuple[str, kneebayes.Model]], warm: int,
                 expected: list[dict[str, float]]) -> dict[str, Any]:
    import pyagrum as gum

    bn = pyagrum_ref.from_pgmpy(base.to_pgmpy())
    causes = list(base.causes)
    ie = gum.LazyPropagation(bn)
    ie.setEvidence(EVIDENCE)
    ie.makeInference()   # builds the junction tree: set-up, not a move

    def move(node: str, values: list[float]) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            bn.cpt(node).fillWith(values)
            ie.setEvidence(EVIDENCE)   # setting the evidence again makes the engine redo its messages
            ie.makeInference()
            return {c: float(ie.posterior(c)[{c: "yes"}]) for c in causes}
        return run

    moves = []
    for node, model in changed:   # the new table in pyAgrum's order, made before the clock starts
        cpd = model.to_pgmpy().get_cpds(node)
        order = [cpd.variables.index(x) for x in reversed(list(bn.cpt(node).names))]
        moves.append(move(node, np.transpose(cpd.values, order).ravel().tolist()))
    return _time_moves("pyAgrum", moves, expected, warm)


def time_pgmpy(base: kneebayes.Model, changed: list[tuple[str, kneebayes.Model]], warm: int,
               expected: list[dict[str, float]]) -> dict[str, Any]:
    from pgmpy.inference import VariableElimination

    net = base.to_pgmpy()
    causes = list(base.causes)

    def move(cpd: Any) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            net.add_cpds(cpd)
            found = VariableElimination(net).query(causes, evidence=EVIDENCE, joint=False, show_progress=False)
            return {c: float(f.values[f.state_names[c].index("yes")]) for c, f in found.items()}
        return run

    # the changed tables are made before the clock starts
    return _time_moves("pgmpy", [move(model.to_pgmpy().get_cpds(node)) for node, model in changed], expected, warm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=60, help="timed moves per kind (default 60)")
    parser.add_argument("--warm", type=int, default=5, help="untimed moves first (default 5)")
    parser.add_argument("--seed", type=int, default=20261203, help="seed for the moves")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")   # pgmpy's and pyAgrum's own notices are not what is measured

    model = kneebayes.load_model()
    view = kneebayes.explore(model, evidence=EVIDENCE)
    moves = _moves(view, args.moves + args.warm, args.seed)
    load_before = os.getloadavg()[0]
    changed = changed_models(model, moves)
    results: dict[str, Any] = {
        "explorer_claims_on_demand": time_explorer(model, moves, False, args.warm),
        "explorer_claims_live": time_explorer(model, moves, True, args.warm),
    }
    results["kneebayes_number_alone"], expected = time_ours(model, changed, args.warm)
    results["pyagrum"] = time_pyagrum(model, changed, args.warm, expected)
    results["pgmpy"] = time_pgmpy(model, changed, args.warm, expected)
    load_after = os.getloadavg()[0]

    ours = results["kneebayes_number_alone"]["move_ms"]["median"]
    print(f"knee model, {len(view.sliders)} cause sliders, {args.moves} timed moves (after {args.warm} untimed), "
          f"evidence {EVIDENCE}; load {load_before:.2f} -> {load_after:.2f}")
    print("| what | median ms | p90 ms | vs a frame (16.7 ms) |")
    print("|---|---:|---:|---|")
    rows = [("explorer move, claims on demand", results["explorer_claims_on_demand"]["move_ms"]),
            ("explorer move, claims on every change: diagnosis shown",
             results["explorer_claims_live"]["diagnosis_shown_ms"]),
            ("explorer move, claims on every change: claims shown too", results["explorer_claims_live"]["move_ms"]),
            ("kneebayes: with_parameters + diagnose", results["kneebayes_number_alone"]["move_ms"]),
            ("pyAgrum: fillWith + setEvidence + makeInference + posteriors", results["pyagrum"]["move_ms"]),
            ("pgmpy: add_cpds + VariableElimination query", results["pgmpy"]["move_ms"])]
    for label, ms in rows:
        frame = f"{ms['median'] / FRAME_MS:.2f} of a frame" if label.startswith("explorer") else ""
        print(f"| {label} | {ms['median']:.2f} | {ms['p90']:.2f} | {frame} |")
    for engine in ("pyagrum", "pgmpy"):
        ratio = results[engine]["move_ms"]["median"] / ours
        print(f"{engine} / kneebayes (the number alone): {ratio:.1f}x; largest posterior difference "
              f"{results[engine]['max_abs_diff']:.1e}")
    if args.json:
        import pgmpy
        import pyagrum

        numbers = {
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "numpy": np.__version__, "pgmpy": pgmpy.__version__, "pyagrum": pyagrum.__version__,
                        "cpu_count": os.cpu_count(), "load_average_1min": [load_before, load_after]},
            "moves": args.moves, "warm": args.warm, "seed": args.seed, "evidence": EVIDENCE,
            "sliders": len(view.sliders), "frame_ms": FRAME_MS, **results,
        }
        Path(args.json).write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
