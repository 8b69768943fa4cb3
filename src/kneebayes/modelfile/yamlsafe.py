"""A safe YAML reader that remembers line numbers and refuses duplicate keys.

Built on PyYAML's safe loading (no Python objects, no arbitrary tags), with
libyaml's C parser when PyYAML has it (:data:`HAS_LIBYAML`: about ten times
faster on a model file) and PyYAML's pure-Python one otherwise. Both give
the same values, the same refusals and the same lines: every check below
runs in Python on either path, and where libyaml finds the text itself
invalid, the pure-Python reader reads it again to say why in its words.

Two changes to what SafeLoader reads: booleans follow YAML 1.2 (only
true/false), so the states ``yes`` and ``no`` stay strings; and every mapping remembers the line of each key,
so validation errors can say where they are.

Two things stop the parse with an error that says where it happened (the
line, and the path of keys from the top of the file): a key written twice
in one mapping (:class:`DuplicateKeyError`), and any tag SafeLoader does not
know, such as ``!!python/object/apply:os.system`` (:class:`RefusedTagError`);
such a tag is refused before anything is constructed, never executed.

Hostile input is refused early and cheaply (:class:`LimitError`, or a
``yaml.constructor.ConstructorError`` with its line), before it can cost
time or memory: nesting deeper than :data:`MAX_DEPTH` (counted while
composing, or over libyaml's events before it composes, so ten thousand
brackets are never all scanned: libyaml's scanner slows with each open
bracket, and its composer recurses in C), aliases that would expand the
document by more than :data:`MAX_ALIAS_EXPANSION` nodes (a "billion laughs"
of a few hundred bytes) or an alias inside the value it names (a loop), a
list or mapping used as a key, and text that is not valid Unicode (a
lone surrogate such as ``"\\ud800"``, which no file can store).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
import yaml.composer
import yaml.constructor
import yaml.parser
import yaml.reader
import yaml.resolver
import yaml.scanner

#: True when PyYAML was built with libyaml: :func:`parse_yaml` then parses in C.
HAS_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))


class LineDict(dict[str, Any]):
    """A mapping read from YAML, with ``line`` (its first line) and ``key_lines``."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        """The line of ``key``; for a key not in the mapping, the mapping's own line.

        >>> data = parse_yaml("name: knee\\nnodes:\\n  - id: pain\\n")
        >>> data.line_of("nodes"), data.line_of("title"), data["nodes"][0].line_of("id")
        (2, 1, 3)
        """
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A list read from YAML, with ``line`` (its first line).

    >>> parse_yaml("name: knee\\nstates:\\n  - yes\\n  - no\\n")["states"].line
    3
    """

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


class _Constructor(yaml.constructor.SafeConstructor):
    """SafeConstructor with our scalars, line-keeping mappings and refusals; shared by both parsers."""

    def __init__(self) -> None:
        super().__init__()
        # The keys and indices leading to the value under construction. Left
        # as it is when construction fails, so the error can say where.
        self.trail: list[PathStep] = []
        self.building: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Remember the node being built: a value its tag cannot read (``!!int abc``, a 5,000-digit
        # number, ``!!timestamp x``) fails deep inside PyYAML with a bare ValueError or KeyError,
        # which parse_yaml turns into an error at this node's line.
        self.building = node
        return super().construct_object(node, deep)


class _Resolver(yaml.resolver.Resolver):
    """The YAML 1.1 resolver with YAML 1.2's booleans (only true/false)."""


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
              _Constructor, _Resolver):
    """The pure-Python path: PyYAML's SafeLoader, counting depth while it composes."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0
        self.aliases = 0   # with none, the expansion check has nothing to find

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        # The composer recurses once per level: stop at MAX_DEPTH, before the
        # scanner has read the rest of a hostile file (or Python's stack runs out).
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _too_deep(self.peek_event())
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def _too_deep(event: yaml.Event) -> LimitError:
    return LimitError(f"nested more than {MAX_DEPTH} levels deep (a model file needs far fewer)",
                      event.start_mark.line + 1)


if HAS_LIBYAML:
    from yaml.cyaml import CParser

    class _CLoader(CParser, _Constructor, _Resolver):  # type: ignore[misc]
        """The libyaml path: C scanner, parser and composer; construction in Python as on the other path."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


_BOOL = "tag:yaml.org,2002:bool"
_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _scalar_id(node: yaml.Node) -> str | None:
    """The ``id`` written in a YAML mapping node, if it has a plain one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return None


def _construct_mapping(loader: _Constructor, node: yaml.MappingNode) -> LineDict:
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


def _construct_sequence(loader: _Constructor, node: yaml.SequenceNode) -> LineList:
    if not isinstance(node, yaml.SequenceNode):   # a plain value tagged !!seq
        raise yaml.constructor.ConstructorError(None, None, "a value tagged as a list is not a list", node.start_mark)
    result = LineList()
    for i, child in enumerate(node.value):
        loader.trail.append((i, _scalar_id(child)))
        result.append(loader.construct_object(child, deep=True))
        loader.trail.pop()
    result.line = node.start_mark.line + 1
    return result


def _construct_str(loader: _Constructor, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    assert isinstance(value, str)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, written as an escape such as "\ud800"
        raise yaml.constructor.ConstructorError(
            None, None, f"the text contains {exc.object[exc.start]!r}, half of a surrogate pair, which is not "
                        "a character (write the character itself)", node.start_mark) from None
    return value


def _refuse_tag(loader: _Constructor, node: yaml.Node) -> None:
    raise RefusedTagError(str(node.tag), node.start_mark.line + 1, tuple(loader.trail))


def _construct_int(loader: _Constructor, node: yaml.ScalarNode) -> WrittenInt:
    value = WrittenInt(loader.construct_yaml_int(node))
    value.written = node.value
    return value


def _construct_float(loader: _Constructor, node: yaml.ScalarNode) -> WrittenFloat:
    value = WrittenFloat(loader.construct_yaml_float(node))
    value.written = node.value
    return value


_Constructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Constructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Constructor.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Constructor.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Constructor.add_constructor(None, _refuse_tag)  # every tag SafeLoader does not know, python/* included

# What libyaml raises when the text itself is not YAML it can read: the pure-Python reader then
# reads it again, so the message and line are the ones it has always given.
_NOT_READ_BY_LIBYAML = (yaml.reader.ReaderError, yaml.scanner.ScannerError, yaml.parser.ParserError,
                        yaml.composer.ComposerError, UnicodeError)


def parse_yaml(text: str, *, libyaml: bool | None = None) -> Any:
    """Parse YAML text safely into LineDict / LineList / scalars.

    ``libyaml`` chooses the parser: by default libyaml's when
    :data:`HAS_LIBYAML`; False forces the pure-Python one (both read the
    same). Raises :class:`DuplicateKeyError`, :class:`RefusedTagError`,
    :class:`LimitError` or another ``yaml.YAMLError`` (a syntax error, with
    its mark).

    >>> data = parse_yaml("states: [yes, no]\\nvalue: 0.30\\n")
    >>> data["states"], data["value"], written(data["value"]), data.line_of("value")
    (['yes', 'no'], 0.3, '0.30', 2)
    >>> parse_yaml("states: [yes, no]\\nvalue: 0.30\\n", libyaml=False) == data
    True
    """
    use_libyaml = HAS_LIBYAML if libyaml is None else libyaml and HAS_LIBYAML
    composed = _compose_libyaml(text) if use_libyaml else None
    loader, node, aliases = composed if composed is not None else _compose_pure(text)
    try:
        if node is None:
            return None
        if aliases:
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


def _compose_pure(text: str) -> tuple[Any, yaml.Node | None, int]:
    """The loader, the composed document and how many aliases it has, with the pure-Python reader."""
    loader = _Loader(text)
    try:
        return loader, loader.get_single_node(), loader.aliases
    except BaseException:
        loader.dispose()
        raise


def _compose_libyaml(text: str) -> tuple[Any, yaml.Node | None, int] | None:
    """The same with libyaml; None where the pure-Python reader must read the text (see _scan_libyaml)."""
    loader = None
    try:
        aliases = _scan_libyaml(text)
        if aliases is None:
            return None
        loader = _CLoader(text)
        return loader, loader.get_single_node(), aliases
    except _NOT_READ_BY_LIBYAML:
        if loader is not None:
            loader.dispose()
        return None


def _scan_libyaml(text: str) -> int | None:
    """Refuse nesting past MAX_DEPTH from libyaml's events, before its composer sees the text;
    return how many aliases the text has, or None where the pure-Python reader must read it.

    libyaml's composer recurses in C (100,000 brackets crash the process)
    and its scanner slows with every open bracket, so count from the first
    event and stop at the first node too deep, as the pure-Python composer
    does. About a microsecond an event.

    Two things libyaml reads that PyYAML's own scanner refuses: a tab
    outside a quoted value, and a ``?`` inside a plain value in brackets
    (``{a: why?}``). A file that has either goes to the pure-Python reader,
    so it is refused the same way on every machine.
    """
    if "\t" in text:
        return None
    parser = CParser(text)
    try:
        flow: list[bool] = []   # per open collection: written in brackets?
        in_brackets = aliases = 0
        get_event = parser.get_event
        while True:
            event = get_event()
            if event is None:
                return aliases
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if len(flow) >= MAX_DEPTH:
                    raise _too_deep(event)
                if in_brackets and not event.style and "?" in event.value:
                    return None
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                if len(flow) >= MAX_DEPTH:
                    raise _too_deep(event)
                flow.append(bool(event.flow_style))
                in_brackets += flow[-1]
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                in_brackets -= flow.pop()
            elif kind is yaml.AliasEvent:
                if len(flow) >= MAX_DEPTH:
                    raise _too_deep(event)
                aliases += 1
    finally:
        parser.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases, expanded, would add more than MAX_ALIAS_EXPANSION nodes,
    or that holds an alias inside the value it names (a loop: expanded, it never ends).

    Counts each node's expanded size once (aliases share node objects), so
    the check costs time in proportion to the file, not to the expansion.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()   # nodes whose children are still being counted: reached again, a loop
    composed = 0
    # Post-order without recursion: (node, children done?)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_:
            raise LimitError("an alias (*name) sits inside the value it names, so it would repeat without end; "
                             "write the values out instead", node.start_mark.line + 1)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        open_.discard(id(node))
        composed += 1
        size = 1 + sum(sizes[id(c)] for c in children)
        sizes[id(node)] = size
        if size - composed > MAX_ALIAS_EXPANSION:
            raise LimitError(f"aliases (*name) expand the document past {MAX_ALIAS_EXPANSION:,} extra values; "
                             "write the values out instead", node.start_mark.line + 1)
