"""Running the ``kneebayes`` command line for a test: in this process through ``main(argv)``, or as a real process.

:func:`run` calls :func:`kneebayes.cli.main` with the arguments, a scripted
stdin, ``COLUMNS`` set and stdout and stderr captured, and returns the exit
status and both outputs as :class:`subprocess.CompletedProcess` does. It
takes milliseconds where a subprocess takes about a second (a Python start,
then numpy, kneebayes and the model imported afresh), so most CLI tests use
it. An exit through ``SystemExit`` (argparse's ``--version``, ``--help`` and
usage errors) gives its status as the interpreter would.

:func:`run_process` starts ``python -m kneebayes.cli`` for the few smoke tests
that must see a real process: one per command, the exit statuses, and what
only a process has (the console script, a terminal's Ctrl-C).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass

from kneebayes.cli import main

#: Content tests read whole lines: a very wide terminal keeps them unwrapped (80 columns checks the wrapping).
UNWRAPPED = 1000


@dataclass(frozen=True)
class Result:
    """What a run of the command line gave: its exit status and everything it wrote to stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def _status(code: object) -> int:
    """The exit status of ``SystemExit(code)`` as the interpreter sets it (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run(*args: str, stdin: str = "", columns: int = UNWRAPPED) -> Result:
    """``kneebayes ARGS`` in this process, with ``stdin`` as its input (a pipe, not a terminal) and ``COLUMNS`` set."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    width = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        # a fresh warnings state, as a new process has: a warning shown by an earlier run is shown again
        with warnings.catch_warnings():
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = _status(exit_.code)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        if width is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = width
    return Result(code, out.getvalue(), err.getvalue())


def run_process(*args: str, stdin: str = "", columns: int = UNWRAPPED,
                command: tuple[str, ...] = (sys.executable, "-m", "kneebayes.cli")) -> subprocess.CompletedProcess[str]:
    """``kneebayes ARGS`` as a separate process (``python -m kneebayes.cli`` unless ``command`` names another)."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, timeout=120, env=env)
