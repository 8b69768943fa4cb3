"""A bounded, thread-safe store of derived values by what they are derived from.

Compiling is pure: equal inputs give equal arrays. A model made by
``with_parameters`` shares most of its inputs with the model it was made
from, so the network's plans (by structure), its node tables (by their
parameters) and the fast path's parts (by their tables) are kept here and
reused; the least recently used goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Kept"]

V = TypeVar("V")


class Kept(Generic[V]):
    """The last ``size`` values by key, with hit and miss counts (like ``functools.lru_cache``'s).

    >>> kept = Kept(2)
    >>> kept.get_or_build("a", lambda: 1), kept.get_or_build("a", lambda: 2)
    (1, 1)
    >>> kept.put("b", 3); kept.put("c", 4); kept.get("a") is None, len(kept), (kept.hits, kept.misses)
    (True, 2, (1, 2))
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._found: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._found.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
                self._found.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` under ``key``, letting the least recently used go past ``size``."""
        with self._lock:
            self._found[key] = value
            self._found.move_to_end(key)
            while len(self._found) > self.size:
                self._found.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value kept under ``key``, or ``build()`` kept there (built outside the lock; two threads may
        both build it, alike)."""
        found = self.get(key)
        if found is None:
            found = build()
            self.put(key, found)
        return found

    def clear(self) -> None:
        """Forget every value and the counts."""
        with self._lock:
            self._found.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._found)
