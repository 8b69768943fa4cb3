"""A tiny progress bar on stderr, for long sampling runs. No dependency.

``progress=None`` (the default everywhere) means *auto*: the bar shows only
when stderr is a terminal or the code runs inside a Jupyter notebook, and
only once the run has lasted half a second, so quick calls, scripts piped
to a file and CI logs stay quiet. ``True`` forces the bar (from the first
update), ``False`` silences it.

>>> import io
>>> stream = io.StringIO()
>>> with Progress(4, enabled=True, label="draws", stream=stream) as bar:
...     for _ in range(4):
...         bar.update(1)
>>> stream.getvalue().rstrip().endswith("4/4")
True
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

__all__ = ["Progress", "should_show"]

_DELAY = 0.5      # seconds an auto bar waits before it first draws
_INTERVAL = 0.1   # seconds between redraws
_WIDTH = 30       # characters of the bar itself


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), without importing IPython."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    try:
        shell = get() if get is not None else None
    except Exception:  # noqa: BLE001 - any failure means "not a notebook"
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def should_show(progress: bool | None, stream: IO[str] | None = None) -> bool:
    """Resolve ``progress``: None means a terminal or a notebook; True/False force."""
    if progress is not None:
        return bool(progress)
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return tty or _in_notebook()


class Progress:
    """Count ``total`` units of work, drawing ``label [#####.....] done/total`` on stderr.

    Use as a context manager; the finished bar stays on its line. ``enabled``
    follows :func:`should_show`. A forced bar draws from the first update;
    an automatic one waits half a second so fast runs print nothing.
    """

    def __init__(self, total: int, *, enabled: bool | None = None, label: str = "", stream: IO[str] | None = None) -> None:
        self.total = max(int(total), 0)
        self.done = 0
        self.label = label
        self._stream = sys.stderr if stream is None else stream
        self._on = should_show(enabled, self._stream)
        self._forced = enabled is True
        self._start = time.perf_counter()
        self._last = -1.0
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done, and redraw if it is time."""
        self.done = min(self.done + n, self.total)
        if not self._on:
            return
        now = time.perf_counter()
        if not self._forced and now - self._start < _DELAY:
            return
        if self._drawn and now - self._last < _INTERVAL and self.done < self.total:
            return
        self._draw(now)

    def _draw(self, now: float) -> None:
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * _WIDTH))
        elapsed = now - self._start
        label = f"{self.label} " if self.label else ""
        text = f"\r{label}[{'#' * filled}{'.' * (_WIDTH - filled)}] {elapsed:5.1f}s {self.done}/{self.total}"
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed stream never breaks the computation
            self._on = False
            return
        self._drawn = True
        self._last = now

    def close(self) -> None:
        """Finish the line (only if the bar was ever drawn)."""
        if self._on and self._drawn:
            if self.done < self.total or self._last < 0:
                self._draw(time.perf_counter())
            try:
                self._stream.write("\n")
                self._stream.flush()
            except (OSError, ValueError):
                pass
            self._on = False
