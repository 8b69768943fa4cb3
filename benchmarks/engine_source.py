"""Which kneebayes a benchmark times: this checkout's commit, or an installed copy that may not be it.

A plain ``pip install .`` leaves a copy in site-packages that ``import
kneebayes`` finds before this checkout's ``src/``; a benchmark run after
later commits would time that copy while the checkout's commit was
reported. Every benchmark that records its commit records this instead.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def engine_source() -> str:
    """The commit, whether src/ had uncommitted changes, and, where ``import kneebayes`` would not load this
    checkout's ``src/``, where it loads from instead."""
    spec = importlib.util.find_spec("kneebayes")
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown", ""
    state = head + (" with uncommitted changes in src/" if dirty else "")
    if origin is None:
        state += " (but kneebayes is not importable here)"
    elif (ROOT / "src") not in origin.parents:
        state += f" (but an installed copy, {origin.parent}, is what runs: `pip install -e .`)"
    return state
