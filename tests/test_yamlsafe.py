"""The safe YAML reader (kneebayes.modelfile.yamlsafe) on both of its paths: libyaml and pure Python.

Every test that parses runs once with each reader (the ``reader`` fixture);
the libyaml runs are skipped where PyYAML was built without it. The two must
read the same values with the same lines and refuse the same input with the
same message at the same line. tests/test_modelfile_load.py runs its
broken-file table through both as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from bounds import bounded
from kneebayes.modelfile import yamlsafe
from kneebayes.modelfile.load import default_model_path
from kneebayes.modelfile.yamlsafe import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    DuplicateKeyError,
    LimitError,
    RefusedTagError,
    parse_yaml,
    written,
)
from strategies import mutated_lines, scaled

Parse = Callable[[str], Any]
READERS = ["libyaml", "pure"]


@pytest.fixture(params=READERS)
def reader(request: pytest.FixtureRequest) -> Parse:
    """parse_yaml with one reader chosen."""
    if request.param == "libyaml" and not yamlsafe.HAS_LIBYAML:
        pytest.skip("PyYAML was built without libyaml")
    libyaml = request.param == "libyaml"
    return lambda text: parse_yaml(text, libyaml=libyaml)




def shape(value: Any) -> Any:
    """Everything a reader gives that the loader uses: values, types, lines, key lines, written text."""
    if isinstance(value, yamlsafe.LineDict):
        return ("map", value.line, value.key_lines, [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, yamlsafe.LineList):
        return ("list", value.line, [shape(v) for v in value])
    return (type(value).__name__, value, written(value))


def outcome(text: str, libyaml: bool) -> Any:
    """What parse_yaml gives for ``text``: the shape of the value, or the error's type and text."""
    try:
        return shape(parse_yaml(text, libyaml=libyaml))
    except yaml.MarkedYAMLError as exc:
        # what the loader reports: the words and the lines (libyaml's marks carry no text excerpt)
        return (type(exc).__name__, exc.problem, exc.context,
                *(None if m is None else m.line for m in (exc.problem_mark, exc.context_mark)))
    except yaml.YAMLError as exc:
        return type(exc).__name__, str(exc)


def refusal(parse: Parse, text: str) -> yaml.YAMLError:
    with pytest.raises(yaml.YAMLError) as info:
        parse(text)
    return info.value


def line_of(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else exc.line  # type: ignore[attr-defined, no-any-return]


# -- the two readers agree -------------------------------------------------------------------


@pytest.mark.skipif(not yamlsafe.HAS_LIBYAML, reason="PyYAML was built without libyaml")
def test_the_knee_model_reads_the_same_with_both_readers_lines_and_written_text_included() -> None:
    text = default_model_path().read_text(encoding="utf-8")
    assert shape(parse_yaml(text, libyaml=True)) == shape(parse_yaml(text, libyaml=False))


# A few kinds of YAML a mutation can produce; each line a fragment the readers treat specially.
_TOKENS = ["&a ", "*a", "!!python/object/apply:os.system ['true']", "!!int ", "!!str ", "!!map ", "!!binary ",
           "[", "]", "{", "}", "? ", ": ", "- ", "<<: *a", "%YAML 1.1\n", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n",
           "---\n", "...\n", '"\\ud800"', '"\\x41"', "'", '"', "#", "\t", "\n", "  ", "|\n", ">-\n", "yes", "no",
           "~", "1:30.0", "010", "0x1F", "1_000", ".nan", "9" * 30, "\x85", "\u2028", "\ufeff", "é", "?", "a?b",
           ":x", "@", "`", "\r\n", "\r", "\xa0", "-", "!!set ", "!!omap ", "=", "0o17", "+1", "1e3", "2001-12-14", "&", "%"]

DOCUMENT = """\
format: kneebayes-model/1
name: &n small
scale: {probable: 0.85, uncertain: 0.25, 1: 0.5}
nodes:
  - id: warmup
    label: *n
    states: [yes, no]
    prior: {value: 0.30, range: [0.1, 0.5], source: s, rationale: "r\\u00e9"}
  - id: pain
    text: |
      two
      lines
    table:
      - given: {warmup: yes}
        probabilities: {"yes": 0.8, "no": 2e-1}
"""


@pytest.mark.skipif(not yamlsafe.HAS_LIBYAML, reason="PyYAML was built without libyaml")
@settings(max_examples=scaled(400), suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_lines(DOCUMENT, _TOKENS))
def test_both_readers_read_a_mutated_document_alike_or_refuse_it_alike(text: str) -> None:
    fast, pure = outcome(text, libyaml=True), outcome(text, libyaml=False)
    # libyaml reads a few oddities PyYAML's scanner refuses (``|#`` with no space, ``!&x``); the
    # common ones, a tab or a ``?`` in a bracketed plain value, go to the pure reader and agree.
    assert fast == pure or pure[0] in ("ScannerError", "ParserError") and "\t" not in text


@pytest.mark.parametrize("text", ["a: {q: why?}\n", "a: [is it?, b]\n", "a\t: 1\n", "a: b\tc\n"])
def test_what_pyyaml_refuses_but_libyaml_would_read_is_refused_on_both(text: str) -> None:
    assert outcome(text, libyaml=True) == outcome(text, libyaml=False)
    assert outcome(text, libyaml=True)[0] in ("ScannerError", "ParserError")


# -- what is read ---------------------------------------------------------------------------


def test_yes_and_no_stay_strings_and_only_true_false_are_booleans(reader: Parse) -> None:
    data = reader("states: [yes, no, on, off, Yes]\nflag: true\nother: FALSE\n")
    assert data == {"states": ["yes", "no", "on", "off", "Yes"], "flag": True, "other": False}


def test_numbers_keep_the_text_they_were_written_as(reader: Parse) -> None:
    data = reader("a: 010\nb: 1.50\nc: 1:30.0\nd: 0x1F\ne: 7\n")
    assert [(data[k], written(data[k])) for k in "abcde"] == [
        (8, "010"), (1.5, "1.50"), (90.0, "1:30.0"), (31, "0x1F"), (7, "7")]
    assert isinstance(data["a"], yamlsafe.WrittenInt) and isinstance(data["b"], yamlsafe.WrittenFloat)


def test_every_mapping_and_list_knows_its_lines(reader: Parse) -> None:
    data = reader("top: 1\nnodes:\n  - id: a\n    label: A\n  - [x, y]\n")
    assert (data.line, data.line_of("nodes"), data["nodes"].line) == (1, 2, 3)
    assert (data["nodes"][0].line_of("label"), data["nodes"][1].line) == (4, 5)


def test_an_empty_document_is_none(reader: Parse) -> None:
    assert reader("# nothing but a comment\n") is None


def test_a_few_aliases_expand(reader: Parse) -> None:
    assert reader("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


def test_a_merge_key_merges(reader: Parse) -> None:
    assert reader("base: &b {x: 1}\nthis:\n  <<: *b\n  y: 2\n")["this"] == {"x": 1, "y": 2}


def test_nesting_exactly_max_depth_deep_is_read(reader: Parse) -> None:
    # the top mapping is the first level; its value opens MAX_DEPTH - 2 lists around a scalar
    text = "a: " + "[" * (MAX_DEPTH - 2) + "x" + "]" * (MAX_DEPTH - 2)
    value = reader(text)["a"]
    for _ in range(MAX_DEPTH - 2):
        (value,) = value
    assert value == "x"


# -- what is refused, the same way on both paths --------------------------------------------


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_one_level_past_max_depth_is_refused_at_its_line(reader: Parse, opener: str, closer: str) -> None:
    text = "top: 1\na: " + opener * (MAX_DEPTH - 1) + "x" + closer * (MAX_DEPTH - 1)
    exc = refusal(reader, text)
    assert isinstance(exc, LimitError)
    assert (exc.message, exc.line) == (f"nested more than {MAX_DEPTH} levels deep (a model file needs far fewer)", 2)


def test_block_nesting_past_max_depth_is_refused_at_its_line(reader: Parse) -> None:
    text = "".join(" " * (2 * i) + f"k{i}:\n" for i in range(MAX_DEPTH + 5))
    exc = refusal(reader, text)
    assert isinstance(exc, LimitError) and exc.line == MAX_DEPTH


@pytest.mark.parametrize("text,line", [
    ("title: " + "[" * 100_000 + "]" * 100_000, 1),
    ("title: " + "{a: " * 100_000 + "}" * 100_000, 1),
    ("title:\n" + "- " * 100_000 + "x\n", 2),        # a block list of lists of lists...
])
def test_a_hundred_thousand_levels_are_refused_quickly_without_crashing(reader: Parse, text: str, line: int) -> None:
    # libyaml's C composer would overflow the C stack here, and its scanner slows with each open
    # bracket (10,000 brackets: about a second; 100,000: minutes): both are stopped at level 65.
    with bounded(megabytes=60):
        exc = refusal(reader, text)
    assert isinstance(exc, LimitError) and exc.line == line


def test_an_alias_bomb_is_refused_before_it_is_expanded(reader: Parse) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with bounded(megabytes=20):
        exc = refusal(reader, "\n".join(lines) + "\n")
    assert isinstance(exc, LimitError)
    assert exc.message == (f"aliases (*name) expand the document past {MAX_ALIAS_EXPANSION:,} extra values; "
                           "write the values out instead")
    assert exc.line == 6   # a5 is the first to pass the limit (9^6 values)


@pytest.mark.parametrize("text", ["top: 1\nloop: &x [a, *x]\n", "top: 1\nloop: &x {a: *x}\n",
                                  "top: 1\nloop: &x [[b, [*x]]]\n"])
def test_an_alias_inside_the_value_it_names_is_refused(reader: Parse, text: str) -> None:
    with bounded(megabytes=20):
        exc = refusal(reader, text)
    assert isinstance(exc, LimitError) and exc.line == 2
    assert exc.message.startswith("an alias (*name) sits inside the value it names")


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}"])
def test_a_list_or_mapping_as_a_key_is_refused_at_its_line(reader: Parse, key: str) -> None:
    exc = refusal(reader, f"top: 1\n? {key}\n: value\n")
    assert isinstance(exc, yaml.constructor.ConstructorError) and line_of(exc) == 2
    assert exc.problem == "a key must be a plain name or number, not a list or mapping"


def test_a_lone_surrogate_is_refused_at_its_line(reader: Parse) -> None:
    exc = refusal(reader, 'top: 1\ntitle: "half \\ud800 of a pair"\n')
    assert isinstance(exc, yaml.constructor.ConstructorError) and line_of(exc) == 2
    assert exc.problem is not None and exc.problem.startswith("the text contains '\\ud800', half of a surrogate pair")


@pytest.mark.parametrize("value", ["!!int abc", "!!float x", "!!timestamp x", f"!!int {'9' * 5000}"])
def test_a_value_its_tag_cannot_read_is_refused_at_its_line(reader: Parse, value: str) -> None:
    exc = refusal(reader, f"top: 1\nvalue: {value}\n")
    assert isinstance(exc, yaml.constructor.ConstructorError) and line_of(exc) == 2
    assert exc.problem is not None and exc.problem.startswith("this value cannot be read as written (")


@pytest.mark.parametrize("text,key,line", [("a: 1\nb: 2\na: 3\n", "a", 3), ("1: x\n'1': y\n", "1", 2),
                                           ("m: {k: 1, k: 2}\n", "k", 1)])
def test_a_key_written_twice_is_refused_at_its_second_line(reader: Parse, text: str, key: str, line: int) -> None:
    exc = refusal(reader, text)
    assert isinstance(exc, DuplicateKeyError) and (written(exc.key), exc.line) == (key, line)


def test_a_duplicate_key_says_the_path_to_its_mapping(reader: Parse) -> None:
    exc = refusal(reader, "nodes:\n  - id: pain\n    prior: {value: 1, value: 2}\n")
    assert isinstance(exc, DuplicateKeyError) and exc.path == (("nodes", None), (0, "pain"), ("prior", None))


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!custom x"])
def test_a_tag_the_safe_reader_does_not_know_is_refused_with_its_path(reader: Parse, tag: str) -> None:
    exc = refusal(reader, f"nodes:\n  - id: pain\n    label: {tag}\n")
    assert isinstance(exc, RefusedTagError) and exc.line == 3
    assert exc.path == (("nodes", None), (0, "pain"), ("label", None))


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: {b: 1\n", "a:\n\t- 1\n", 'a: "\\q"\n', "a: b: c\n",
                                  "a: 1\n- 2\n", "a: *nowhere\n", "---\na: 1\n---\nb: 2\n", "a: \x07\n",
                                  "%YAML 2.0\n---\na: 1\n"])
def test_text_that_is_not_yaml_gets_the_same_message_and_line_from_both(text: str) -> None:
    if not yamlsafe.HAS_LIBYAML:
        pytest.skip("PyYAML was built without libyaml")
    with pytest.raises(yaml.YAMLError) as pure:
        parse_yaml(text, libyaml=False)
    with pytest.raises(yaml.YAMLError) as fast:
        parse_yaml(text, libyaml=True)
    assert (type(fast.value), str(fast.value)) == (type(pure.value), str(pure.value))
