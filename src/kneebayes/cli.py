"""The ``kneebayes`` command line: diagnose a case, run an interview, check a model file, check the claims.

``kneebayes diagnose ID=yes ...`` leads with what the answers point to (each
cause's Bayes factor in plain words, beside its probability now and before
any answer), then how likely each cause is (the posterior as bars), the most
probable combinations of causes, the next question (or why asking could
stop), triage with its reasons and the care plan; ``--json`` gives the same
sections as keys. ``kneebayes interview`` asks the questions one at a time on
the terminal, shows the first two sections after each answer and all of them
at the end. Both say plainly that this is decision support, not a diagnosis.
The wording lives in :mod:`kneebayes.display.words`, shared with the HTML view.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from .errors import PATH_LIMIT, KneeBayesError, quote

if TYPE_CHECKING:
    from .diagnosis import Diagnosis
    from .interview import Interview
    from .model import Model

GENERIC_DISCLAIMER = "Decision support from the model '{title}'; not a medical diagnosis."


def disclaimer(model: Model) -> str:
    """The model file's own disclaimer, or a plain one naming the model."""
    return model.spec.disclaimer or GENERIC_DISCLAIMER.format(title=model.spec.title)


_BAR_WIDTH = 30


def _parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    evidence: dict[str, str] = {}
    for pair in pairs:
        node, sep, state = pair.partition("=")
        if not sep or not node or not state:
            raise KneeBayesError(f"cannot read {quote(pair)}: write answers as ID=state, e.g. locking_or_catching=yes")
        if node in evidence:
            raise KneeBayesError(f"{quote(node)} is answered twice")
        evidence[node] = state
    return evidence


def _path(text: str) -> str:
    """A file or folder named on the command line: an empty name is refused, not taken as "none given"."""
    if not text:
        raise argparse.ArgumentTypeError("an empty file name: give the path of a file")
    return text


def _confidence(text: str) -> float:
    """``--confidence``: a number, checked by the one settings validator (so "nan" or "5" is refused as everywhere)."""
    from .settings import setting_problem

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {quote(text)}") from None
    problem = setting_problem("confidence", value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value



# -- sections shared by `diagnose` and `interview` -------------------------------------------


def _explaining_lines(dx: Diagnosis) -> list[str]:
    """What the answers point to: every cause, the most telling first, its Bayes factor in words and
    its probability now and before any answer; the note on odds once, when a phrase speaks of odds."""
    from .display.words import EXPLAINING_TITLE, NOTHING_YET, ODDS_NOTE, explaining, percent

    if not dx.evidence:
        return [f"{EXPLAINING_TITLE}: {NOTHING_YET}."]
    rows = explaining(dx)
    width = len(str(len(rows)))
    lines = [f"{EXPLAINING_TITLE} (most telling first):"]
    for i, row in enumerate(rows, 1):
        strength = "" if row.words.direction == "neither" else f"{row.words.evidence}; "
        lines.append(f"  {i:>{width}}. {row.name}: {row.words.phrase}")
        lines.append(f"  {'':>{width}}  {strength}now {percent(row.now)}, {percent(row.before)} before any answer")
    if any(" odds " in row.words.phrase for row in rows):
        lines.append(f"  ({ODDS_NOTE})")
    return lines


def _probability_lines(model: Model, dx: Diagnosis) -> list[str]:
    """How likely each cause is: the heading, then the bars."""
    from .display.words import probability_title

    return [f"{probability_title(dx)}:", *_bars(model, dx)]


def _combination_lines(dx: Diagnosis) -> list[str]:
    """The three most probable combinations of causes, or one line saying why they are not listed."""
    from .display.words import COMBINATIONS_LEFT_OUT, COMBINATIONS_TITLE, combinations, percent

    found = combinations(dx, 3)
    if found is None:
        return [f"{COMBINATIONS_TITLE}: {COMBINATIONS_LEFT_OUT}."]
    return [f"{COMBINATIONS_TITLE}:", *(f"  {i}. {name}: {percent(p)}" for i, (name, p) in enumerate(found, 1))]


def _diagnosis_sections(model: Model, dx: Diagnosis, *, combinations: bool = True) -> list[list[str]]:
    """What every screen shows of a diagnosis, in order: what the answers point to, the probabilities,
    then (unless told not to) the most probable combinations."""
    sections = [_explaining_lines(dx), _probability_lines(model, dx)]
    if combinations:
        sections.append(_combination_lines(dx))
    return sections


def _bars(model: Model, dx: Diagnosis) -> list[str]:
    """One line per cause, most probable first: label, percentage, a bar of '#'."""
    if model._yes_positions is not None:
        rows = [(model.node(c).label, p) for c, p in dx.ranked_causes]
    else:  # multi-state targets: one row per state
        rows = [(f"{model.node(t).label} = {s}", p) for t, d in dx.distributions.items() for s, p in d.items()]
    width = max((len(label) for label, _ in rows), default=0)
    return [f"  {label:<{width}}  {p:6.1%}  {'#' * round(p * _BAR_WIDTH)}".rstrip() for label, p in rows]


def _stop_text(model: Model, dx: Diagnosis) -> str:
    """Why the diagnosis says asking could stop, in words."""
    reason = dx.stop_reason
    settings = dx.settings
    if reason is None:
        return "not yet: questions worth asking remain"
    if reason.value == "confident":
        found = dx._leading_target()
        p = dx.leading_probability
        if found is None:
            what = f"the leading probability is {p:.2f}"
        else:
            target, state, normal = found
            label = model.node(target).label
            if normal and state == "no" and set(model.node(target).states) == {"yes", "no"}:
                what = f"{label} has probability {p:.2f}"        # a yes/no cause: P(yes)
            elif normal:
                what = f"{label} is not {state} with probability {p:.2f}"
            else:
                what = f"{label} is {state} with probability {p:.2f}"
        return f"confident enough: {what}, at or above the confidence threshold of {settings.confidence:.2f}"
    if reason.value == "nothing_worth_asking":
        return (f"no open question is worth asking: none is expected to tell at least "
                f"{settings.min_gain:g} bits about the causes, net of the effort it asks")
    return "nothing left to ask: every question has been answered or skipped"


def _next_question_lines(model: Model, dx: Diagnosis) -> list[str]:
    q = dx.next_question
    if dx.should_stop or q is None:
        lines = [f"Stop asking: {_stop_text(model, dx)}."]
        if q is not None:
            lines.append(f"  (to go on anyway, the next question would be: {q.text} [{q.id}])")
        return lines
    return [f"Next question: {q.text}",
            f"  [{q.id}] expected information gain {q.expected_information_gain:.3f} bits"]


def _triage_lines(dx: Diagnosis) -> list[str]:
    t = dx.triage
    lines = [f"Triage: {'See a doctor' if t.see_doctor else 'Self care'}"]
    lines += [f"  - {r.text}" for r in t.reasons]
    return lines


def _care_lines(dx: Diagnosis) -> list[str]:
    plan = dx.care_plan
    if not plan:
        return ["Care plan: the model file holds no care advice."]
    lines = ["Care plan (most relevant first):"]
    width = len(str(len(plan)))
    for i, item in enumerate(plan, 1):
        advice = " ".join(item.advice.split())
        lines.append(f"  {i:>{width}}. {item.title}: {advice} [{item.source}]")
    return lines


# -- diagnose ----------------------------------------------------------------------------------

# The keys of ``Diagnosis.to_dict(full=True)`` that ``--json`` puts first, in the order the text shows them.
_JSON_LEAD = ("model", "evidence", "explaining_causes", "bayes_factor", "prior", "posterior", "distributions",
              "evidence_probability", "most_probable_combinations", "note")


def _diagnose(args: argparse.Namespace) -> int:
    from .model import load_model

    model = load_model(args.model)
    dx = model.diagnose(_parse_answers(args.answers), screen_red_flags=not args.no_screen,
                        confidence=args.confidence)
    if args.json:
        out = dx.to_dict(full=True)
        # the same order as the text: what the answers point to, the probabilities, the combinations
        lead = [k for k in _JSON_LEAD if k in out]
        out = {**{k: out[k] for k in lead}, **{k: v for k, v in out.items() if k not in lead}}
        out["disclaimer"] = disclaimer(model)
        print(json.dumps(out, indent=2))
    else:
        given = ", ".join(f"{k}={v}" for k, v in dx.evidence.items()) or "nothing answered yet"
        print(f"Evidence: {given}")
        for section in (*_diagnosis_sections(model, dx), _next_question_lines(model, dx), _triage_lines(dx),
                        _care_lines(dx)):
            print()
            print("\n".join(section))
        print()
        print(f"(model {dx.model.name} {dx.model.version}, hash {dx.model.content_hash[:12]})")
        print(disclaimer(model))
    return 0


# -- interview ---------------------------------------------------------------------------------

_SKIP_WORDS = frozenset({"skip", "s", "?", "dont know", "don't know", "unknown"})
_UNDO_WORDS = frozenset({"undo", "u", "back"})
_QUIT_WORDS = frozenset({"quit", "q", "exit"})


def _read_answers_file(model: Model, path: str, screen: bool | None, confidence: float | None) -> Interview:
    """A session with the file's answers applied in order; KneeBayesError names the file on any problem.

    The file is either a saved interview (``Interview.to_json()``) or a JSON
    object ``{"node id": "yes" | "no" | true | false | null | "skip"}``
    (null and "skip" mean "don't know").
    """
    from .errors import InputFileError
    from .files import read_text
    from .interview import MAX_SAVED_CHARS, Interview, SavedInterviewError, parse_saved_json

    try:
        # a regular file only (a FIFO would block, a folder or /dev/zero never end), size- and UTF-8-checked
        text = read_text(path, what="answers file", limit=MAX_SAVED_CHARS)
    except InputFileError as exc:
        raise KneeBayesError(str(exc)) from None   # "answers file 'F' does not exist", ...
    except OSError as exc:   # should read_text ever let one through: still a message, not a traceback
        raise KneeBayesError(f"cannot read answers file {path}: {exc.strerror or exc}") from None
    try:
        data = parse_saved_json(text)
    except SavedInterviewError as exc:
        raise SavedInterviewError(f"answers file {path} {exc}") from None
    if not isinstance(data, dict):
        raise KneeBayesError(f"answers file {path}: expected a JSON object such as "
                             f'{{"locking_or_catching": "no"}} or a saved interview, got {type(data).__name__}')
    try:
        if "format" in data:  # a saved interview: from_json checks the format, the model, options and every step
            saved = Interview.from_json(model, text)
            options: dict[str, Any] = saved.options
            steps: list[tuple[str, str, Any]] = [(s.action, s.node, s.value) for s in saved.history]
        else:
            options = {}
            steps = [("skip" if value is None or value == "skip" else "answer", str(node), value)
                     for node, value in data.items()]
        if screen is not None:
            options["screen_red_flags"] = screen
        if confidence is not None:
            options["confidence"] = confidence
        session = Interview(model, **options)
        for action, node, value in steps:
            if action == "skip":
                session.skip(node)
            elif isinstance(value, (str, bool)):
                session.answer(node, value)
            else:
                raise KneeBayesError(f"invalid answer {quote(value)} for {quote(node)}: write a state such as "
                                     f"\"yes\" or \"no\" (or null / \"skip\" for don't know)")
    except KneeBayesError as exc:
        raise KneeBayesError(f"answers file {path}: {exc}") from None
    return session


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str] | None) -> bool:
    """Whether ``a`` and ``b`` are one file on disk (links followed); False when either is missing."""
    if b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _check_save_target(path: str, model: str | None, answers: str | None) -> None:
    """Refuse a ``--save`` path whose file is not the interview's to replace; raise KneeBayesError saying why.

    A new file is fine. An existing one must be a regular file holding a saved
    interview (the ``--answers`` file resumed is one): never the model file,
    a folder, a pipe or device, or any other file (a model, a README), which
    the first save would otherwise replace before the first question.
    """
    from .errors import InputFileError
    from .files import read_text
    from .interview import _FORMAT, MAX_SAVED_CHARS, SavedInterviewError, parse_saved_json
    from .modelfile.load import default_model_path

    shown = quote(path, PATH_LIMIT)
    keep = "kneebayes will not overwrite it: give --save a new file name (nothing was asked)"
    if _same_file(path, model if model is not None else default_model_path()):
        which = "the model file (--model)" if model is not None else "the packaged model file"
        raise KneeBayesError(f"--save {shown} is {which}; {keep}")
    try:
        info = os.stat(path)
    except OSError:
        # missing: a new file, nothing to lose; anything else (a missing folder, no permission)
        # the first save reports, as it cannot write there either
        return
    if stat.S_ISDIR(info.st_mode):
        raise KneeBayesError(f"cannot save the interview to {shown}: it is a folder; give --save the name of a "
                             f"file (nothing was asked)")
    if not stat.S_ISREG(info.st_mode):
        raise KneeBayesError(f"cannot save the interview to {shown}: it is not a regular file (a pipe, socket or "
                             f"device); {keep}")
    try:
        # read as --answers reads it: a file too large, not UTF-8 or not JSON cannot be a saved interview
        data = parse_saved_json(read_text(path, what="--save file", limit=MAX_SAVED_CHARS))
    except InputFileError as exc:   # e.g. "cannot be read: Permission denied": say why
        raise KneeBayesError(f"--save {shown} exists and is not a saved interview kneebayes can read "
                             f"(it {exc.reason.split(';')[0]}); {keep}") from None
    except SavedInterviewError:
        data = None
    if not (isinstance(data, dict) and data.get("format") == _FORMAT):
        if _same_file(path, answers):
            raise KneeBayesError(f"--save {shown} is the --answers file, which holds answers but not a saved "
                                 f"interview; {keep}")
        raise KneeBayesError(f"--save {shown} exists and is not a saved interview; {keep}")


def _write(line: str) -> None:
    print(line, flush=True)


def _warn(text: str) -> None:
    """A line on stderr that may not be seen (after SIGHUP the terminal is gone): never an error of its own."""
    try:
        print(f"kneebayes: {text}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


@dataclass
class _Saver:
    """Keeps the ``--save`` file current, written whole (write_atomic) after every change.

    A failed write leaves the file as it was: the earlier answers, never a
    half-written or empty file.
    """

    path: str
    session: Interview
    written: str | None = None      # the text last saved, to skip writing the same again
    failed: str | None = None      # why the latest save failed, while it stays failed

    def save(self) -> bool:
        from .files import write_atomic

        text = self.session.to_json() + "\n"
        if text == self.written:
            return True
        try:
            write_atomic(self.path, text)
        except OSError as exc:
            self.failed = exc.strerror or str(exc)
            return False
        self.written, self.failed = text, None
        return True

    def kept(self) -> str:
        """What the file holds after a failed save, in words."""
        if self.written is None:
            return "nothing has been saved"
        return f"{self.path} keeps the answers saved before"


class _Stopped(Exception):
    """SIGTERM or SIGHUP asked the interview to end (raised only where nothing is half done)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _StopSignals:
    """SIGTERM and SIGHUP end the interview cleanly: at once while it waits for an answer, else after the step in hand.

    Never in the middle of recording an answer or of saving, so the session and
    the ``--save`` file stay whole. Handlers are set only in the main thread
    (elsewhere Python does not allow it, and the defaults stay).
    """

    SIGNALS: tuple[signal.Signals, ...] = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))

    def __init__(self) -> None:
        self.received: int | None = None
        self.waiting = False
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)   # None: a handler set outside Python

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        if self.waiting:   # blocked on input: nothing is half done, end now
            raise _Stopped(signum)

    def check(self) -> None:
        """End here if a signal came while a step was being recorded or saved."""
        if self.received is not None:
            raise _Stopped(self.received)


def _interview(args: argparse.Namespace) -> int:
    from .interview import Interview
    from .model import load_model

    write = _write
    model = load_model(args.model)
    screen = False if args.no_screen else None
    if args.answers is not None:
        session = _read_answers_file(model, args.answers, screen, args.confidence)
    else:
        session = Interview(model, screen_red_flags=not args.no_screen, confidence=args.confidence)

    saver = _Saver(args.save, session) if args.save is not None else None
    if saver is not None:   # checked just before the first save, which would replace what is there
        _check_save_target(saver.path, args.model, args.answers)
    # Saved once before the first question: a --save path that cannot be written is found now,
    # not after the person has answered everything.
    if saver is not None and not saver.save():
        raise KneeBayesError(f"cannot save the interview to {quote(saver.path, PATH_LIMIT)}: {saver.failed}; "
                             f"nothing was asked (give --save a file in a folder you can write to)")

    def changed() -> None:
        if saver is not None and not saver.save():
            _warn(f"warning: could not save the interview to {saver.path}: {saver.failed}; {saver.kept()}. "
                  f"Going on; the next answer tries again.")

    with _StopSignals() as signals:
        try:
            write(disclaimer(model))
            write("Answer each question with yes or no (y / n), skip if you don't know, "
                  "undo to take back your last answer, quit to stop here.")
            if session.history:
                write("")
                write(f"Replaying {len(session.history)} answer(s) from {args.answers}:")
                for i, step in enumerate(session.history, 1):
                    write(f"Q{i}. {model.node(step.node).question}")
                    write(f"    [{step.node}] answer from file: {'skip' if step.action == 'skip' else step.value}")
            if session.next_question() is not None:   # else the end screen below shows where things stand
                _write_sections(_diagnosis_sections(model, session.diagnosis, combinations=False), write)
            ended = _ask(model, session, sys.stdin, write, changed=changed, signals=signals)
        except _Stopped as stop:
            return _end_on_signal(model, session, saver, stop.signum, write)
        return _end(model, session, saver, ended, write)


def _end(model: Model, session: Interview, saver: _Saver | None, ended: str, write: Callable[[str], None]) -> int:
    """The end screen: why it ended, where things stand, the save; 2 if the last save failed."""
    dx = session.diagnosis
    write("")
    if ended == "stopped":
        write(f"Stopped after {len(session.history)} question(s): {_stop_text(model, dx)}.")
    else:
        write(f"Ended early after {len(session.history)} question(s), before the stopping rule was reached; "
              "this is where things stand now.")
    _write_sections([*_diagnosis_sections(model, dx), _triage_lines(dx), _care_lines(dx)], write)
    status = 0
    if saver is not None:
        if saver.save():
            write("")
            write(f"Saved the interview to {saver.path} (resume with --answers {saver.path}).")
        else:
            print(f"kneebayes: error: cannot save the interview to {saver.path}: {saver.failed}; {saver.kept()}",
                  file=sys.stderr)
            status = 2
    write("")
    write(disclaimer(model))
    return status


def _end_on_signal(model: Model, session: Interview, saver: _Saver | None, signum: int,
                   write: Callable[[str], None]) -> int:
    """SIGTERM or SIGHUP: make sure of the save, say where things stand if anyone still reads, exit 128 + signal."""
    name = signal.Signals(signum).name
    saved = saver is not None and saver.save()
    if saver is None:
        kept = "nothing was saved (no --save)"
    elif saved:
        kept = f"the answers are saved in {saver.path} (resume with --answers {saver.path})"
    else:
        kept = f"could not save the interview to {saver.path}: {saver.failed}; {saver.kept()}"
    try:   # after SIGHUP the terminal may be gone: output is best effort, the file is what counts
        dx = session.diagnosis
        write("")
        write(f"Interrupted by {name} after {len(session.history)} question(s); this is where things stand now.")
        _write_sections([*_diagnosis_sections(model, dx), _triage_lines(dx), _care_lines(dx)], write)
        write("")
        write(disclaimer(model))
    except (OSError, ValueError):
        pass
    _warn(f"interview stopped by {name} after {len(session.history)} question(s); {kept}.")
    return 128 + signum


def _write_sections(sections: Sequence[Sequence[str]], write: Callable[[str], None]) -> None:
    """Each section after a blank line."""
    for section in sections:
        write("")
        for line in section:
            write(line)


def _ask(model: Model, session: Interview, stdin: TextIO, write: Callable[[str], None], *,
         changed: Callable[[], None] = lambda: None, signals: _StopSignals | None = None) -> str:
    """Ask until the stopping rule ("stopped") or the person quits or input ends ("quit").

    ``changed`` runs after every answer, skip and undo (the ``--save`` file);
    ``signals`` may end the interview by raising ``_Stopped`` while it waits for input.
    """
    signals = signals or _StopSignals()   # not entered: no handlers, nothing received
    echo = not stdin.isatty()
    while True:
        q = session.next_question()
        if q is None:
            return "stopped"
        states = model.node(q.id).states
        yes_no = set(states) == {"yes", "no"}
        write("")
        write(f"Q{len(session.history) + 1}. {q.text}")
        write(f"    [{q.id}] expected information gain {q.expected_information_gain:.3f} bits")
        prompt = "[" + "/".join([*states, "skip", "undo", "quit"]) + "] "
        while True:
            sys.stdout.write(prompt)
            sys.stdout.flush()
            signals.waiting = True   # from here a signal ends the interview at once
            try:
                signals.check()
                line = stdin.readline()
            except KeyboardInterrupt:  # Ctrl-C: end the interview, but still say where things stand
                line = ""
            finally:
                signals.waiting = False
            if not line:  # end of input: as if the person quit
                write("")
                write("(end of input)")
                return "quit"
            word = " ".join(line.strip().lower().split())
            if echo:
                write(word)
            by_name = {s.lower(): s for s in states}
            if yes_no:
                by_name.update({"y": "yes", "n": "no"})
            if word in by_name:
                try:
                    dx = session.answer(q.id, by_name[word])
                except KneeBayesError as exc:  # e.g. impossible given the earlier answers
                    write(f"That answer cannot be used: {exc}. Answer again, skip or undo.")
                    continue
                changed()
                for reason in dx.triage.reasons:
                    if reason.trigger == q.id and reason.kind == "red_flag":
                        write(f"  ! Warning sign: {reason.text}")
                break
            if word in _SKIP_WORDS:
                session.skip(q.id)
                changed()
                write("  (skipped: not asked again)")
                break
            if word in _UNDO_WORDS:
                if not session.history:
                    write("Nothing to undo yet.")
                    continue
                last = session.history[-1]
                session.undo()
                changed()
                took = "skip" if last.action == "skip" else last.value
                write(f"  (took back your answer '{took}' to: {model.node(last.node).question})")
                break
            if word in _QUIT_WORDS:
                return "quit"
            valid = ", ".join([*states, "skip", "undo", "quit"])
            write(f"Please answer one of: {valid}" + (" (y and n work too)." if yes_no else "."))
        if session.next_question() is not None:   # at the stop, the end screen shows where things stand
            _write_sections(_diagnosis_sections(model, session.diagnosis, combinations=False), write)


def _check(args: argparse.Namespace) -> int:
    from .modelfile.load import check_model_file, default_model_path

    path = args.path if args.path is not None else default_model_path()
    problems = check_model_file(path)
    for p in problems:
        print(p)
    print(f"{path}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def _claims(args: argparse.Namespace) -> int:
    from .model import load_model

    report = load_model(args.model).check_claims()
    print(report)
    return 0 if report.all_held else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kneebayes", description="Bayesian diagnosis of tightness behind the knee after running.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diagnose", help="posterior of the causes for some answers")
    d.add_argument("answers", nargs="*", metavar="ID=STATE", help="answers, e.g. locking_or_catching=yes")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument("--model", type=_path, default=None, help="a model file (default: the packaged knee model)")
    d.add_argument("--no-screen", action="store_true",
                   help="let the stopping rule ignore unanswered warning-sign questions")
    d.add_argument("--confidence", type=_confidence, default=None, metavar="P",
                   help="stop once the leading cause reaches this probability (default: the model file's)")
    d.set_defaults(run=_diagnose)
    i = sub.add_parser("interview", help="answer the questions one at a time on the terminal",
                       description="Ask the most informative question, one at a time, until the stopping rule; "
                                   "then print triage and the care plan. Decision support, not a medical diagnosis.",
                       epilog="SIGTERM or SIGHUP ends the interview as a quit does, with status 128 + the signal's "
                              "number; with --save its answers so far are already in the file.")
    i.add_argument("--model", type=_path, default=None, help="a model file (default: the packaged knee model)")
    i.add_argument("--answers", type=_path, default=None, metavar="FILE",
                   help='replay answers first: a saved interview (--save) or a JSON object {"ID": "yes", ...}')
    i.add_argument("--save", type=_path, default=None, metavar="FILE",
                   help="keep the interview in FILE as JSON (resume it with --answers FILE): written before the "
                        "first question and after every answer, skip and undo, each time replacing the file whole, "
                        "so an interview cut short (quit, end of input, SIGTERM, SIGHUP) keeps its answers. FILE must "
                        "be new or hold a saved interview (such as the --answers file being resumed): any other "
                        "existing file (the model file, a folder, a pipe) is never replaced. A FILE that is refused "
                        "or cannot be written at the start ends the command before any question (status 2). If a "
                        "later save fails, a warning goes to stderr and the interview goes on, trying again after "
                        "the next answer; the file keeps the last answers saved, and the status is 2 if the final "
                        "save fails")
    i.add_argument("--no-screen", action="store_true",
                   help="let the interview stop before every warning-sign question is answered")
    i.add_argument("--confidence", type=_confidence, default=None, metavar="P",
                   help="stop once the leading cause reaches this probability (default: the model file's)")
    i.set_defaults(run=_interview)
    c = sub.add_parser("check", help="list every problem in a model file")
    c.add_argument("path", nargs="?", type=_path, default=None)
    c.set_defaults(run=_check)
    k = sub.add_parser("claims", help="check the article's claims kept in the model file")
    k.add_argument("--model", type=_path, default=None)
    k.set_defaults(run=_claims)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Started with a standard stream closed (`>&-`, `<&-`), Python sets it to None:
    # end with a message (stderr permitting) before anything is read, asked or saved.
    if sys.stdout is None:
        _warn("error: standard output is closed, so there is nowhere to show the results "
              "(to discard them, send them to /dev/null instead)")
        return 2
    if args.command == "interview" and sys.stdin is None:
        _warn("error: standard input is closed, so the interview cannot read answers "
              "(give it a terminal, a pipe or a file)")
        return 2
    try:
        return int(args.run(args))
    except KneeBayesError as exc:
        print(f"kneebayes: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a file problem no reader turned into a KneeBayesError: a message, not a traceback
        where = f" ({exc.filename})" if isinstance(exc.filename, str) else ""
        _warn(f"error: {exc.strerror or exc}{where}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
