"""``kneebayes diagnose ID=STATE ...``: every section of one diagnosis, as text or ``--json``."""

from __future__ import annotations

import argparse
import json

from ..errors import KneeBayesError
from .answers import parse_pairs
from .models import load
from .saving import write_line
from .text import (
    Printer,
    care_lines,
    diagnosis_sections,
    disclaimer,
    next_question_lines,
    triage_lines,
)

# The keys of ``Diagnosis.to_dict(full=True)`` that ``--json`` puts first, in the order the text shows them.
JSON_LEAD = ("model", "evidence", "explaining_causes", "bayes_factor", "prior", "posterior", "distributions",
             "evidence_probability", "most_probable_combinations", "note")


def run(args: argparse.Namespace) -> int:
    """``kneebayes diagnose``: the diagnosis of the answers in ``args``, as text or ``--json``; 0."""
    if args.json and (args.verbose or args.care is not None):
        # options of the text alone: taken with --json they would change nothing, and nothing may be ignored
        option, why = (("--verbose", "its next_question always holds the numbers") if args.verbose else
                       ("--care", "its care_plan lists every item, each with 'fits' and 'key'"))
        raise KneeBayesError(f"{option} shapes the text output and does nothing with --json ({why}); drop one of them")
    model = load(args.model, args.targets, args.normal)
    dx = model.diagnose(parse_pairs(model, args.answers), screen_red_flags=not args.no_screen,
                        confidence=args.confidence)
    if args.json:
        out = dx.to_dict(full=True)
        # the same order as the text: what the answers point to, the probabilities, the combinations
        lead = [k for k in JSON_LEAD if k in out]
        out = {**{k: out[k] for k in lead}, **{k: v for k, v in out.items() if k not in lead}}
        out["disclaimer"] = disclaimer(model)
        print(json.dumps(out, indent=2))
        return 0
    printer = Printer(write_line)
    given = ", ".join(f"{k}={v}" for k, v in dx.evidence.items()) or "nothing answered yet"
    printer.line(f"Evidence: {given}")
    printer.sections([*diagnosis_sections(model, dx, width=printer.width),
                      next_question_lines(model, dx, verbose=args.verbose), triage_lines(dx),
                      care_lines(dx, everything=args.care == "all")])
    printer.line()
    printer.line(f"(model {dx.model.name} {dx.model.version}, hash {dx.model.content_hash[:12]})")
    printer.line(disclaimer(model))
    return 0
