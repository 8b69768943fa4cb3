"""Simulated runners: does the adaptive interview find the cause with fewer questions?

    python benchmarks/simulate_runners.py                      # 5000 runners, seed 20261125
    python benchmarks/simulate_runners.py --runners 500 --seed 7 --json out.json

Method (docs/simulated-runners.md explains it and reads the results):

1. Draw ``--runners`` complete cases from the knee model itself (ancestral
   sampling from its tables, fixed seed). A runner's "causes present" are
   the causes sampled as yes. Runners with no cause present are left out
   (there is no right answer to hit) and counted.
2. Adaptive: ``kneebayes.Interview(model)`` with its defaults (red-flag
   screening on), answering every question from the sampled case, until
   ``next_question()`` returns None (the stop rule). Recorded: questions
   asked until the stop, the stop reason, and a top-1 hit at the stop.
   To compare like with like after k questions, the session then goes on
   asking ``session.diagnosis.next_question`` (which stays available after
   the stop) until every askable question is answered; the
   k = 1..10 are printed, the whole curve is in the JSON and the figure.
3. Fixed order: the askable nodes in the model file's order, answered the
   same way, after k questions. Also, for reference, a random order (a
   fresh seeded permutation per runner).
4. Ceiling: every askable question answered.

A hit: the top cause (``Diagnosis.ranked_causes[0]``, ties by id) is one
of the causes present. Deterministic given ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

import kneebayes
from kneebayes.research.sampling import sample_cases

K_REPORT = 10          # the table reports k = 1..10; the curves go on to every askable question
ROOT = Path(__file__).resolve().parent.parent


# -- sampling complete cases from the model -------------------------------------------

def forward_sample(model: kneebayes.Model, n: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """n complete cases drawn from the model's own tables (the library's vectorised ancestral sampler)."""
    return sample_cases(model, n, rng)


def causes_present(model: kneebayes.Model, case: dict[str, str]) -> frozenset[str]:
    return frozenset(c for c in model.causes if case[c] == "yes")


def top_cause(dx: kneebayes.Diagnosis) -> str:
    return dx.ranked_causes[0][0]


# -- one runner ----------------------------------------------------------------------

def unscreened_stop(model: kneebayes.Model, case: dict[str, str], present: frozenset[str]) -> tuple[int, bool]:
    """Questions until the stop, and a hit there, with the red-flag screen turned off (for reference)."""
    session = kneebayes.Interview(model, screen_red_flags=False)
    n = 0
    while (q := session.next_question()) is not None:
        session.answer(q.id, case[q.id])
        n += 1
    return n, top_cause(session.diagnosis) in present


def adaptive(model: kneebayes.Model, case: dict[str, str], present: frozenset[str], k_max: int) -> dict:
    """Run the interview (defaults: red-flag screen on) to its stop, then on to k_max answers; hits after each k."""
    session = kneebayes.Interview(model)
    hits = [top_cause(session.diagnosis) in present]          # k = 0: the prior
    asked: list[str] = []
    while (q := session.next_question()) is not None:
        session.answer(q.id, case[q.id])
        asked.append(q.id)
        hits.append(top_cause(session.diagnosis) in present)
    stop = {"questions": len(asked), "hit": hits[-1], "reason": str(session.diagnosis.stop_reason),
            "red_flags_asked": sum(1 for a in asked if a in model.red_flag_nodes),
            "triage": session.diagnosis.triage.level}
    frozen = hits[: k_max + 1] + [hits[-1]] * (k_max + 1 - len(hits))   # the interview as run: stops, keeps its answer
    while len(asked) < k_max and (q := session.diagnosis.next_question) is not None:
        session.answer(q.id, case[q.id])
        asked.append(q.id)
        hits.append(top_cause(session.diagnosis) in present)
    return {"stop": stop, "hits": hits[: k_max + 1], "frozen": frozen, "first": asked[0] if asked else None}


def in_order(model: kneebayes.Model, case: dict[str, str], present: frozenset[str], order: list[str]) -> list[bool]:
    """Hits after k = 0..len(order) questions asked in the given order."""
    return [top_cause(model.diagnose({n: case[n] for n in order[:k]})) in present for k in range(len(order) + 1)]


# -- report ----------------------------------------------------------------------------

def rate(bits: list[bool]) -> float:
    return sum(bits) / len(bits)


def plot(path: Path, result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc = result["accuracy_after_k"]
    ks = acc["k"]
    stop = result["stop"]
    fig, (ax, hx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.plot(ks, acc["adaptive"], "o-", color="C0", ms=4, label="adaptive (kneebayes.Interview order)")
    ax.plot(ks, acc["fixed_file_order"], "s-", color="C1", ms=4, label="fixed order (model file: risk factors first)")
    ax.plot(ks, acc["random_order"], "^--", color="C2", alpha=0.6, ms=4, label="random order (reference)")
    ax.plot(ks, acc["adaptive_stopping"], "-", color="C0", alpha=0.35, lw=3, label="adaptive as run (holds after its stop)")
    ax.axhline(result["ceiling"], color="k", ls=":", label=f"ceiling: all {result['askable']} answered ({result['ceiling']:.1%})")
    ax.plot([stop["mean_questions"]], [stop["accuracy"]], "*", ms=16, color="C3",
            label=f"at the stop ({stop['accuracy']:.1%}, mean {stop['mean_questions']:.1f} questions)")
    ax.set_xlabel("questions answered (k)")
    ax.set_ylabel("top-1 accuracy (top cause is a cause present)")
    ax.set_xticks(ks[::2])
    ax.axvspan(0, K_REPORT, color="0.92", zorder=0)
    low = min(min(v) for name, v in acc.items() if name != "k")
    ax.set_ylim(max(0.0, np.floor(low * 10) / 10 - 0.1), 1.0)    # y axis does not start at 0: see its label
    ax.text(K_REPORT / 2, ax.get_ylim()[1] - 0.02, "k = 1..10 (the table's range)", ha="center", va="top", fontsize=8, color="0.4")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{result['scored']} simulated runners with a cause present (seed {result['seed']})", fontsize=10)
    counts = result["stop"]["questions_histogram"]
    xs = sorted(int(k) for k in counts)
    hx.bar(xs, [counts[str(x)] for x in xs], color="C0")
    hx.axvline(stop["mean_questions"], color="C3", ls="--", label=f"mean {stop['mean_questions']:.1f}")
    hx.axvline(stop["median_questions"], color="k", ls=":", label=f"median {stop['median_questions']:g}")
    hx.set_xlabel("questions asked until the interview stopped")
    hx.xaxis.get_major_locator().set_params(integer=True)
    hx.set_ylabel("runners")
    hx.legend(fontsize=8)
    hx.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runners", type=int, default=5000, help="complete cases to sample (default 5000)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--json", metavar="PATH", default=str(ROOT / "benchmarks/results/simulated_runners.json"),
                        help="where to write the numbers ('' for nowhere)")
    parser.add_argument("--plot", metavar="PATH", default=str(ROOT / "docs/simulated-runners.png"),
                        help="where to write the figure ('' for nowhere)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    model = kneebayes.load_model()
    rng = np.random.default_rng(args.seed)
    cases = forward_sample(model, args.runners, rng)
    file_order = [n.id for n in model.nodes if n.askable]

    left_out = 0
    n_causes: Counter[int] = Counter()
    stops, adaptive_hits, frozen_hits, fixed_hits, random_hits, ceiling = [], [], [], [], [], []
    first_questions: Counter[str] = Counter()
    for case in cases:
        present = causes_present(model, case)
        n_causes[len(present)] += 1
        if not present:
            left_out += 1
            continue
        a = adaptive(model, case, present, len(file_order))
        a["stop"]["unscreened_questions"], a["stop"]["unscreened_hit"] = unscreened_stop(model, case, present)
        stops.append(a["stop"])
        adaptive_hits.append(a["hits"])
        frozen_hits.append(a["frozen"])
        first_questions[a["first"]] += 1
        fixed_hits.append(in_order(model, case, present, file_order))
        perm = [file_order[j] for j in rng.permutation(len(file_order))]
        random_hits.append(in_order(model, case, present, perm))
        ceiling.append(top_cause(model.diagnose({n: case[n] for n in file_order})) in present)
    elapsed = time.perf_counter() - t0

    questions = [s["questions"] for s in stops]
    column = lambda rows, k: rate([r[k] for r in rows])  # noqa: E731
    ks = range(len(file_order) + 1)
    result = {
        "model": {"name": model.name, "version": model.version, "content_hash": model.content_hash},
        "seed": args.seed, "runners": args.runners, "askable": len(file_order),
        "left_out_no_cause": left_out, "scored": len(stops),
        "causes_present_histogram": {str(k): v for k, v in sorted(n_causes.items())},
        "stop": {
            "mean_questions": statistics.fmean(questions), "median_questions": statistics.median(questions),
            "min_questions": min(questions), "max_questions": max(questions),
            "questions_histogram": {str(k): v for k, v in sorted(Counter(questions).items())},
            "accuracy": rate([s["hit"] for s in stops]),
            "reasons": dict(Counter(s["reason"] for s in stops).most_common()),
            "mean_red_flags_asked": statistics.fmean(s["red_flags_asked"] for s in stops),
            "see_doctor_share": rate([s["triage"] == "see_doctor" for s in stops]),
            "without_red_flag_screen": {
                "mean_questions": statistics.fmean(s["unscreened_questions"] for s in stops),
                "median_questions": statistics.median(s["unscreened_questions"] for s in stops),
                "accuracy": rate([s["unscreened_hit"] for s in stops]),
            },
        },
        "accuracy_after_k": {
            "k": list(ks),
            "adaptive": [column(adaptive_hits, k) for k in ks],
            "adaptive_stopping": [column(frozen_hits, k) for k in ks],
            "fixed_file_order": [column(fixed_hits, k) for k in ks],
            "random_order": [column(random_hits, k) for k in ks],
        },
        "ceiling": rate(ceiling),
        "first_questions": dict(first_questions.most_common()),
        "fixed_order": file_order,
        "seconds": elapsed,
    }

    print(f"{model.name} {model.version} (hash {model.content_hash[:12]}), seed {args.seed}: "
          f"{args.runners} runners sampled, {left_out} left out (no cause present), {len(stops)} scored; "
          f"{elapsed:.0f} s")
    print("causes present per runner: " + ", ".join(f"{k}: {v}" for k, v in sorted(n_causes.items())))
    s = result["stop"]
    print(f"\nstop: mean {s['mean_questions']:.2f} questions, median {s['median_questions']:g} "
          f"(min {s['min_questions']}, max {s['max_questions']}); accuracy at the stop {s['accuracy']:.1%}; "
          f"ceiling (all {len(file_order)} answered) {result['ceiling']:.1%}")
    print("stop reasons: " + ", ".join(f"{k} {v}" for k, v in s["reasons"].items())
          + f"; red flags asked per runner {s['mean_red_flags_asked']:.2f}; see_doctor {s['see_doctor_share']:.1%}")
    u = s["without_red_flag_screen"]
    print(f"without the red-flag screen (screen_red_flags=False, for reference): mean {u['mean_questions']:.2f} "
          f"questions, median {u['median_questions']:g}; accuracy at the stop {u['accuracy']:.1%}")
    print("first question: " + ", ".join(f"{k} {v}" for k, v in result["first_questions"].items()))
    acc = result["accuracy_after_k"]
    n = len(stops)
    print(f"\naccuracy after k questions (standard error about {100 * (0.8 * 0.2 / n) ** 0.5:.1f} points at 80%; "
          f"'as run' stops at the stop rule and keeps its answer)")
    print("\n| k | adaptive | adaptive, as run | fixed (file order) | random order |")
    print("|---:|---:|---:|---:|---:|")
    for k in [*range(K_REPORT + 1), *[k for k in (12, 15, 18, 20, 25) if k <= len(file_order)]]:
        print(f"| {k} | {acc['adaptive'][k]:.1%} | {acc['adaptive_stopping'][k]:.1%} | "
              f"{acc['fixed_file_order'][k]:.1%} | {acc['random_order'][k]:.1%} |")

    for name in ("adaptive", "fixed_file_order", "random_order"):
        within = next((k for k, a in enumerate(acc[name]) if a >= result["ceiling"] - 0.01), None)
        result.setdefault("first_k_within_1_point_of_ceiling", {})[name] = within
    print("first k within 1 point of the ceiling: " + ", ".join(
        f"{k} {v}" for k, v in result["first_k_within_1_point_of_ceiling"].items()))

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    if args.plot:
        plot(Path(args.plot), result)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
