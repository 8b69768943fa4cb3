"""The one check of the interview settings, wherever they come from.

A model file's ``interview`` section, ``Model.diagnose(...)``,
``Interview(...)``, a saved interview being resumed and the command line
all pass their settings through :func:`setting_problem`, so a confidence of
5 or a negative cost weight is refused the same way everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import SettingError, quote
from .modelfile.numbers import is_number
from .questions import Settings

#: What each setting must be, in words (the rule :func:`setting_problem` applies).
SETTING_RULES: dict[str, str] = {
    "confidence": "a probability in (0, 1]",
    "cost_weight": "a finite number >= 0",
    "min_gain": "a finite number >= 0 (bits)",
    "screen_red_flags": "true or false",
}


def setting_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not a valid ``name`` setting, or None when it is.

    >>> print(setting_problem("confidence", 0.9))
    None
    >>> setting_problem("confidence", 5)
    'confidence must be a probability in (0, 1], got 5'
    >>> setting_problem("cost_weight", float("nan"))
    'cost_weight must be a finite number >= 0, got nan'
    """
    if name not in SETTING_RULES:
        valid = ", ".join(SETTING_RULES)
        return f"unknown setting {quote(name)} (valid settings: {valid})"
    if name == "screen_red_flags":
        ok = isinstance(value, (bool, np.bool_))
    elif not is_number(value):
        ok = False
    else:
        v = float(value)  # type: ignore[arg-type]
        ok = 0.0 < v <= 1.0 if name == "confidence" else v >= 0.0
    return None if ok else f"{name} must be {SETTING_RULES[name]}, got {quote(value)}"


#: The default memory budget of a model (bytes): no table the engine plans may be larger.
MEMORY_BUDGET = 1 << 30


def check_memory_budget(value: object) -> int:
    """``value`` as a memory budget in bytes, or a SettingError saying what is valid.

    >>> check_memory_budget(2**20)
    1048576
    >>> check_memory_budget(0)
    Traceback (most recent call last):
    ...
    kneebayes.errors.SettingError: memory_budget must be a whole number of bytes >= 1024, got 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1024:
        raise SettingError(f"memory_budget must be a whole number of bytes >= 1024, got {quote(value)}")
    return int(value)


#: The default work limit of a model (steps of about a nanosecond each here): no query the bipartite noisy-OR engine
#: plans may take more. Refused at once with an IntractableError naming the positive findings past it.
WORK_LIMIT = 1e9


def check_work_limit(value: object) -> float:
    """``value`` as a work limit in steps (a positive number; ``math.inf`` lifts the limit), or a SettingError.

    >>> check_work_limit(10**10)
    10000000000.0
    >>> check_work_limit(0)
    Traceback (most recent call last):
    ...
    kneebayes.errors.SettingError: work_limit must be a positive number of steps (math.inf for none), got 0
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value > 0:
        return float(value) if value < 2**1023 else math.inf   # an int past any float is no limit either
    if not isinstance(value, (float, np.floating)) or not value > 0.0:   # NaN fails too
        raise SettingError(f"work_limit must be a positive number of steps (math.inf for none), got {quote(value)}")
    return float(value)


def check_setting(name: str, value: object) -> None:
    """Raise :class:`~kneebayes.errors.SettingError` when ``value`` is not a valid ``name`` setting.

    The message is :func:`setting_problem`'s; a valid value returns None.

    >>> check_setting("confidence", 0.8)
    >>> check_setting("confidence", 5)
    Traceback (most recent call last):
    ...
    kneebayes.errors.SettingError: confidence must be a probability in (0, 1], got 5
    """
    problem = setting_problem(name, value)
    if problem is not None:
        raise SettingError(problem)


def with_overrides(base: Settings, *, confidence: object = None, cost_weight: object = None,
                   min_gain: object = None, screen_red_flags: object = True) -> Settings:
    """``base`` with each setting that is not None replaced, after checking it (None keeps ``base``'s,
    so ``screen_red_flags=None`` never switches the safety screen off).

    Raises :class:`~kneebayes.errors.SettingError` naming the first bad setting.

    >>> import kneebayes
    >>> base = kneebayes.load_model().settings
    >>> with_overrides(base, confidence=0.8)
    Settings(confidence=0.8, cost_weight=0.01, min_gain=0.01, screen_red_flags=True)
    >>> with_overrides(base, screen_red_flags=None) is base
    True
    """
    given = {"confidence": confidence, "cost_weight": cost_weight, "min_gain": min_gain,
             "screen_red_flags": screen_red_flags}
    for name, value in given.items():
        if value is not None:
            check_setting(name, value)
    screen = base.screen_red_flags if screen_red_flags is None else bool(screen_red_flags)  # None: as before
    if confidence is None and cost_weight is None and min_gain is None and screen == base.screen_red_flags:
        return base
    return Settings(
        base.confidence if confidence is None else float(confidence),  # type: ignore[arg-type]
        base.cost_weight if cost_weight is None else float(cost_weight),  # type: ignore[arg-type]
        base.min_gain if min_gain is None else float(min_gain),  # type: ignore[arg-type]
        screen,
    )
