"""Generate the model card (docs/model-card.md) from a model file, so the card cannot drift.

    python docs/make_model_card.py            # rewrite docs/model-card.md from the packaged model
    python docs/make_model_card.py --check    # exit 1 if docs/model-card.md is not what it would write
    python docs/make_model_card.py --model other.yaml --output other-card.md

The card lists every node and every parameter under its address (the one
used by error messages, ``with_parameters``, ``sensitivity`` and ``diff``),
with value, verbal term, range, source and rationale; then the model file's
claims and whether each holds now; then its care advice, with the triage
level and the answers each item is tied to; then the choices the article did
not settle. The output is deterministic: no dates, no absolute paths.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

import kneebayes
from kneebayes.claims import ROUNDING
from kneebayes.modelfile.schema import CareItem, ClaimSpec, ModelSpec, NodeSpec, NoisyOr, Parameter, Prior
from kneebayes.research.parameters import parameters as model_parameters
from kneebayes.research.parameters import parameters_by_node

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "model-card.md"
REGENERATE = "python docs/make_model_card.py"
SILENT = re.compile(r"silent|not stated", re.IGNORECASE)

# Hand-written: the modelling choices behind the knee model that no single
# number shows. Placeholder wording, to be refined by the lead.
KNEE_PREAMBLE = """\
The article names causes, risk factors, symptoms and red flags, but it gives
almost no numbers and does not say how its statements combine. The model
settles that with the following choices; each is ours, not the article's.

- **Population.** Every probability is about one population: runners who
  feel tightness behind the knee after running (the article's reader), not
  runners in general and not patients seen in a clinic. A risk factor's prior
  is how common it is among those runners; a leak is how often a finding or
  cause occurs in them without any of the named parents.
- **Noisy-OR with a separate leak.** Where the article lists several parents
  of a node it never says how they interact. Causes and findings are noisy-OR
  nodes: each present parent independently produces the child with its own
  weight, and a separate leak stands for everything the model does not name:
  P(no | parents) = (1 - leak) x product of (1 - w_i) over the present
  parents. The leak is not folded into the weights, so a weight is read as
  "this parent alone, with the leak switched off".
- **Leak floor 0.01.** No leak, and no lower end of a range, goes below 0.01:
  a runner can have any finding without a named cause, so no single answer
  rules a cause in or out with certainty.
- **Causes are not mutually exclusive.** A runner may have several causes at
  once (a meniscal injury and the Baker's cyst it feeds, say). Each cause is
  its own yes/no node, and the posteriors of the causes need not sum to 1.
- **Words to numbers.** The article's words ("usually", "sometimes",
  "may") map onto the Renooij-Witteman scale above; ranges are about +/-0.10
  where the article states a point, +/-0.20 where a number is inferred from a
  nearby statement and +/-0.30 where the article is silent, clipped inside
  (0, 1).
- **How common each risk factor is.** The article never says. Warm-up (0.45)
  and a sudden training increase (0.30) are set high because the FAQ names
  both as the usual triggers; arthritis (0.05) and trauma (0.07) low; the
  rest from common sense, with the widest ranges.
- **How common each cause is.** The article ranks the causes only in words
  (hamstring the usual cause, popliteus overload and tendonitis common,
  Baker's cyst and meniscal injury tied to an underlying joint problem, nerve
  irritation "less common"). The leaks and the risk factors' weights are set
  so that with no answers hamstring leads (about 55%), tendonitis (28%) and
  popliteus overload (26%) follow, then meniscal injury (11%), Baker's cyst
  (9%) and nerve irritation (8%). Nothing in the article puts popliteus
  overload above tendonitis, whose "tendon irritation" its opening line and
  FAQ name among the usual sources.
- **How strongly a risk factor raises a cause.** The article names links but
  never their strength. Downhill or uneven running -> popliteus overload is
  fifty-fifty ("can"); sprints or hills -> hamstring (0.40) and trauma ->
  meniscal injury (0.35) are among the strongest links. Nerve irritation
  follows tight hip muscles such as the piriformis (the article's own
  example), asked about in a question of its own; stiff hamstrings or calves
  feed it only weakly.
- **Links the article implies but does not state:** tibial rotation ->
  popliteus overload (the muscle "unlocks" the knee); a previous injury ->
  hamstring strain and meniscal injury; trauma -> meniscal injury (from the
  imaging section); running form and worn footwear -> meniscal injury (the
  menisci cushion impact). Arthritis -> meniscal injury is left out.
- **What a "no" costs.** The interview asks every warning-sign question
  before it stops, so most runners answer "no" to most of them, and a "no"
  divides a cause's odds by about 1 / (1 - w) for each link of weight w.
  Warning-sign findings (sharp pain, pain at night or at rest, limping,
  instability, symptoms beyond two weeks) therefore link to a cause with
  more than a low weight only where the article ties them: meniscal tears
  "often" swell and "sometimes" lock, and "may present as persistent
  tightness". Where the article is silent the weight is improbable (0.15) or
  below. Instability's leak stands for the ligament instability the article
  mentions but the model does not name. Red flags send a runner to a doctor
  by rule, whatever their probability.
- **Swelling and fullness are one story.** The article says the cyst's
  swelling "can stretch surrounding tissues resulting in a sensation of
  fullness". Fullness depends on the cyst and on the swelling itself, so a
  cyst is counted once when both answers are "yes", and fullness still points
  to it when the runner sees no swelling. A meniscal tear's swelling fills the
  joint and is seldom what a runner sees behind the knee, so that weight is
  uncertain (0.30); for a Baker's cyst (the cyst is the swelling, usually
  felt as fullness) it is fifty-fifty.
- **Telling signs stay telling.** The causes are independent given the risk
  factors, so one cause never "explains away" another; the findings the
  article ties to one cause (tenderness, fullness, locking, tingling,
  trouble straightening the knee) have low leaks (0.01-0.03), so that on
  their own they point to that cause, after the safety screen too (the
  claims below check it). Sharp pain is weighted low (0.05) for popliteus
  overload ("generalized tightness rather than sharp pain") and for a
  Baker's cyst ("not painful initially").
- **Likely versus explaining.** A diagnosis reports both how likely each
  cause is and how much the answers multiply its odds (its Bayes factor).
  Base rates come from the article's "usual" and "less common"; the strength
  of the telling signs from its descriptions, so that both read sensibly.

The parameters below are those whose rationale says the article is silent
or does not state the number: they rest on these choices and common
clinical sense alone, and are the first to revisit with better data."""

GENERIC_PREAMBLE = """\
The parameters below are those whose rationale says the source is silent or
does not state the number; they rest on the modeller's judgement alone."""

CHECK_TEXT = {
    "raises": "P({cause} | {given}) > P({cause} | {versus})",
    "raises_most": "the rise of {cause} from {versus} to {given} exceeds every other cause's rise",
    "more_probable": "P({cause} | {given}) > P({than} | {given})",
    "ranks_first": "{cause} has the highest posterior given {given}",
    "edges_raise": "for every edge {parent_kind} -> {child_kind}: P(child | parent=yes) > P(child | parent=no)",
    "explains_first": "{cause} has the largest Bayes factor (what the answers point to) given {given}",
    "lifts": "P({cause} | {given}) is at least {by} times its probability with nothing known",
}


# -- addresses ------------------------------------------------------------------------

def all_parameters(spec: ModelSpec) -> list[tuple[str, Parameter]]:
    """Every number by its address: the library's own listing, so the card and the API agree."""
    return list(model_parameters(spec).items())


# -- formatting -----------------------------------------------------------------------

def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def num(x: float) -> str:
    return format(x, ".10g")


def value_text(q: Parameter) -> str:
    return f"{num(q.value)} (*{q.term}*)" if q.term else num(q.value)


def range_text(q: Parameter) -> str:
    return "—" if q.range is None else f"{num(q.range[0])} – {num(q.range[1])}"


def evidence_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs) or "no evidence"


def check_text(claim: ClaimSpec) -> str:
    template = CHECK_TEXT.get(claim.check, claim.check)
    given = evidence_text(claim.given) + (", every other warning sign answered no" if claim.screened else "")
    return f"`{claim.check}`: " + template.format(
        cause=claim.cause, than=claim.than, given=given, versus=evidence_text(claim.versus),
        parent_kind=claim.parent_kind, child_kind=claim.child_kind, by=claim.by if claim.by is None else f"{claim.by:g}",
    )


def condition_text(item: CareItem) -> str:
    """``applies_when`` in words: ``swelling = some or lots and instability = yes``."""
    return " and ".join(f"{node} = {' or '.join(states)}" for node, states in item.applies_when) or "any answers"


def care_section(spec: ModelSpec) -> list[str]:
    if not spec.care:
        return ["## Care", "", "The model file gives no care advice.", ""]
    out = ["## Care", "",
           "The advice the care plan draws on. *When* limits an item to a triage level (a self_care item "
           "also shows while the safety screen is incomplete); an item tied to "
           "answers (*Applies when*) is dropped when an answer contradicts it and fits the answers when "
           "they meet it. An item without causes is general advice.", "",
           "| Item | Title | When | Causes | Applies when | Source |", "|---|---|---|---|---|---|"]
    for item in spec.care:
        causes = ", ".join(f"`{c}`" for c in item.causes) or "general"
        out.append(f"| `{item.id}` | {cell(item.title)} | {item.when} | {causes} | {cell(condition_text(item))} | "
                   f"{cell(item.source)} |")
    out.append("")
    return out


def form_note(node: NodeSpec) -> str:
    p = node.parameters
    if isinstance(p, Prior):
        if p.derived_last and len(p.probabilities) == 2:
            return "Root node: `prior` is P(yes); P(no) = 1 - P(yes)."
        return "Root node: one prior probability per state."
    if isinstance(p, NoisyOr):
        return ("Noisy-OR, leak kept separate: P(no | parents) = (1 - leak) x product of (1 - weight) "
                "over the parents that are yes.")
    note = "Full conditional table: one column per combination of parent states."
    if p.source or p.rationale:
        note += f" Table source: {p.source or '—'}. Table rationale: {p.rationale or '—'}"
    return note


def parameter_table(rows: list[tuple[str, Parameter]], *, columns: tuple[str, ...]) -> list[str]:
    fields = {
        "Address": lambda a, q: f"`{a}`",
        "Value": lambda a, q: value_text(q),
        "Range": lambda a, q: range_text(q),
        "Source": lambda a, q: cell(q.source),
        "Rationale": lambda a, q: cell(q.rationale),
    }
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(fields[c](a, q) for c in columns) + " |" for a, q in rows]
    return out


# -- the card -------------------------------------------------------------------------

def render(model: kneebayes.Model, preamble: str | None = None) -> str:
    """The model card of a model, as Markdown text (deterministic)."""
    spec = model.spec
    kinds: dict[str, list[str]] = {}
    for node in spec.nodes:
        kinds.setdefault(node.kind, []).append(node.id)
    params = all_parameters(spec)
    n_edges = sum(len(node.parents) for node in spec.nodes)
    file_name = Path(spec.path).name if spec.path else "—"

    out: list[str] = [
        f"# Model card: {spec.title}",
        "",
        f"<!-- Generated from the model file by docs/make_model_card.py; do not edit by hand. "
        f"Regenerate with `{REGENERATE}`. -->",
        "",
        "| | |",
        "|---|---|",
        f"| Name | `{spec.name}` |",
        f"| Version | {cell(spec.version)} |",
        f"| Title | {cell(spec.title)} |",
        f"| Content hash | `{model.content_hash}` |",
        f"| Source document | {cell(spec.source_document or '—')} |",
        f"| Model file | `{file_name}` |",
        "",
        "The content hash is the SHA-256 of the model's canonical structure and numbers "
        "(not of the file's bytes): a diagnosis reports it, so a result can be traced to this card.",
        "",
    ]
    if spec.description:
        out += [" ".join(spec.description.split()), ""]

    out += ["## Summary", "",
            f"{len(spec.nodes)} nodes, {n_edges} edges, {len(params)} parameters, {len(spec.claims)} claims.", "",
            "| Kind | Nodes | Ids |", "|---|---|---|"]
    for kind, ids in kinds.items():
        out.append(f"| {cell(kind)} | {len(ids)} | " + ", ".join(f"`{i}`" for i in ids) + " |")
    out.append("")
    sources: dict[str, int] = {}
    for _, q in params:
        sources[q.source] = sources.get(q.source, 0) + 1
    out += ["Parameters by source:", "", "| Source | Parameters |", "|---|---|"]
    out += [f"| {cell(s)} | {c} |" for s, c in sources.items()]
    out.append("")

    if spec.scale:
        out += ["## Verbal-numerical scale", "",
                "A value may be written as one of these words; the card shows the word beside the number.", "",
                "| Term | Probability |", "|---|---|"]
        out += [f"| *{cell(term)}* | {num(value)} |" for term, value in spec.scale]
        out.append("")

    if spec.graded_answers:
        out += ["## Graded answers", "",
                "Answers between yes and no to a yes/no question. Each is soft evidence: it multiplies the odds "
                "of \"yes\" by its likelihood ratio, P(answer | yes) / P(answer | no).", "",
                "| Answer | Offered as | Ratio | Source | Rationale |", "|---|---|---|---|---|"]
        out += [f"| `{a.word}` | {cell(a.text)} | {num(a.ratio)} | {cell(a.source)} | {cell(a.rationale)} |"
                for a in spec.graded_answers]
        out.append("")

    out += ["## Nodes", ""]
    by_node = parameters_by_node(spec)
    for node in spec.nodes:
        out += [f"### `{node.id}`: {cell(node.label)}", "",
                "| | |", "|---|---|",
                f"| Kind | {cell(node.kind)} |",
                f"| Question | {cell(node.question)} |",
                f"| States | {', '.join(node.states)} |",
                f"| Parents | {', '.join(f'`{p}`' for p in node.parents) or 'none'} |",
                f"| Askable | {'yes' if node.askable else 'no'} |"]
        if node.description:
            out.append(f"| Description | {cell(node.description)} |")
        out += ["", form_note(node), ""]
        out += parameter_table(by_node[node.id], columns=("Address", "Value", "Range", "Source", "Rationale"))
        out.append("")

    out += ["## Claims", ""]
    if spec.claims:
        report = model.check_claims()
        held = sum(r.held for r in report)
        out += [f"The article's qualitative statements, checked against the model's posteriors: "
                f"{held} of {len(report)} hold now. A \">\" below means by more than rounding "
                f"({ROUNDING:g}); \"at least\" forgives less than that.", "",
                "| Claim | Statement | Source | Check | Holds now |", "|---|---|---|---|---|"]
        for claim, result in zip(spec.claims, report):
            verdict = f"yes ({result.detail})" if result.held else f"**NO** ({result.detail})"
            out.append(f"| `{claim.id}` | {cell(claim.statement)} | {cell(claim.source)} | "
                       f"{cell(check_text(claim))} | {cell(verdict)} |")
    else:
        out.append("The model file states no claims.")
    out.append("")
    out += care_section(spec)

    silent = [(a, q) for a, q in params if SILENT.search(q.rationale)]
    out += ["## Choices the article did not settle", "", preamble or GENERIC_PREAMBLE, "",
            f"{len(silent)} of {len(params)} parameters:", ""]
    if silent:
        out += parameter_table(silent, columns=("Address", "Value", "Range", "Rationale"))
    else:
        out.append("None.")
    out.append("")
    return "\n".join(out)


def card_for(model: kneebayes.Model) -> str:
    """The card as this script writes it: the knee model gets the hand-written preamble."""
    return render(model, KNEE_PREAMBLE if model.spec.name == "knee" else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the model card from a model file.")
    parser.add_argument("--model", help="model file (default: the packaged knee model)")
    parser.add_argument("--output", help=f"card to write, '-' for stdout (default: {DEFAULT_OUTPUT.name} beside "
                                         "this script for the packaged model, stdout for --model)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the card differs")
    args = parser.parse_args(argv)

    model = kneebayes.load_model(args.model)
    text = card_for(model)
    output = args.output or ("-" if args.model else str(DEFAULT_OUTPUT))
    if output == "-":
        if args.check:
            parser.error("--check needs a card file to compare (--output PATH)")
        sys.stdout.write(text)
        return 0
    path = Path(output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current == text:
            print(f"{path}: up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(path), "generated", lineterm="", n=1)
        shown = list(diff)
        print("\n".join(shown[:40]) + ("\n..." if len(shown) > 40 else ""))
        print(f"{path} is out of date with the model file; regenerate with `{REGENERATE}`", file=sys.stderr)
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(all_parameters(model.spec))} parameters, {len(model.spec.claims)} claims)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
