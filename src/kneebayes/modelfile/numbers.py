"""What counts as a number wherever one is read: a model file, ``with_parameters``, a setting."""

from __future__ import annotations

import math
import numbers

#: Ints beyond this cannot become a float (``float(10**400)`` overflows).
_FLOAT_MAX_INT = 10**308


def is_number(x: object) -> bool:
    """A finite real number that converts to float: not a bool, not NaN or infinite, not a 400-digit int.

    >>> is_number(0.3), is_number(2), is_number(True), is_number(float("nan")), is_number(10**400), is_number("1")
    (True, True, False, False, False, False)
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return False
    if isinstance(x, numbers.Integral):
        return abs(int(x)) <= _FLOAT_MAX_INT
    try:
        return math.isfinite(float(x))
    except (OverflowError, ValueError):
        return False
