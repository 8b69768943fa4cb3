"""Generate docs/model-changes.md: what changed between two versions of a model, and why.

    python docs/make_model_changes.py            # rewrite docs/model-changes.md (knee 1.0.0 -> the packaged model)
    python docs/make_model_changes.py --check    # exit 1 if docs/model-changes.md is not what it would write
    python docs/make_model_changes.py --old a.yaml --new b.yaml --output -

Every changed number comes from ``Model.diff`` (by address), with its new
rationale (the why), or the old one for a number that is gone; then the
triage thresholds, care advice and claims that changed, and how likely each
cause is with nothing known, before and after. The output is deterministic.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import kneebayes
from kneebayes.modelfile.schema import CareItem, ModelSpec

HERE = Path(__file__).resolve().parent
DEFAULT_OLD = HERE / "model-history" / "knee-1.0.0.yaml"
DEFAULT_OUTPUT = HERE / "model-changes.md"
REGENERATE = "python docs/make_model_changes.py"

# Hand-written: why the knee model changed as a whole, which no single number shows.
KNEE_WHY = """\
Version 2.0.0 rests on the same article and the same conventions. What
changed is how the numbers treat a runner who answers "no": the interview
asks every warning-sign question before it stops, so most runners answer
"no" to most of them, and each "no" divides a cause's odds by about
1 / (1 - w) for every link of weight w. In 1.0.0 several warning-sign
findings carried weights the article does not support (sharp pain 0.5,
symptoms over two weeks 0.6, limping and night pain 0.3 for a meniscal
tear); together their "no" answers multiplied a tear's odds by about 0.01,
so a runner whose knee locks was told a meniscal injury was unlikely. The
changes, each with its source below:

- **Article-silent links to warning signs are low.** Where the article does
  not tie a warning sign to a cause, the weight is improbable (0.15) or
  below; where it does (meniscal tears "often" swell, "sometimes" lock, "may
  present as persistent tightness") the weight follows its words.
- **Fullness and swelling are one story.** The article says the cyst's
  swelling "can stretch surrounding tissues resulting in a sensation of
  fullness": fullness now depends on the swelling as well as on the cyst,
  so a cyst is counted once when both answers are "yes", and fullness still
  points to it when the runner sees no swelling. The direct links from
  meniscal injury and tendonitis to fullness are replaced by that route.
- **Base rates the article supports.** Popliteus overload no longer starts
  above tendonitis: the article calls both common and names "tendon
  irritation" among the usual sources; popliteus overload rests on its one
  named trigger (downhill or uneven running).
- **Nerve irritation's question.** The article's mechanism is compression by
  tight muscles "like piriformis syndrome", a hip muscle; a new risk factor,
  `tight_hip_muscles`, asks about it. Stiff hamstrings or calves feed nerve
  irritation only weakly now.
- **Locking and trouble straightening are telling.** Their leaks are lower,
  because the article ties them to a meniscal injury alone.
- **Triage re-checked.** Every red flag still sends the runner to a doctor.
  A Baker's cyst now escalates from 0.35 (was 0.5): a runner who feels a
  lump behind the knee but sees no swelling, and answers "no" to every
  other warning sign, reaches about 0.40.
- **New claims** check that a telling sign stays telling after the safety
  screen (what the answers point to, by Bayes factor).
- **The brace only for an unstable knee.** The article offers a brace "in
  cases with ligament instability causing symptoms alongside tightness":
  the care item is now tied to the answer instability = yes, so a runner
  who says the knee is stable is not told to wear one."""


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def num(x: float | None) -> str:
    return "(absent)" if x is None else format(x, ".10g")


def _nodes_section(old: ModelSpec, new: ModelSpec) -> list[str]:
    before = {n.id: n for n in old.nodes}
    after = {n.id: n for n in new.nodes}
    lines: list[str] = []
    for nid in after.keys() - before.keys():
        n = after[nid]
        lines.append(f"- Added `{nid}` ({n.kind}): \"{n.question}\"")
    for nid in before.keys() - after.keys():
        lines.append(f"- Removed `{nid}` ({before[nid].kind}).")
    for nid in after.keys() & before.keys():
        gained = [p for p in after[nid].parents if p not in before[nid].parents]
        lost = [p for p in before[nid].parents if p not in after[nid].parents]
        if gained or lost:
            parts = ([f"now also follows {', '.join(f'`{p}`' for p in gained)}"] if gained else []) + \
                    ([f"no longer follows {', '.join(f'`{p}`' for p in lost)}"] if lost else [])
            lines.append(f"- `{nid}` " + "; ".join(parts) + ".")
    return sorted(lines) or ["No node was added or removed, and no edge changed."]


def _rules_section(old: ModelSpec, new: ModelSpec) -> list[str]:
    lines: list[str] = []
    before = {e.id: e for e in old.escalations}
    for e in new.escalations:
        was = before.get(e.id)
        if was is None:
            lines.append(f"- New escalation `{e.id}`: {e.cause} from {num(e.threshold)}. {e.rationale}")
        elif was.threshold != e.threshold:
            lines.append(f"- Escalation `{e.id}` ({e.cause}): {num(was.threshold)} -> {num(e.threshold)}. {e.rationale}")
    gone = before.keys() - {e.id for e in new.escalations}
    lines += [f"- Escalation `{g}` removed." for g in sorted(gone)]
    flags_old = {(f.node, f.state) for f in old.red_flags}
    flags_new = {(f.node, f.state) for f in new.red_flags}
    lines += [f"- New red flag: `{n}` = {s}." for n, s in sorted(flags_new - flags_old)]
    lines += [f"- Red flag removed: `{n}` = {s}." for n, s in sorted(flags_old - flags_new)]
    return lines or ["Triage rules unchanged."]


def _condition(item: CareItem) -> str:
    return " and ".join(f"{node} = {' or '.join(states)}" for node, states in item.applies_when) or "any answers"


def _care_section(old: ModelSpec, new: ModelSpec) -> list[str]:
    before = {c.id: c for c in old.care}
    lines: list[str] = []
    for c in new.care:
        was = before.get(c.id)
        if was is None:
            lines.append(f"- New care item `{c.id}` ({c.when}, applies when {_condition(c)}): {c.title}.")
            continue
        if was.when != c.when:
            lines.append(f"- Care item `{c.id}`: when {was.when} -> {c.when}.")
        if was.applies_when != c.applies_when:
            lines.append(f"- Care item `{c.id}`: applies when {_condition(was)} -> {_condition(c)}.")
        if was.causes != c.causes:
            lines.append(f"- Care item `{c.id}`: serves {', '.join(was.causes) or 'no cause'} -> "
                         f"{', '.join(c.causes) or 'no cause'}.")
    gone = before.keys() - {c.id for c in new.care}
    lines += [f"- Care item `{g}` removed." for g in sorted(gone)]
    return lines or ["Care advice unchanged."]


def changes_for(old: kneebayes.Model, new: kneebayes.Model, why: str | None = None) -> str:
    """The whole page for ``old`` -> ``new``."""
    out = [f"# What changed in the {new.name} model: {old.version} -> {new.version}", "",
           f"Generated by `{REGENERATE}` from the two model files, so it cannot drift: every number that",
           "differs, by its address, with the rationale the newer file gives for it.", ""]
    if why:
        out += ["## Why", "", why, ""]
    out += ["## Nodes and edges", "", *_nodes_section(old.spec, new.spec), ""]
    changes = old.diff(new)
    new_params, old_params = new.parameters, old.parameters
    out += [f"## Numbers ({len(changes)} changed)", "",
            "| address | was | now | range now | why (source) |", "|---|---|---|---|---|"]
    for ch in changes:
        p = new_params.get(ch.address) or old_params[ch.address]
        rng = "—" if ch.address not in new_params or p.range is None else f"{num(p.range[0])} – {num(p.range[1])}"
        why_text = p.rationale if ch.address in new_params else f"removed; it was: {p.rationale}"
        out.append(f"| `{ch.address}` | {num(ch.old)} | {num(ch.new)} | {rng} | {cell(why_text)} ({cell(p.source)}) |")
    out += ["", "## Triage", "", *_rules_section(old.spec, new.spec), ""]
    out += ["## Care", "", *_care_section(old.spec, new.spec), ""]
    old_claims = {c.id for c in old.spec.claims}
    report = {r.id: r for r in new.check_claims()}
    added = [c for c in new.spec.claims if c.id not in old_claims]
    removed = sorted(old_claims - {c.id for c in new.spec.claims})
    out += ["## Claims", ""]
    out += [f"- Added `{c.id}` ({'holds' if report[c.id].held else 'BROKEN'}): {c.statement}" for c in added]
    out += [f"- Removed `{c}`." for c in removed]
    if not added and not removed:
        out.append("No claim added or removed.")
    before, after = old.diagnose({}), new.diagnose({})
    out += ["", "## With nothing known", "", "How likely each cause is before any answer.", "",
            f"| cause | {old.version} | {new.version} |", "|---|---|---|"]
    for cause in new.causes:
        was = before.posterior.get(cause) if cause in old.causes else None
        out.append(f"| {cause} | {'—' if was is None else f'{was:.3f}'} | {after.posterior[cause]:.3f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the model-changes page from two model files.")
    parser.add_argument("--old", default=str(DEFAULT_OLD), help="the earlier model file (default: knee 1.0.0)")
    parser.add_argument("--new", help="the later model file (default: the packaged knee model)")
    parser.add_argument("--output", help=f"page to write, '-' for stdout (default: {DEFAULT_OUTPUT.name} beside this script)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the page differs")
    args = parser.parse_args(argv)

    old, new = kneebayes.load_model(args.old), kneebayes.load_model(args.new)
    why = KNEE_WHY if args.new is None and Path(args.old) == DEFAULT_OLD else None
    text = changes_for(old, new, why)
    output = args.output or str(DEFAULT_OUTPUT)
    if output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current == text:
            print(f"{path}: up to date")
            return 0
        diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), str(path), "generated", lineterm="", n=1))
        print("\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else ""))
        print(f"{path} is out of date with the model files; regenerate with `{REGENERATE}`", file=sys.stderr)
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(old.diff(new))} changed numbers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
