"""The ``kneebayes`` command line: diagnose a case, run an interview, list the nodes, check a model file or its claims.

``kneebayes diagnose ID=yes ...`` leads with what the answers point to (each
cause's Bayes factor in plain words, beside its probability now and before
any answer), then how likely each cause is (the posterior as bars), the most
probable combinations of causes, the next question and why it is asked (or
why asking could stop), triage with its reasons and the care items that fit
the answers; ``--json`` gives the same sections as keys. ``kneebayes
interview`` asks the questions one at a time on the terminal. ``kneebayes
nodes`` lists the ids and the answers each takes. Output is wrapped to the
terminal's width; ``--verbose`` adds the numbers behind each question. Every
command takes ``--model``: a YAML model file, or a network file (BIF,
XMLBIF, XDSL) with ``--targets``. Both diagnosis commands say plainly that
this is decision support, not a diagnosis.

One module per command (:mod:`.diagnose`, :mod:`.interview`, :mod:`.nodes`,
:mod:`.checks`), loaded only when its command runs; the sections of text
are :mod:`.text`, typed answers :mod:`.answers`, the ``--save`` file and
signals :mod:`.saving`, the ``--model`` argument :mod:`.models`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..errors import KneeBayesError, printable, quote
from ..settings import setting_problem
from .models import split_normal, split_targets
from .saving import warn

__all__ = ["build_parser", "main"]

#: The command -> "module:function" that runs it (imported when the command runs).
COMMANDS = {
    "diagnose": "diagnose:run",
    "interview": "interview:run",
    "nodes": "nodes:run",
    "check": "checks:run_check",
    "claims": "checks:run_claims",
}


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: object = None, line: str | None = None) -> None:
    warn(f"note: {message}")


def _path(text: str) -> str:
    """A file or folder named on the command line: an empty name is refused, not taken as "none given"."""
    if not text:
        raise argparse.ArgumentTypeError("an empty file name: give the path of a file")
    return text


def _confidence(text: str) -> float:
    """``--confidence``: a number, checked by the one settings validator (so "nan" or "5" is refused as everywhere)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {quote(text)}") from None
    problem = setting_problem("confidence", value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _targets(text: str) -> tuple[str, ...]:
    try:
        return split_targets(text)
    except KneeBayesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _normal(text: str) -> dict[str, str]:
    try:
        return split_normal(text)
    except KneeBayesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=_path, default=None, metavar="FILE",
                   help="a YAML model file, or a network file (.bif, .xml/.xmlbif, .xdsl, each optionally .gz) "
                        "with --targets (default: the packaged knee model)")
    p.add_argument("--targets", type=_targets, default=None, metavar="A,B",
                   help="with a network file as --model: the nodes to diagnose, comma-separated")
    p.add_argument("--normal", type=_normal, default=None, metavar="T=STATE,...",
                   help="with a network file: each target's no-fault state, where its name does not say so "
                        "(e.g. --normal LVFAILURE=FALSE); states named normal, ok, absent, ... are found unasked")


def _care_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--care", choices=("short", "all"), default=None,
                   help="the care plan: the items that fit the answers (short, the default) or every item (all)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser with a one-line error, as every other user error is (not the usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, printable(f"{self.prog}: error: {message} (see {self.prog} --help)\n"))


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options; :func:`main` runs what it parses.

    >>> args = build_parser().parse_args(["diagnose", "limping=yes", "--confidence", "0.8"])
    >>> args.command, args.answers, args.confidence
    ('diagnose', ['limping=yes'], 0.8)
    """
    parser = _Parser(prog="kneebayes", description="Bayesian diagnosis of tightness behind the knee "
                                     "after running (or with any diagnostic network, --model).")
    parser.add_argument("--version", action="version", version=f"kneebayes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diagnose", help="posterior of the causes for some answers")
    d.add_argument("answers", nargs="*", metavar="ID=STATE", help="answers, e.g. locking_or_catching=yes")
    d.add_argument("--json", action="store_true", help="machine-readable output: every section, each care item "
                                                        "with whether it fits, the next question with its numbers "
                                                        "(so --care and --verbose are refused with it)")
    _model_options(d)
    _care_option(d)
    d.add_argument("--verbose", "-v", action="store_true",
                   help="show the numbers behind the next question (its id, information gain and effort)")
    d.add_argument("--no-screen", action="store_true",
                   help="let the stopping rule ignore unanswered warning-sign questions")
    d.add_argument("--confidence", type=_confidence, default=None, metavar="P",
                   help="stop once the leading cause reaches this probability (default: the model file's)")
    i = sub.add_parser("interview", help="answer the questions one at a time on the terminal",
                       description="Ask the most informative question, one at a time, until the stopping rule; "
                                   "then print triage and the care plan. Decision support, not a medical diagnosis.",
                       epilog="SIGTERM or SIGHUP ends the interview as a quit does, with status 128 + the signal's "
                              "number; with --save its answers so far are already in the file.")
    _model_options(i)
    _care_option(i)
    i.add_argument("--verbose", "-v", action="store_true",
                   help="show the numbers behind each question (its id, information gain and effort)")
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
    n = sub.add_parser("nodes", help="list every node id with its label, kind and the answers it takes")
    _model_options(n)
    n.add_argument("--kind", default=None, help="only nodes of this kind (cause, risk_factor, finding, ...); "
                                                "--targets are listed under cause")
    n.add_argument("--json", action="store_true", help="machine-readable output")
    c = sub.add_parser("check", help="list every problem in a model file")
    c.add_argument("path", nargs="?", type=_path, default=None)
    k = sub.add_parser("claims", help="check the article's claims kept in the model file")
    k.add_argument("--model", type=_path, default=None, metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with ``argv`` (default: the process's arguments) and return its exit status.

    0 on success; 1 when ``check`` finds problems, a claim fails or the
    output's reader stops early (``| head``); 2 for an error, shown as one
    line on stderr, never a traceback; 130 for Ctrl-C.

    >>> main(["nodes", "--kind", "cause"])
    Causes (6):
      hamstring_strain    Hamstring tightness or strain [yes/no]
      popliteus_overload  Popliteus muscle overload [yes/no]
      tendonitis          Hamstring or popliteal tendonitis [yes/no]
      meniscal_injury     Meniscal injury or tear [yes/no]
      bakers_cyst         Baker's (popliteal) cyst [yes/no]
      nerve_irritation    Nerve irritation [yes/no]
    <BLANKLINE>
    Answer with ID=STATE, e.g. kneebayes diagnose ID=STATE
    0
    """
    args = build_parser().parse_args(argv)
    # Started with a standard stream closed (`>&-`, `<&-`), Python sets it to None:
    # end with a message (stderr permitting) before anything is read, asked or saved.
    if sys.stdout is None:
        warn("error: standard output is closed, so there is nowhere to show the results "
              "(to discard them, send them to /dev/null instead)")
        return 2
    if args.command == "interview" and sys.stdin is None:
        warn("error: standard input is closed, so the interview cannot read answers "
              "(give it a terminal, a pipe or a file)")
        return 2
    module, _, function = COMMANDS[args.command].partition(":")
    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning   # a note for a person, not Python's file:line and source
    try:
        run = getattr(importlib.import_module(f".{module}", __name__), function)
        return int(run(args))
    except KeyboardInterrupt:   # Ctrl-C outside the interview's own handling: a line, not a traceback
        warn("interrupted")
        return 130
    except KneeBayesError as exc:
        print(printable(f"kneebayes: error: {exc}"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a file problem no reader turned into a KneeBayesError: a message, not a traceback
        where = f" ({exc.filename})" if isinstance(exc.filename, str) else ""
        warn(f"error: {exc.strerror or exc}{where}")
        return 2
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
