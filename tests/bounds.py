"""Guards for hostile inputs: the block must finish within a bounded amount of work and memory.

Work is counted, not timed: the number of function calls the block makes
(Python and built-in, as ``cProfile`` counts them), which is the same on a
fast machine and a loaded one. Memory is tracemalloc's peak. The limits are
generous: they catch a blow-up (a billion-value walk, a quadratic scan),
never an ordinary run.
"""

from __future__ import annotations

import cProfile
import os
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

#: The default work budget: a hundred times the most any hostile input here needs (about 40,000 calls).
CALLS = 5_000_000


@contextmanager
def few_calls(calls: int = CALLS) -> Iterator[None]:
    """Fail if the block makes more function calls than allowed (counted by cProfile, not timed)."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
    made = sum(entry.callcount for entry in profile.getstats())
    if os.environ.get("KNEEBAYES_SHOW_BOUNDS"):
        print(f"bounded: {made:,} calls")
    assert made < calls, f"made {made:,} function calls (allowed {calls:,})"


@contextmanager
def bounded(calls: int = CALLS, megabytes: float = 100.0) -> Iterator[None]:
    """Fail if the block makes more function calls, or allocates more at its peak (tracemalloc), than allowed."""
    tracemalloc.start()
    try:
        with few_calls(calls):
            yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    assert peak < megabytes, f"peaked at {peak:.0f} MB"
