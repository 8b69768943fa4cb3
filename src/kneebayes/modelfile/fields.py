"""Collecting a model file's problems, each located, while its sections are read.

One :class:`FieldReader` goes through every section of a file (nodes,
claims, rules) and keeps every problem rather than stopping at the first,
so ``check_model_file`` can list them all. It also reads the plainest
fields (text, unknown keys) the same way for every section.
"""

from __future__ import annotations

import re

from collections.abc import Iterable, Mapping, Set as AbstractSet
from typing import Any

from ..errors import Problem, control_character, did_you_mean, quote

__all__ = ["SUGGESTION_BUDGET", "FieldReader", "line_of"]

#: How many "did you mean" searches one file gets (each compares a word with every name).
SUGGESTION_BUDGET = 50


def line_of(container: Any, key: str | None = None) -> int | None:
    """The line of ``key`` in a mapping read from YAML, else the container's own line, else None."""
    if key is not None and hasattr(container, "line_of"):
        return container.line_of(key)
    return getattr(container, "line", None)


#: Quoted text that YAML 1.1 reads as text but is a number with an exponent: '5e-1', '1e3', '1.0e308'.
_TEXT_NUMBER = re.compile(r"'([-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+)'")


class FieldReader:
    """The problems found in one file so far, and its verbal scale (term -> number) once read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.scale: dict[str, float] = {}
        self.suggestions_left = SUGGESTION_BUDGET

    def hint(self, word: object, pool: Iterable[str]) -> str:
        """"; did you mean 'x'?" for the nearest names in ``pool``, or "".

        Budgeted: a file with thousands of unknown names gets suggestions for
        the first SUGGESTION_BUDGET only (each search compares with every name).
        """
        if self.suggestions_left <= 0:
            return ""
        self.suggestions_left -= 1
        return did_you_mean(word, pool)

    def problem(self, message: str, *, node: str | None = None, field: str | None = None, line: int | None = None) -> None:
        """Note one problem; where it quotes text such as '5e-1', which YAML 1.1 reads as text though a number was
        surely meant (an exponent with no dot, or no sign after the e), it says how to write the number."""
        meant = _TEXT_NUMBER.search(message) if "YAML reads" not in message else None
        if meant is not None:
            message += f" (YAML reads {meant.group(1)} as text: write {float(meant.group(1))!r} for the number)"
        self.problems.append(Problem(self.file, message, node=node, field=field, line=line))

    def unknown_keys(self, raw: Mapping[str, Any], allowed: AbstractSet[str], *, node: str | None, field: str | None) -> None:
        """Note each key of ``raw`` that is not ``allowed``, with the nearest allowed one."""
        valid_keys = sorted(allowed)
        for key in raw:
            if key not in allowed:
                hint = self.hint(key, valid_keys)
                valid = ", ".join(valid_keys)
                fname = f"{field}.{key}" if field else str(key)
                self.problem(f"unknown key {quote(key)}{hint} (valid keys: {valid})", node=node, field=fname,
                             line=line_of(raw, key))

    def text(self, raw: Mapping[str, Any], key: str, *, node: str | None, field_prefix: str = "",
             required: bool = True) -> str | None:
        """The non-empty text at ``key``; None (and a problem, unless absent and not ``required``) otherwise."""
        fname = field_prefix + key
        if key not in raw or raw[key] is None:
            if required:
                self.problem(f"missing {key}", node=node, field=fname, line=line_of(raw))
            return None
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{key} must be non-empty text, got {quote(value)}", node=node, field=fname,
                         line=line_of(raw, key))
            return None
        control = control_character(value)
        if control is not None:   # it reaches a terminal: kneebayes nodes, diagnose, interview print it
            self.problem(f"{key} holds the control character {control}, which a terminal would act on; remove it",
                         node=node, field=fname, line=line_of(raw, key))
            return None
        return value
