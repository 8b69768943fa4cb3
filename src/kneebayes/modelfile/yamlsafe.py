"""A safe YAML reader that remembers line numbers and refuses duplicate keys.

Built on PyYAML's SafeLoader (no Python objects, no arbitrary tags). Two
changes: booleans follow YAML 1.2 (only true/false), so the states ``yes``
and ``no`` stay strings; and every mapping remembers the line of each key,
so validation errors can say where they are.

Two things stop the parse with an error that says where it happened (the
line, and the path of keys from the top of the file): a key written twice
in one mapping (:class:`DuplicateKeyError`), and any tag SafeLoader does not
know, such as ``!!python/object/apply:os.system`` (:class:`RefusedTagError`);
such a tag is refused before anything is constructed, never executed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping read from YAML, with ``line`` (its first line) and ``key_lines``."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int | None = None


#: Where a value sits: one step per mapping key or list index from the top of
#: the file. A list item that is a mapping with a scalar ``id`` carries it, so
#: a caller can name the node (``("nodes", 2, "pain")``).
PathStep = tuple[str | int, str | None]


class DuplicateKeyError(yaml.YAMLError):
    """A key written twice in one mapping; ``path`` leads to that mapping."""

    def __init__(self, key: object, line: int, path: tuple[PathStep, ...] = ()) -> None:
        super().__init__(f"duplicate key {key!r} at line {line}")
        self.key = key
        self.line = line
        self.path = path


class RefusedTagError(yaml.YAMLError):
    """A tag the safe loader does not construct (``!!python/...`` or a custom ``!tag``)."""

    def __init__(self, tag: str, line: int, path: tuple[PathStep, ...] = ()) -> None:
        super().__init__(f"tag {tag!r} refused at line {line}")
        self.tag = tag
        self.line = line
        self.path = path


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # The keys and indices leading to the value under construction. Left
        # as it is when construction fails, so the error can say where.
        self.trail: list[PathStep] = []


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _scalar_id(node: yaml.Node) -> str | None:
    """The ``id`` written in a YAML mapping node, if it has a plain one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return None


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            raise DuplicateKeyError(key, line, tuple(loader.trail))
        loader.trail.append((key, None))
        result[key] = loader.construct_object(value_node, deep=True)
        loader.trail.pop()
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList()
    for i, child in enumerate(node.value):
        loader.trail.append((i, _scalar_id(child)))
        result.append(loader.construct_object(child, deep=True))
        loader.trail.pop()
    result.line = node.start_mark.line + 1
    return result


def _refuse_tag(loader: _Loader, node: yaml.Node) -> None:
    raise RefusedTagError(str(node.tag), node.start_mark.line + 1, tuple(loader.trail))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor(None, _refuse_tag)  # every tag SafeLoader does not know, python/* included


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely into LineDict / LineList / scalars.

    Raises :class:`DuplicateKeyError`, :class:`RefusedTagError` or another
    ``yaml.YAMLError`` (a syntax error, with its mark).
    """
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
