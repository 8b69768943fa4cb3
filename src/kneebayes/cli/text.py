"""Text for the terminal: every section a diagnosis shows, and wrapping to the terminal's width.

Each section is a list of logical lines; :func:`wrap` fits one to the
width, keeping its indent and hanging list items under their first word.
The wording itself lives in :mod:`kneebayes.display.words`, shared with
the HTML view.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ..care import split_care
from ..display import words
from ..display.words import (
    COMBINATIONS_LEFT_OUT,
    COMBINATIONS_TITLE,
    EXPLAINING_TITLE,
    NOTHING_YET,
    ODDS_NOTE,
    combinations,
    explaining,
    percent,
    probability_title,
    question_reason,
)

if TYPE_CHECKING:
    from ..care import CareAdvice
    from ..diagnosis import Diagnosis
    from ..model import Model

#: The narrowest width wrapped to: below it, lines would hold a word or two.
MIN_WIDTH = 40
#: The widest: long lines are hard to read even on a wide terminal.
MAX_WIDTH = 100
_BAR_WIDTH = 30
# "  1. ", "  - ", "  ! ", "Q3. ", "  Why: ": markers after which a wrapped line hangs
_MARKER = re.compile(r"^(\s*)((?:Q?\d+\.|[-!*]|Why:)\s+)?")

def disclaimer(model: Model) -> str:
    """The model's disclaimer (shared with the HTML view)."""
    return words.disclaimer(model)


def terminal_width() -> int:
    """The width to wrap to: ``COLUMNS`` when set (at least 40); else the terminal's, kept within 40-100; else 80.

    A wide terminal still gets lines of at most 100 characters (long lines
    are hard to read); setting ``COLUMNS`` says exactly what is wanted.
    """
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return max(MIN_WIDTH, int(env))
    try:
        columns = os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, ValueError, OSError):   # not a terminal (a pipe, a file), or no stdout
        return 80
    return max(MIN_WIDTH, min(MAX_WIDTH, columns)) if columns > 0 else 80


def wrap(line: str, width: int, hang: int | None = None) -> list[str]:
    """One logical line fitted to ``width``: its indent kept, a list item's continuation under its text.

    Words are never broken (a single word longer than the width stays whole).
    ``hang`` sets the continuation's indent instead (a column of a table).

    >>> wrap("  1. Hamstring strain: your answers multiply its odds by 68", 30)
    ['  1. Hamstring strain: your', '     answers multiply its odds', '     by 68']
    """
    if len(line) <= width:
        return [line]
    match = _MARKER.match(line)
    indent, marker = match.group(1), match.group(2) or ""
    if hang is not None:
        continuation = " " * hang
    else:
        continuation = " " * (len(indent) + len(marker)) if marker else indent + "  "
    return textwrap.wrap(line, width, initial_indent="", subsequent_indent=continuation, break_long_words=False,
                         break_on_hyphens=False, drop_whitespace=True) or [line]


class Printer:
    """Writes sections to a stream function, each line wrapped to a fixed width."""

    def __init__(self, write: Callable[[str], None], width: int | None = None) -> None:
        self.write_raw = write
        self.width = width if width is not None else terminal_width()

    def line(self, text: str = "", hang: int | None = None) -> None:
        """Write one logical line, wrapped to the width (:func:`wrap`); no text writes a blank line.

        >>> Printer(print, width=40).line("  1. Hamstring strain: your answers multiply its odds by 68")
          1. Hamstring strain: your answers
             multiply its odds by 68
        """
        for piece in wrap(text, self.width, hang) if text else [""]:
            self.write_raw(piece)

    def lines(self, texts: Iterable[str]) -> None:
        """Write each logical line in turn, each wrapped to the width.

        >>> Printer(print, width=40).lines(["Next question: Do you limp?", "  Why: it tells a meniscal injury from a strain"])
        Next question: Do you limp?
          Why: it tells a meniscal injury from a
               strain
        """
        for text in texts:
            self.line(text)

    def sections(self, sections: Sequence[Sequence[str]]) -> None:
        """Each section after a blank line."""
        for section in sections:
            self.line()
            self.lines(section)


# -- the sections ------------------------------------------------------------------------------

def _yes_no_causes(model: Model) -> bool:
    return all(set(model.node(c).states) == {"yes", "no"} for c in model.causes)


def explaining_lines(dx: Diagnosis) -> list[str]:
    """What the answers point to: every cause, the strongest evidence for it first, its Bayes factor in words and
    its probability now and before any answer; the note on odds once, when a phrase speaks of odds."""
    if not dx.evidence:
        if dx.skipped:
            return [f"{EXPLAINING_TITLE}: nothing yet, every question so far was skipped."]
        return [f"{EXPLAINING_TITLE}: {NOTHING_YET}."]
    rows = explaining(dx)
    width = len(str(len(rows)))
    lines = [f"{EXPLAINING_TITLE} (strongest evidence for a cause first):"]
    for i, row in enumerate(rows, 1):
        strength = "" if row.words.direction == "neither" else f"{row.words.evidence}; "
        lines.append(f"  {i:>{width}}. {row.name}: {row.words.phrase}")
        lines.append(f"  {'':>{width}}  {strength}now {percent(row.now)}, {percent(row.before)} before any answer")
    if any(" odds " in row.words.phrase for row in rows):
        lines.append(f"  ({ODDS_NOTE})")
    return lines


def bars(model: Model, dx: Diagnosis, width: int = 80) -> list[str]:
    """One line per cause, most probable first: label, percentage, a bar of '#' that fits ``width``."""
    if _yes_no_causes(model):
        rows = [(model.node(c).label, p) for c, p in dx.ranked_causes]
    else:  # multi-state targets: one row per state
        rows = [(f"{model.node(t).label} = {s}", p) for t, d in dx.distributions.items() for s, p in d.items()]
    label_width = min(max((len(label) for label, _ in rows), default=0), max(10, width - 12 - 10))
    bar_width = max(5, min(_BAR_WIDTH, width - label_width - 12))
    out = []
    for label, p in rows:
        if len(label) > label_width:
            label = label[: label_width - 3] + "..."
        out.append(f"  {label:<{label_width}}  {p:6.1%}  {'#' * round(p * bar_width)}".rstrip())
    return out


def probability_lines(model: Model, dx: Diagnosis, width: int = 80) -> list[str]:
    """How likely each cause is: the heading, then the bars."""
    return [f"{probability_title(dx)}:", *bars(model, dx, width)]


def combination_lines(dx: Diagnosis) -> list[str]:
    """The three most probable combinations of causes, or one line saying why they are not listed."""
    found = combinations(dx, 3)
    if found is None:
        return [f"{COMBINATIONS_TITLE}: {COMBINATIONS_LEFT_OUT}."]
    return [f"{COMBINATIONS_TITLE}:", *(f"  {i}. {name}: {percent(p)}" for i, (name, p) in enumerate(found, 1))]


def diagnosis_sections(model: Model, dx: Diagnosis, *, combinations: bool = True, width: int = 80) -> list[list[str]]:
    """What every screen shows of a diagnosis, in order: what the answers point to, the probabilities,
    then (unless told not to) the most probable combinations."""
    sections = [explaining_lines(dx), probability_lines(model, dx, width)]
    if combinations:
        sections.append(combination_lines(dx))
    return sections


def stop_text(model: Model, dx: Diagnosis) -> str:
    """Why the diagnosis says asking could stop, in words."""
    reason = dx.stop_reason
    settings = dx.settings
    if reason is None:
        return "not yet: questions worth asking remain"
    if reason.value == "confident":
        found = dx.leading_target
        p = dx.leading_probability
        if found is None:
            what = f"the leading probability is {p:.0%}"
        else:
            target, state, normal = found
            label = model.node(target).label
            if normal and state == "no" and set(model.node(target).states) == {"yes", "no"}:
                what = f"{label} has probability {p:.0%}"        # a yes/no cause: P(yes)
            elif normal:
                what = f"{label} is not {state} with probability {p:.0%}"
            else:
                what = f"{label} is {state} with probability {p:.0%}"
        return f"confident enough: {what}, at or above the confidence threshold of {settings.confidence:.0%}"
    if reason.value == "nothing_worth_asking":
        return "no open question is expected to tell enough about the causes to be worth asking"
    return "nothing left to ask: every question has been answered or skipped"


def question_detail(dx: Diagnosis, question_id: str) -> str:
    """The numbers behind a question (shown with ``--verbose``): its id, information gain and cost."""
    q = next(q for q in dx.ranked_questions if q.id == question_id)
    return (f"[{q.id}] expected information gain {q.expected_information_gain:.3f} bits, "
            f"effort {q.cost:g}, score {q.score:.3f}")


def next_question_lines(model: Model, dx: Diagnosis, *, verbose: bool = False) -> list[str]:
    """The next question with why it is asked (and how to answer it on the command line), or why to stop."""
    q = dx.next_question
    if dx.should_stop or q is None:
        lines = [f"Stop asking: {stop_text(model, dx)}."]
        if q is not None:
            lines.append(f"  (to go on anyway, the next question would be \"{q.text}\": answer it with "
                         f"{q.id}={'/'.join(model.node(q.id).states)})")
        return lines
    states = "/".join(model.node(q.id).states)
    lines = [f"Next question: {q.text}", f"  Why: {question_reason(dx, q.id)}",
             f"  (answer it with {q.id}={states})"]
    if verbose:
        lines.append(f"  {question_detail(dx, q.id)}")
    return lines


def triage_lines(dx: Diagnosis) -> list[str]:
    """Triage's level in words, then each reason."""
    t = dx.triage
    return [f"Triage: {t.title}", *(f"  - {r.text}" for r in t.reasons)]


def _care_item(i: int, width: int, item: CareAdvice) -> str:
    advice = " ".join(item.advice.split())
    return f"  {i:>{width}}. {item.title}: {advice} [{item.source}]"


def care_lines(dx: Diagnosis, *, everything: bool = False, how_to_see_all: str = "run again with --care all") -> list[str]:
    """The care items that fit the answers (all of them with ``everything``), and how many more there are."""
    plan = dx.care_plan
    if not plan:
        return ["Care plan: the model file holds no care advice."]
    if everything:
        first, rest = plan, ()
    else:
        first, rest = split_care(plan)
    title = "Care plan (most relevant first):" if everything or not rest else "Care plan (what fits your answers first):"
    number = len(str(len(first)))
    lines = [title, *(_care_item(i, number, item) for i, item in enumerate(first, 1))]
    if rest:
        lines.append(f"  ({len(rest)} more item{'s' if len(rest) != 1 else ''}: {how_to_see_all})")
    return lines
