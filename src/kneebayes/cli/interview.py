"""``kneebayes interview``: the questions one at a time on the terminal, until the stopping rule.

After each answer it shows what the answers point to and how likely each
cause is; at the end, triage and the care plan. ``quit``, the end of input
and Ctrl-C end it early with where things stand (and triage says when the
safety screen is not complete); SIGTERM and SIGHUP end it with the
answers saved (``--save``).
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ..display.words import question_reason
from ..errors import PATH_LIMIT, KneeBayesError, printable, quote
from ..interview import Interview
from ..modelfile.format import QUIT_WORDS, SKIP_WORDS, UNDO_WORDS
from .answers import graded_for, graded_texts, read_answers_file, state_for, words_for
from .models import load
from .saving import Saver, Stopped, StopSignals, check_save_target, warn, write_line
from .text import Printer, care_lines, diagnosis_sections, disclaimer, question_detail, stop_text, triage_lines

if TYPE_CHECKING:
    from ..model import Model

#: Exit status after Ctrl-C, as a shell reports a process ended by SIGINT.
INTERRUPTED = 128 + signal.SIGINT


class Interrupted(Exception):
    """Ctrl-C at the prompt: the interview ends with where things stand."""


def run(args: argparse.Namespace) -> int:
    """``kneebayes interview``: ask on the terminal until the stopping rule, then the end screen; the exit status.

    0 when it ends by the rule, a quit or the end of input; 130 after Ctrl-C;
    128 + the signal's number after SIGTERM or SIGHUP; 2 when the final save fails.
    """
    out = Printer(write_line)
    model = load(args.model, args.targets, args.normal)
    screen = False if args.no_screen else None
    if args.answers is not None:
        session = read_answers_file(model, args.answers, screen, args.confidence)
    else:
        session = Interview(model, screen_red_flags=not args.no_screen, confidence=args.confidence)

    saver = Saver(args.save, session) if args.save is not None else None
    if saver is not None:   # checked just before the first save, which would replace what is there
        check_save_target(saver.path, args.model, args.answers)
    # Saved once before the first question: a --save path that cannot be written is found now,
    # not after the person has answered everything.
    if saver is not None and not saver.save():
        raise KneeBayesError(f"cannot save the interview to {quote(saver.path, PATH_LIMIT)}: {saver.failed}; "
                             f"nothing was asked (give --save a file in a folder you can write to)")

    def changed() -> None:
        if saver is not None and not saver.save():
            warn(f"warning: could not save the interview to {saver.path}: {saver.failed}; {saver.kept()}. "
                 f"Going on; the next answer tries again.")

    ending = _Ending(model, session, saver, out, care_all=args.care == "all")
    with StopSignals() as signals:
        try:
            out.line(disclaimer(model))
            yes_no = all(set(n.states) == {"yes", "no"} for n in model.nodes if n.askable)
            how = "yes or no (y / n)" if yes_no else "one of the answers in its brackets"
            graded = graded_texts(model)
            if graded:
                how += f" (or {' / '.join(graded)} for a yes/no question)"
            out.line(f"Answer each question with {how}, skip if you don't know, "
                     "undo to take back your last answer, quit to stop here.")
            if session.history:
                out.line()
                out.line(f"Replaying {len(session.history)} answer(s) from {args.answers}:")
                for i, step in enumerate(session.history, 1):
                    out.line(f"Q{i}. {model.node(step.node).question}")
                    out.line(f"    answer from file: {'skip' if step.action == 'skip' else step.value}")
            if session.next_question() is not None:   # else the end screen below shows where things stand
                out.sections(diagnosis_sections(model, session.diagnosis, combinations=False, width=out.width))
            ended = ask(model, session, sys.stdin, out, changed=changed, signals=signals, verbose=args.verbose)
        except Stopped as stop:
            return ending.on_signal(stop.signum)
        except (Interrupted, KeyboardInterrupt):   # Ctrl-C at the prompt, or while an answer was being worked out
            return ending.interrupted()
        return ending.finished(ended)


class _Ending:
    """The end screens: stopped, quit, Ctrl-C, SIGTERM or SIGHUP."""

    def __init__(self, model: Model, session: Interview, saver: Saver | None, out: Printer, *, care_all: bool) -> None:
        self.model, self.session, self.saver, self.out, self.care_all = model, session, saver, out, care_all

    def _where_things_stand(self, *, care: bool = True) -> None:
        dx = self.session.diagnosis
        sections = [*diagnosis_sections(self.model, dx, width=self.out.width), triage_lines(dx)]
        if care:
            sections.append(care_lines(dx, everything=self.care_all,
                                       how_to_see_all="run the interview again with --care all to see them"))
        self.out.sections(sections)

    def _saved_line(self) -> int:
        """Say where the answers are; 2 when the last save failed."""
        if self.saver is None:
            return 0
        if self.saver.save():
            self.out.line()
            self.out.line(f"Saved the interview to {self.saver.path} (resume with --answers {self.saver.path}).")
            return 0
        print(f"kneebayes: error: cannot save the interview to {self.saver.path}: {self.saver.failed}; "
              f"{self.saver.kept()}", file=sys.stderr)
        return 2

    def finished(self, ended: str) -> int:
        n = len(self.session.history)
        self.out.line()
        if ended == "stopped":
            self.out.line(f"Stopped after {n} question(s): {stop_text(self.model, self.session.diagnosis)}.")
        else:
            self.out.line(f"Ended early after {n} question(s), before the stopping rule was reached; "
                          "this is where things stand now.")
        self._where_things_stand()
        status = self._saved_line()
        self.out.line()
        self.out.line(disclaimer(self.model))
        return status

    def interrupted(self) -> int:
        """Ctrl-C: where things stand and triage (which says if the screen is not complete), no care plan; 130."""
        n = len(self.session.history)
        try:
            self.out.line()
            self.out.line(f"Interrupted (Ctrl-C) after {n} question(s): the interview did not finish, so this "
                          "is only where things stand now.")
            self._where_things_stand(care=False)
            status = self._saved_line()
            self.out.line()
            self.out.line(disclaimer(self.model))
        except KeyboardInterrupt:   # a second Ctrl-C: stop printing
            status = 0
        return INTERRUPTED if status == 0 else status

    def on_signal(self, signum: int) -> int:
        """SIGTERM or SIGHUP: make sure of the save, say where things stand if anyone still reads, exit 128 + signal."""
        name = signal.Signals(signum).name
        saver = self.saver
        saved = saver is not None and saver.save()
        if saver is None:
            kept = "nothing was saved (no --save)"
        elif saved:
            kept = f"the answers are saved in {saver.path} (resume with --answers {saver.path})"
        else:
            kept = f"could not save the interview to {saver.path}: {saver.failed}; {saver.kept()}"
        try:   # after SIGHUP the terminal may be gone: output is best effort, the file is what counts
            self.out.line()
            self.out.line(f"Interrupted by {name} after {len(self.session.history)} question(s); "
                          "this is where things stand now.")
            self._where_things_stand(care=False)
            self.out.line()
            self.out.line(disclaimer(self.model))
        except (OSError, ValueError):
            pass
        warn(f"interview stopped by {name} after {len(self.session.history)} question(s); {kept}.")
        return 128 + signum


def ask(model: Model, session: Interview, stdin: TextIO, out: Printer, *,
        changed: Callable[[], None] = lambda: None, signals: StopSignals | None = None, verbose: bool = False) -> str:
    """Ask until the stopping rule ("stopped") or the person quits or input ends ("quit").

    ``changed`` runs after every answer, skip and undo (the ``--save`` file);
    ``signals`` may end the interview by raising ``Stopped`` while it waits
    for input; Ctrl-C raises :class:`Interrupted`.
    """
    signals = signals or StopSignals()   # not entered: no handlers, nothing received
    echo = not stdin.isatty()
    while True:
        q = session.next_question()
        if q is None:
            return "stopped"
        states = model.node(q.id).states
        dx = session.diagnosis
        out.line()
        out.line(f"Q{len(session.history) + 1}. {q.text}")
        out.line(f"    Why: {question_reason(dx, q.id)}")
        if verbose:
            out.line(f"    {question_detail(dx, q.id)}")
        graded = graded_texts(model) if set(states) == {"yes", "no"} else []
        prompt = "[" + "/".join([*states, *graded, "skip", "undo", "quit"]) + "] "
        while True:
            sys.stdout.write(printable(prompt))
            sys.stdout.flush()
            signals.waiting = True   # from here a signal ends the interview at once
            try:
                signals.check()
                wait_for_a_line(stdin)
                line = stdin.readline()
            except KeyboardInterrupt:
                raise Interrupted from None
            finally:
                signals.waiting = False
            if not line:  # end of input: as if the person quit
                out.line()
                out.line("(end of input)")
                return "quit"
            typed = " ".join(line.strip().split())
            word = typed.lower()   # the commands, in any case
            if echo:
                out.line(typed)
            # a state as typed first, then in any case: states 'True' and 'true' are two answers
            state = state_for(states, typed) or graded_for(model, states, typed)
            if state is not None:
                try:
                    after = session.answer(q.id, state)
                except KneeBayesError as exc:  # e.g. impossible given the earlier answers
                    out.line(f"That answer cannot be used: {exc}. Answer again, skip or undo.")
                    continue
                changed()
                for reason in after.triage.reasons:
                    if reason.trigger == q.id and reason.kind == "red_flag":
                        out.line(f"  ! Warning sign: {reason.text}")
                break
            if word in SKIP_WORDS:
                session.skip(q.id)
                changed()
                out.line("  (skipped: not asked again)")
                break
            if word in UNDO_WORDS:
                if not session.history:
                    out.line("Nothing to undo yet.")
                    continue
                last = session.history[-1]
                session.undo()
                changed()
                took = "skip" if last.action == "skip" else last.value
                out.line(f"  (took back your answer '{took}' to: {model.node(last.node).question})")
                break
            if word in QUIT_WORDS:
                return "quit"
            out.line(f"Please answer {words_for(states, graded)}, or skip, undo or quit.")
        if session.next_question() is not None:   # at the stop, the end screen shows where things stand
            out.sections(diagnosis_sections(model, session.diagnosis, combinations=False, width=out.width))


#: How long the prompt waits in one step for a line on a terminal before it looks at signals again.
WAIT_STEP = 0.2


def wait_for_a_line(stdin: TextIO) -> None:
    """On a terminal, wait for the next line in short steps, so that a Ctrl-C acts at once.

    The terminal's SIGINT may be taken by another thread of the process (a
    BLAS worker); Python then raises KeyboardInterrupt only when the main
    thread next runs, which a blocking read of the terminal would put off
    until Enter. A terminal hands over one line per read, so nothing waits
    in Python's buffer unseen. Pipes and files are read as they are.

    >>> import io
    >>> wait_for_a_line(io.StringIO("yes"))   # not a terminal: returns at once
    """
    try:
        if os.name != "posix" or not stdin.isatty():
            return
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):   # a stream without a descriptor
        return
    while not select.select([fd], [], [], WAIT_STEP)[0]:
        pass

