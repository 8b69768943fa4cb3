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

Hostile input is refused early and cheaply (:class:`LimitError`, or a
``yaml.constructor.ConstructorError`` with its line), before it can cost
time or memory: nesting deeper than :data:`MAX_DEPTH` (counted while
composing, so ten thousand brackets are never all scanned), aliases that
would expand the document by more than :data:`MAX_ALIAS_EXPANSION` nodes
(a "billion laughs" of a few hundred bytes), a list or mapping used as a
key, and text that is not valid Unicode (a lone surrogate such as
``"\\ud800"``, which no file can store).
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


#: The deepest nesting of lists and mappings a file may have (a model file needs about 8).
MAX_DEPTH = 64

#: How many nodes aliases may add to the document when expanded (a model file needs none).
MAX_ALIAS_EXPANSION = 100_000


class LimitError(yaml.YAMLError):
    """The document is nested too deeply or its aliases expand too far; ``line`` says where."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"{message} at line {line}")
        self.message = message
        self.line = line


class WrittenInt(int):
    """An int read from YAML that remembers how it was written (``010`` is 8 by YAML 1.1's rules)."""

    written: str


class WrittenFloat(float):
    """A float read from YAML that remembers how it was written (``1.50``, ``1:30.0``)."""

    written: str


def written(value: object) -> str:
    """The text a scalar was written as: for a name (a state ``010`` stays ``"010"``, not ``"8"``)."""
    text = getattr(value, "written", None)
    return text if isinstance(text, str) else str(value)


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # The keys and indices leading to the value under construction. Left
        # as it is when construction fails, so the error can say where.
        self.trail: list[PathStep] = []
        self.depth = 0
        self.building: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Remember the node being built: a value its tag cannot read (``!!int abc``, a 5,000-digit
        # number, ``!!timestamp x``) fails deep inside PyYAML with a bare ValueError or KeyError,
        # which parse_yaml turns into an error at this node's line.
        self.building = node
        return super().construct_object(node, deep)

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        # The composer recurses once per level: stop at MAX_DEPTH, before the
        # scanner has read the rest of a hostile file (or Python's stack runs out).
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep (a model file needs far fewer)",
                                 mark.line + 1)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


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
    if not isinstance(node, yaml.MappingNode):   # a plain value tagged !!map
        raise yaml.constructor.ConstructorError(None, None, "a value tagged as a mapping is not a mapping",
                                                node.start_mark)
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # a list or mapping cannot be a key (it is unhashable)
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name or number, not a list or mapping", key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result or written(key) in seen:   # 1 and "1" name the same node once read as text
            raise DuplicateKeyError(key, line, tuple(loader.trail))
        seen.add(written(key))
        loader.trail.append((key, None))
        result[key] = loader.construct_object(value_node, deep=True)
        loader.trail.pop()
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    if not isinstance(node, yaml.SequenceNode):   # a plain value tagged !!seq
        raise yaml.constructor.ConstructorError(None, None, "a value tagged as a list is not a list", node.start_mark)
    result = LineList()
    for i, child in enumerate(node.value):
        loader.trail.append((i, _scalar_id(child)))
        result.append(loader.construct_object(child, deep=True))
        loader.trail.pop()
    result.line = node.start_mark.line + 1
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    assert isinstance(value, str)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, written as an escape such as "\ud800"
        raise yaml.constructor.ConstructorError(
            None, None, f"the text contains {exc.object[exc.start]!r}, half of a surrogate pair, which is not "
                        "a character (write the character itself)", node.start_mark) from None
    return value


def _refuse_tag(loader: _Loader, node: yaml.Node) -> None:
    raise RefusedTagError(str(node.tag), node.start_mark.line + 1, tuple(loader.trail))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> WrittenInt:
    value = WrittenInt(loader.construct_yaml_int(node))
    value.written = node.value
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> WrittenFloat:
    value = WrittenFloat(loader.construct_yaml_float(node))
    value.written = node.value
    return value


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor(None, _refuse_tag)  # every tag SafeLoader does not know, python/* included


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely into LineDict / LineList / scalars.

    Raises :class:`DuplicateKeyError`, :class:`RefusedTagError` or another
    ``yaml.YAMLError`` (a syntax error, with its mark).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        try:
            return loader.construct_document(node)
        except (ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
            where = getattr(loader.building, "start_mark", node.start_mark)
            reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            raise yaml.constructor.ConstructorError(
                None, None, f"this value cannot be read as written ({reason}); write it as plain text or a "
                            "number", where) from None
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases, expanded, would add more than MAX_ALIAS_EXPANSION nodes.

    Counts each node's expanded size once (aliases share node objects), so
    the check costs time in proportion to the file, not to the expansion.
    """
    sizes: dict[int, int] = {}
    composed = 0
    # Post-order without recursion: (node, children done?)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        composed += 1
        size = 1 + sum(sizes[id(c)] for c in children)
        sizes[id(node)] = size
        if size - composed > MAX_ALIAS_EXPANSION:
            raise LimitError(f"aliases (*name) expand the document past {MAX_ALIAS_EXPANSION:,} extra values; "
                             "write the values out instead", node.start_mark.line + 1)
