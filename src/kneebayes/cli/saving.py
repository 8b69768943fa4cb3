"""Keeping an interview on disk and ending it cleanly: the ``--save`` file, its checks, SIGTERM and SIGHUP."""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..errors import PATH_LIMIT, InputFileError, KneeBayesError, printable, quote
from ..files import read_text, write_atomic
from ..interview import MAX_SAVED_CHARS, SAVED_FORMAT, SavedInterviewError, parse_saved_json
from ..modelfile import load as model_file

if TYPE_CHECKING:
    from ..interview import Interview


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str] | None) -> bool:
    """Whether ``a`` and ``b`` are one file on disk (links followed); False when either is missing."""
    if b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_save_target(path: str, model: str | None, answers: str | None) -> None:
    """Refuse a ``--save`` path whose file is not the interview's to replace; raise KneeBayesError saying why.

    A new file is fine. An existing one must be a regular file holding a saved
    interview with no answers yet, or the ``--answers`` file being resumed:
    never another session's answers, nor the model file,
    a folder, a pipe or device, or any other file (a model, a README), which
    the first save would otherwise replace before the first question.
    """
    shown = quote(path, PATH_LIMIT)
    keep = "kneebayes will not overwrite it: give --save a new file name (nothing was asked)"
    if same_file(path, model if model is not None else model_file.default_model_path()):
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
    if not (isinstance(data, dict) and data.get("format") == SAVED_FORMAT):
        if same_file(path, answers):
            raise KneeBayesError(f"--save {shown} is the --answers file, which holds answers but not a saved "
                                 f"interview; {keep}")
        raise KneeBayesError(f"--save {shown} exists and is not a saved interview; {keep}")
    steps = data.get("steps")
    if isinstance(steps, list) and steps and not same_file(path, answers):
        # a session someone answered: replacing it with a new one would lose those answers
        raise KneeBayesError(f"--save {shown} holds a saved interview with {len(steps)} answer(s); to go on with it, "
                             f"add --answers {shown}; to start afresh, give --save a new file name (nothing was asked)")


def write_line(line: str) -> None:
    """One line to stdout, flushed at once: a question shows before the prompt waits, even through a pipe."""
    print(printable(line), flush=True)   # a name from a file never reaches the terminal as a command


def warn(text: str) -> None:
    """A line on stderr that may not be seen (after SIGHUP the terminal is gone): never an error of its own."""
    try:
        print(printable(f"kneebayes: {text}"), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


@dataclass
class Saver:
    """Keeps the ``--save`` file current, written whole (write_atomic) after every change.

    A failed write leaves the file as it was: the earlier answers, never a
    half-written or empty file.
    """

    path: str
    session: Interview
    written: str | None = None      # the text last saved, to skip writing the same again
    failed: str | None = None      # why the latest save failed, while it stays failed

    def save(self) -> bool:
        """Write the session if it changed since the last save; False when the write fails (``failed`` says why).

        >>> import kneebayes, os, tempfile
        >>> session = kneebayes.Interview(kneebayes.load_model())
        >>> saver = Saver(os.path.join(tempfile.mkdtemp(), "session.json"), session)
        >>> saver.save(), saver.failed
        (True, None)
        >>> lost = Saver(os.path.join(tempfile.mkdtemp(), "no-such-folder", "session.json"), session)
        >>> lost.save(), lost.failed.endswith("no-such-folder' does not exist"), lost.kept()
        (False, True, 'nothing has been saved')
        """
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


class Stopped(Exception):
    """SIGTERM or SIGHUP asked the interview to end (raised only where nothing is half done)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
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

    def __enter__(self) -> StopSignals:
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
            raise Stopped(signum)

    def check(self) -> None:
        """End here if a signal came while a step was being recorded or saved."""
        if self.received is not None:
            raise Stopped(self.received)
