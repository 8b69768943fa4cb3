"""A guard for hostile inputs: the block must finish in bounded time and memory (tracemalloc's peak).

The limits are generous: they catch a blow-up (a billion-value walk, a
quadratic scan), never ordinary slowness on a loaded machine.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bounded(seconds: float = 10.0, megabytes: float = 100.0) -> Iterator[None]:
    """Fail if the block takes longer or allocates more at its peak (tracemalloc) than allowed."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < megabytes, f"peaked at {peak:.0f} MB"
