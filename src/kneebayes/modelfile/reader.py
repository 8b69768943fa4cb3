"""From a model file on disk to its parsed YAML, or the one located problem that stops it.

The file is read within a size limit and parsed safely (:mod:`.yamlsafe`:
no tags, no duplicate keys, bounded aliases and depth). Whatever stops the
parse becomes a :class:`~kneebayes.errors.Problem` naming the line and,
where the place is known, the node and field, as validation problems do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputFileError, Problem, quote
from ..files import read_text
from .format import ID_LISTS
from .yamlsafe import DuplicateKeyError, LimitError, RefusedTagError, parse_yaml

__all__ = ["read_data", "locate"]


def read_data(path: str | Path, limit: int) -> tuple[Any, list[Problem]]:
    """``(parsed YAML, [])``, or ``(None, [the problem])`` when the file cannot be read or parsed.

    ``limit`` is the largest file read, in bytes.
    """
    import yaml

    file = str(path)
    try:
        text = read_text(path, what="model file", limit=limit)
    except InputFileError as exc:
        return None, [Problem(file, f"the model file {exc.reason}")]
    try:
        return parse_yaml(text), []
    except LimitError as exc:
        return None, [Problem(file, exc.message, line=exc.line)]
    except DuplicateKeyError as exc:
        node, where = locate(exc.path)
        field = f"{where}.{exc.key}" if where else str(exc.key)
        return None, [Problem(file, f"duplicate key {quote(exc.key)} (a later one would silently replace the first)",
                              node=node, field=field, line=exc.line)]
    except RefusedTagError as exc:
        node, field = locate(exc.path)
        tag = exc.tag.replace("tag:yaml.org,2002:", "!!")
        return None, [Problem(file, f"tag {quote(tag)} refused: a model file is plain data, and tags "
                                    "(which could build Python objects or run code) are never honoured",
                              node=node, field=field, line=exc.line)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            # The parser notices late (an unclosed bracket shows up lines later): say where it began.
            message += f" ({context} started at line {context_mark.line + 1})"
        return None, [Problem(file, message, line=line)]


def locate(path: tuple[tuple[str | int, str | None], ...]) -> tuple[str | None, str | None]:
    """(node, field) for a place in the YAML tree, as validation problems name them.

    A place outside the nodes keeps its whole path as the field; an item of
    a list named by id (a claim, a red flag) is named by its id.

    >>> locate((("nodes", None), (2, "pain"), ("prior", None), ("value", None)))
    ('pain', 'prior.value')
    >>> locate((("claims", None), (0, "c1"), ("given", None)))
    (None, 'claims.c1.given')
    """
    steps = list(path)
    node = None
    if len(steps) >= 2 and steps[0][0] == "nodes" and isinstance(steps[1][0], int) and steps[1][1] is not None:
        node = steps[1][1]
        steps = steps[2:]
    elif (len(steps) >= 2 and steps[0][0] in ID_LISTS and isinstance(steps[1][0], int)
          and steps[1][1] is not None):
        steps = [(steps[0][0], None), (steps[1][1], None)] + steps[2:]
    text = ""
    for key, _ in steps:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return node, text or None
