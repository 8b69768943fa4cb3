"""Checking the arguments the research calls share: counts, seeds, mass, progress and memory.

A wrong type raises WrongTypeError, a value out of range SettingError; every
message names the argument and what would be valid, and describes a huge
int by its size rather than quoting it (:func:`show`). The limits
themselves belong to the calls that use them (for example
``kneebayes.research.intervals.MAX_DRAWS`` and ``DRAW_MEMORY``), which
pass them in.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..errors import SettingError, WrongTypeError, quote
from ..modelfile.numbers import is_number

__all__ = ["SEED_BITS", "check_count", "check_mass", "check_memory", "check_progress", "check_seed", "show"]

#: A seed is an int in [0, 2**SEED_BITS) (numpy's own entropy is 128 bits; a longer int only costs time).
SEED_BITS = 128


def show(value: object) -> str:
    """``quote(value)``, except that a huge int is described by its size (its repr would raise past 4,300 digits).

    >>> show(12345), show(10**5000)
    ('12,345', 'an integer of about 5,001 digits')
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        n = int(value)
        if abs(n) >= 10**30:
            digits = int(abs(n).bit_length() * math.log10(2)) + 1
            return f"{'-' if n < 0 else ''}an integer of about {digits:,} digits"
        return f"{n:,}" if abs(n) >= 10_000 else str(n)
    return quote(value)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_count(value: object, name: str, maximum: int, *, minimum: int = 1, limit_name: str = "") -> int:
    """``value`` as an int in [minimum, maximum]: WrongTypeError for a non-int (a bool, a float), SettingError outside.

    ``limit_name`` (the constant that sets ``maximum``) is named in the error.

    >>> check_count(5, "draws", 10)
    5
    >>> check_count(11, "draws", 10, limit_name="MAX")
    Traceback (most recent call last):
    kneebayes.errors.SettingError: draws must be from 1 to 10 (MAX), got 11
    """
    where = f" ({limit_name})" if limit_name else ""
    if not _is_int(value):
        raise WrongTypeError(f"{name} must be a whole number (an int) from {minimum:,} to {maximum:,}, "
                        f"got {type(value).__name__} {show(value)}")
    n = int(value)  # type: ignore[call-overload]
    if not minimum <= n <= maximum:
        raise SettingError(f"{name} must be from {minimum:,} to {maximum:,}{where}, got {show(n)}")
    return n


def check_seed(seed: object, *, generator: bool = False) -> Any:
    """None or an int in [0, 2**SEED_BITS) (or, with ``generator``, a numpy Generator), else
    WrongTypeError/SettingError.

    >>> check_seed(None), check_seed(7)
    (None, 7)
    """
    if seed is None or (generator and isinstance(seed, np.random.Generator)):
        return seed
    also = ", a numpy Generator" if generator else ""
    if not _is_int(seed):
        raise WrongTypeError(f"seed must be None{also} or a non-negative int, got {type(seed).__name__} {show(seed)}")
    n = int(seed)  # type: ignore[call-overload]
    if not 0 <= n < 1 << SEED_BITS:
        raise SettingError(f"seed must be None{also} or an int from 0 to 2**{SEED_BITS} - 1, got {show(n)}")
    return n


def check_mass(mass: object) -> float:
    """``mass`` as a float strictly between 0 and 1: WrongTypeError for a non-number (a string, a bool),
    SettingError outside.

    >>> check_mass(0.9)
    0.9
    """
    if isinstance(mass, (bool, np.bool_)) or not isinstance(mass, numbers.Real):
        raise WrongTypeError(f"mass must be a number in (0, 1), such as 0.9, got {type(mass).__name__} {show(mass)}")
    value = float(mass) if is_number(mass) else math.nan
    if not 0.0 < value < 1.0:   # NaN, inf and huge ints fail too
        raise SettingError(f"mass must lie strictly between 0 and 1, such as 0.9, got {show(mass)}")
    return value


def check_progress(progress: object) -> bool | None:
    """``progress`` as None (automatic) or a bool, else WrongTypeError.

    >>> check_progress(None), check_progress(False)
    (None, False)
    """
    if progress is None or isinstance(progress, (bool, np.bool_)):
        return None if progress is None else bool(progress)
    raise WrongTypeError(f"progress must be None (automatic), True or False, "
                         f"got {type(progress).__name__} {quote(progress)}")


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def check_memory(count: int, per_item: int, *, limit: int, limit_name: str, name: str = "draws",
                 what: str = "draw") -> None:
    """SettingError when ``count`` items of ``per_item`` bytes each would need more than ``limit`` bytes.

    The message says how much they would need, names ``limit_name`` (the
    setting that holds ``limit``) and the most items that fit.

    >>> check_memory(10, 8, limit=1024, limit_name="LIMIT")
    >>> check_memory(1000, 8, limit=1024, limit_name="LIMIT")
    Traceback (most recent call last):
    kneebayes.errors.SettingError: draws=1,000 would need about 7.8 KiB of memory for this model (about 8 bytes a draw); the limit is 1.0 KiB (LIMIT), so use at most 128 draws
    """
    need = count * per_item
    if need > limit:
        most = max(limit // per_item, 0)
        raise SettingError(
            f"{name}={count:,} would need about {_size(need)} of memory for this model (about {per_item:,} bytes a "
            f"{what}); the limit is {_size(limit)} ({limit_name}), so use at most {most:,} {what}s"
        )
