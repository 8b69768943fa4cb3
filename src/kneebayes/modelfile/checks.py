"""The rules a model's numbers obey, checked the same way wherever a number enters.

The loader (reading a file) and ``with_parameters`` (changing a loaded
model) both ask these: is it a probability, is a range well formed and does
it hold its value, does a column sum to 1. Each caller words the problem for
its own context (a file location, a parameter address); the range problems
read the same in both.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping

from .format import SUM_TOLERANCE
from .numbers import is_number

__all__ = ["RANGE_TOLERANCE", "NotAProbability", "probability", "is_probability", "is_positive", "two_numbers",
           "range_problem", "contains", "sums_to_one"]

#: A range contains a value up to this much rounding.
RANGE_TOLERANCE = 1e-12


class NotAProbability(enum.Enum):
    """Why a value given as a probability is not one."""

    UNKNOWN_TERM = "a word that is not on the verbal scale"
    NOT_A_NUMBER = "neither a number nor a word"
    OUTSIDE = "a number outside [0, 1]"


def probability(raw: object, scale: Mapping[str, float]) -> tuple[float, str | None] | NotAProbability:
    """``(value, word or None)`` for a number in [0, 1] or a word of ``scale``; else why not.

    >>> probability("likely", {"likely": 0.7}), probability(0.2, {})
    ((0.7, 'likely'), (0.2, None))
    >>> probability(1.5, {}), probability("often", {})
    (<NotAProbability.OUTSIDE: 'a number outside [0, 1]'>, <NotAProbability.UNKNOWN_TERM: 'a word that is not on the verbal scale'>)
    """
    if isinstance(raw, str):
        return (scale[raw], raw) if raw in scale else NotAProbability.UNKNOWN_TERM
    if not is_number(raw):
        return NotAProbability.NOT_A_NUMBER
    v = float(raw)  # type: ignore[arg-type]
    return (v, None) if 0.0 <= v <= 1.0 else NotAProbability.OUTSIDE


def is_probability(x: object) -> bool:
    """A number (see :func:`~kneebayes.modelfile.numbers.is_number`) in [0, 1].

    >>> is_probability(0.0), is_probability(1), is_probability(1.01), is_probability(True)
    (True, True, False, False)
    """
    return is_number(x) and 0.0 <= float(x) <= 1.0  # type: ignore[arg-type]


def is_positive(x: object) -> bool:
    """A finite number above 0 (a cost).

    >>> is_positive(0.5), is_positive(0), is_positive(float("inf"))
    (True, False, False)
    """
    return is_number(x) and math.isfinite(float(x)) and float(x) > 0.0  # type: ignore[arg-type]


def two_numbers(raw: object) -> tuple[float, float] | None:
    """``(low, high)`` when ``raw`` is a list or tuple of two numbers, else None (their order is not checked).

    >>> two_numbers([0.1, 0.3]), two_numbers((0.3, 0.1)), two_numbers([0.1]), two_numbers("0.1, 0.3")
    ((0.1, 0.3), (0.3, 0.1), None, None)
    """
    if isinstance(raw, (tuple, list)) and len(raw) == 2 and all(is_number(x) for x in raw):
        return float(raw[0]), float(raw[1])
    return None


def range_problem(value: float | None, low: float, high: float) -> str | None:
    """What is wrong with ``[low, high]`` as the range of ``value`` (a probability), or None.

    A range lies inside (0, 1) and contains its value (up to RANGE_TOLERANCE),
    except for a value of 0 or 1 ("impossible", "certain"), whose range is
    that single value. With ``value`` None only the order is checked.

    >>> range_problem(0.2, 0.1, 0.3) is None
    True
    >>> range_problem(0.2, 0.3, 0.5)
    'range [0.3, 0.5] does not contain the value 0.2'
    >>> range_problem(1.0, 0.9, 1.0)
    'a value of 1 is certain, so its range must be [1, 1], got [0.9, 1]'
    """
    if low > high:
        return f"range [{low:g}, {high:g}] has low above high"
    if value is None:
        return None
    if value in (0.0, 1.0):
        if (low, high) != (value, value):
            what = "certain" if value == 1.0 else "impossible"
            return f"a value of {value:g} is {what}, so its range must be [{value:g}, {value:g}], got [{low:g}, {high:g}]"
        return None
    if not (0.0 < low and high < 1.0):
        return f"range [{low:g}, {high:g}] must lie inside (0, 1)"
    if not contains((low, high), value):
        return f"range [{low:g}, {high:g}] does not contain the value {value:g}"
    return None


def contains(rng: tuple[float, float] | None, value: float) -> bool:
    """Is ``value`` inside ``rng`` up to RANGE_TOLERANCE? Always, when there is no range.

    >>> contains((0.1, 0.3), 0.3 + 1e-13), contains((0.1, 0.3), 0.31), contains(None, 0.9)
    (True, False, True)
    """
    return rng is None or rng[0] - RANGE_TOLERANCE <= value <= rng[1] + RANGE_TOLERANCE


def sums_to_one(total: float) -> bool:
    """Does a column (or a prior's states) sum to 1, up to SUM_TOLERANCE?

    >>> sums_to_one(0.1 + 0.2 + 0.7), sums_to_one(0.99)
    (True, False)
    """
    return abs(total - 1.0) <= SUM_TOLERANCE
