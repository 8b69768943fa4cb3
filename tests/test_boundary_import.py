"""``load_bif`` and ``from_pgmpy`` at their boundary: hostile files, broken pgmpy networks, bad arguments.

Every bad input must end in a :class:`kneebayes.KneeBayesError` (a
:class:`~kneebayes.WrongTypeError`, also a TypeError, for a wrong Python
type) whose message names what is wrong and stays short, never a pgmpy, XML-parser or other library exception, and never a
silently wrong model. The corpus in ``tests/models/hostile_networks/`` holds
one defect per file; each is listed in :data:`CORPUS` with the error it must
give and words its message must contain.
"""

from __future__ import annotations

import math
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from bounds import few_calls
from strategies import scaled

import kneebayes
from kneebayes import InvalidStateError, KneeBayesError, ModelFileError, RenormalisedWarning, UnknownNodeError
from kneebayes.errors import InputFileError, SettingError, WrongTypeError
from kneebayes.files import read_text
from kneebayes.interop.importer import MAX_PROBLEMS

HOSTILE = Path(__file__).parent / "models" / "hostile_networks"

#: The longest message a one-defect file may give: a bounded quote of the input plus the words around it.
MESSAGE_LIMIT = 500

#: Generous limits for hostile inputs (blow-ups, not speed): seconds per file, and megabytes the import may use beyond reading the file.
CALL_LIMIT = 20_000_000  # function calls: a quadratic reader made billions here; a linear one a few million
MEMORY_LIMIT_MB = 50

#: Each corpus file -> the error it must raise and words its message must contain (the thing named).
CORPUS: dict[str, tuple[type[Exception], tuple[str, ...]]] = {
    # unreadable files
    "not_utf8.bif": (InputFileError, ("not_utf8.bif", "not UTF-8", "line 7")),
    "not_gzip.bif.gz": (InputFileError, ("not_gzip.bif.gz", "not a valid gzip")),
    "truncated_gzip.bif.gz": (InputFileError, ("truncated_gzip.bif.gz", "not a valid gzip")),
    # BIF syntax
    "empty.bif": (ModelFileError, ("empty.bif", "declares no variables")),
    "garbage.bif": (ModelFileError, ("garbage.bif:1", "unexpected text 'This is not", "expected a 'network'")),
    "truncated.bif": (ModelFileError, ("truncated.bif:18", "never closes", "truncated")),
    "unclosed_comment.bif": (ModelFileError, ("unclosed_comment.bif:24", "/*", "never closed")),
    "unclosed_quote.bif": (ModelFileError, ("unclosed_quote.bif:7", "quote", "never closed")),
    "header_without_parenthesis.bif": (ModelFileError, (":15", "probability ( X | parents )")),
    "unexpected_block.bif": (ModelFileError, (":9", "'factor Wet", "expected a 'network'")),
    "nested_brace.bif": (ModelFileError, (":15", "unexpected '{'")),
    "no_type.bif": (ModelFileError, ("node 'Sprinkler'", "type discrete")),
    "two_types.bif": (ModelFileError, ("node 'Sprinkler'", "two 'type' lines")),
    "continuous_type.bif": (ModelFileError, ("node 'Sprinkler'", "'continuous'", "only 'discrete'")),
    "default_row.bif": (ModelFileError, ("node 'Wet'", "'default' rows are not supported")),
    "row_and_table.bif": (ModelFileError, ("node 'Wet'", "either one 'table' line or rows")),
    "empty_probability_block.bif": (ModelFileError, ("node 'Sprinkler'", "no 'table' line and no rows")),
    "not_a_number.bif": (ModelFileError, ("node 'Rain'", "'eighty'", "not a number")),
    # BIF structure
    "missing_probability.bif": (ModelFileError, ("node 'Sprinkler'", "no probability block")),
    "probability_unknown_variable.bif": (ModelFileError, ("node 'Hail'", "no variable block declares it")),
    "unknown_parent.bif": (ModelFileError, ("node 'Wet'", "unknown parent 'Sprinkle'", "did you mean 'Sprinkler'")),
    "duplicate_variable.bif": (ModelFileError, ("node 'Rain'", "declared twice", "lines 3 and 9")),
    "duplicate_probability.bif": (ModelFileError, ("node 'Rain'", "two probability blocks", "lines 12 and 24")),
    "case_collision.bif": (ModelFileError, ("node 'rain'", "'Rain'", "only in case")),
    "duplicate_parent.bif": (ModelFileError, ("node 'Wet'", "parent 'Rain' twice")),
    "self_parent.bif": (ModelFileError, ("node 'Rain'", "its own parent")),
    "cycle.bif": (ModelFileError, ("cycle", "'Rain'", "'Wet'", "acyclic")),
    "state_count_mismatch.bif": (ModelFileError, ("node 'Sprinkler'", "declares 3 states but lists 2")),
    "duplicate_state.bif": (ModelFileError, ("node 'Sprinkler'", "duplicate states 'on'")),
    "one_state.bif": (ModelFileError, ("node 'Sprinkler'", "1 state", "at least two")),
    "node_name_not_an_id.bif": (ModelFileError, ("node 'Sprinkler=on'", "cannot be a node id", "'Sprinkler_on'")),
    # one quoted name, not Rain given fall: the message is the name's own
    "quoted_name_with_blank.bif": (ModelFileError, ("node 'Rain fall'", "cannot be a node id", "'Rain_fall'")),
    "empty_entry_table.bif": (ModelFileError, ("node 'Rain'", ":7:", "its table has an empty entry")),
    "empty_entry_row.bif": (ModelFileError, ("node 'Wet'", ":13:", "its row (yes) has an empty entry")),
    "table_too_short.bif": (ModelFileError, ("node 'Rain'", "1 value", "2 states need 2")),
    "table_too_long.bif": (ModelFileError, ("node 'Rain'", "3 values", "2 states need 2")),
    "row_too_short.bif": (ModelFileError, ("node 'Wet'", "row (yes, on) has 1 value", "2 states")),
    "row_missing.bif": (ModelFileError, ("node 'Wet'", "no row for (no, on)")),
    "row_duplicate.bif": (ModelFileError, ("node 'Wet'", "row (yes, on) is given twice")),
    "row_unknown_state.bif": (ModelFileError, ("node 'Wet'", "'maybe' is not a state of parent 'Rain'")),
    "row_wrong_parent_count.bif": (ModelFileError, ("node 'Wet'", "row (no) names 1 parent state", "2 parents")),
    # BIF numbers
    "nan_value.bif": (ModelFileError, ("node 'Rain'", "column {}", "NaN", "state 'yes'")),
    "infinite_value.bif": (ModelFileError, ("node 'Sprinkler'", "column {}", "infinite", "state 'on'")),
    "negative_value.bif": (ModelFileError, ("node 'Wet'", "{Rain=yes, Sprinkler=off}", "negative value -0.2",
                                             "state 'yes'")),
    "huge_value.bif": (ModelFileError, ("node 'Rain'", "1e+308 (above 1)", "state 'yes'")),
    "column_sum.bif": (ModelFileError, ("column_sum.bif:18", "node 'Wet'", "{Rain=no, Sprinkler=on}", "sums to")),
    # XML
    "not_well_formed.xml": (ModelFileError, ("not_well_formed.xml:20", "not well-formed XML")),
    "undefined_entity.xml": (ModelFileError, ("undefined_entity.xml:4", "not well-formed XML", "undefined entity")),
    "billion_laughs.xml": (ModelFileError, ("billion_laughs.xml:3", "<!ENTITY", "refused")),
    "external_entity.xml": (ModelFileError, ("external_entity.xml:3", "<!ENTITY", "refused")),
    "html_not_xmlbif.xml": (ModelFileError, ("<html>", "0 <NETWORK>", "exactly one")),
    "no_network.xml": (ModelFileError, ("<BIF>", "0 <NETWORK>")),
    "two_networks.xml": (ModelFileError, ("2 <NETWORK>", "exactly one")),
    "network_without_name.xml": (ModelFileError, ("<NETWORK>", "no <NAME>")),
    "no_variables.xml": (ModelFileError, ("no <VARIABLE>",)),
    # XMLBIF structure
    "variable_without_name.xml": (ModelFileError, ("VARIABLE number 2", "no <NAME>")),
    "duplicate_variable.xml": (ModelFileError, ("node 'Rain'", "two VARIABLE elements")),
    "no_outcome.xml": (ModelFileError, ("node 'Sprinkler'", "no <OUTCOME>")),
    "empty_outcome.xml": (ModelFileError, ("node 'Sprinkler'", "empty <OUTCOME>")),
    "blank_outcome.xml": (ModelFileError, ("node 'Sprinkler'", "empty or blank")),
    "duplicate_outcome.xml": (ModelFileError, ("node 'Sprinkler'", "duplicate states 'on'")),
    "one_outcome.xml": (ModelFileError, ("node 'Sprinkler'", "1 state", "at least two")),
    "name_with_space.xml": (ModelFileError, ("node 'Lawn sprinkler'", "cannot be a node id")),
    "definition_unknown_variable.xml": (ModelFileError, ("node 'Hail'", "no VARIABLE declares it")),
    "definition_without_for.xml": (ModelFileError, ("DEFINITION number 2", "no <FOR>")),
    "missing_definition.xml": (ModelFileError, ("node 'Sprinkler'", "no DEFINITION")),
    "duplicate_definition.xml": (ModelFileError, ("node 'Rain'", "two DEFINITION elements")),
    "missing_table.xml": (ModelFileError, ("node 'Sprinkler'", "0 <TABLE> elements")),
    "two_tables.xml": (ModelFileError, ("node 'Sprinkler'", "2 <TABLE> elements")),
    "empty_table.xml": (ModelFileError, ("node 'Sprinkler'", "0 values", "2 states need 2")),
    "table_wrong_length.xml": (ModelFileError, ("node 'Wet'", "6 values", "4 parent combinations need 8")),
    "table_not_a_number.xml": (ModelFileError, ("node 'Sprinkler'", "'sixty'", "not a number")),
    "unknown_given.xml": (ModelFileError, ("node 'Wet'", "unknown parent 'Sprinkle'", "did you mean 'Sprinkler'")),
    "duplicate_given.xml": (ModelFileError, ("node 'Wet'", "parent 'Rain' twice")),
    "cycle.xml": (ModelFileError, ("cycle", "'Rain'", "'Wet'", "acyclic")),
    # XMLBIF numbers
    "nan_table.xml": (ModelFileError, ("node 'Wet'", "{Rain=yes, Sprinkler=on}", "NaN")),
    "infinite_table.xml": (ModelFileError, ("node 'Sprinkler'", "infinite", "state 'on'")),
    "negative_table.xml": (ModelFileError, ("node 'Rain'", "negative value -0.2", "state 'yes'")),
    "column_sum.xml": (ModelFileError, ("node 'Rain'", "column {}", "sums to 0.8999")),
    # XDSL (GeNIe): XML safety and the document
    "billion_laughs.xdsl": (ModelFileError, ("billion_laughs.xdsl:3", "<!ENTITY", "refused")),
    "external_dtd.xdsl": (ModelFileError, ("external_dtd.xdsl:2", "<!DOCTYPE", "refused")),
    "not_well_formed.xdsl": (ModelFileError, ("not_well_formed.xdsl:12", "not well-formed XML", "mismatched tag")),
    "deep_nesting.xdsl": (ModelFileError, ("deep_nesting.xdsl:25", "<group>", "nest at most 32 deep")),
    "not_smile.xdsl": (ModelFileError, ("root element is <genie>", "<smile>")),
    "network_without_id.xdsl": (ModelFileError, ("<smile> root has no id",)),
    "no_nodes.xdsl": (ModelFileError, ("0 <nodes> elements", "exactly one")),
    "empty_nodes.xdsl": (ModelFileError, ("holds no node", "at least one <cpt>")),
    "dynamic_network.xdsl": (ModelFileError, ("dynamic (temporal) network", "line 21", "only static")),
    # XDSL nodes
    "noisymax_node.xdsl": (ModelFileError, ("noisymax_node.xdsl:14", "node 'Wet'", "noisy-MAX node", "<cpt>")),
    "node_without_id.xdsl": (ModelFileError, ("node_without_id.xdsl:9", "node number 2 (<cpt>) has no id")),
    "duplicate_node.xdsl": (ModelFileError, ("node 'Rain'", "declared twice", "lines 4 and 9")),
    "no_state.xdsl": (ModelFileError, ("node 'Sprinkler'", "no <state>")),
    "state_without_id.xdsl": (ModelFileError, ("node 'Sprinkler'", "<state> without an id")),
    "duplicate_state.xdsl": (ModelFileError, ("duplicate_state.xdsl:9", "node 'Sprinkler'", "duplicate states 'on'")),
    "one_state.xdsl": (ModelFileError, ("node 'Sprinkler'", "1 state", "at least two")),
    "name_with_space.xdsl": (ModelFileError, ("node 'Lawn sprinkler'", "cannot be a node id")),
    "unknown_parent.xdsl": (ModelFileError, ("unknown_parent.xdsl:17", "node 'Wet'", "unknown parent 'Sprinkle'",
                                              "did you mean 'Sprinkler'")),
    "self_parent.xdsl": (ModelFileError, ("node 'Wet'", "its own parent")),
    "duplicate_parent.xdsl": (ModelFileError, ("node 'Wet'", "parent 'Rain' twice")),
    "two_parents_elements.xdsl": (ModelFileError, ("node 'Wet'", "2 <parents> elements")),
    "cycle.xdsl": (ModelFileError, ("cycle", "'Rain'", "'Wet'", "acyclic")),
    "missing_probabilities.xdsl": (ModelFileError, ("node 'Sprinkler'", "0 <probabilities> elements")),
    "probability_not_a_number.xdsl": (ModelFileError, ("node 'Sprinkler'", "'sixty'", "not a number")),
    "wrong_column_count.xdsl": (ModelFileError, ("wrong_column_count.xdsl:18", "node 'Wet'", "6 values",
                                                  "4 parent combinations need 8")),
    "deterministic_wrong_count.xdsl": (ModelFileError, ("node 'Wet'", "<resultingstates> names 3 states",
                                                         "one per parent combination (4)")),
    "deterministic_unknown_state.xdsl": (ModelFileError, ("node 'Wet'", "'maybe'", "not one of its states")),
    # XDSL numbers
    "nan_probability.xdsl": (ModelFileError, ("nan_probability.xdsl:18", "node 'Wet'", "{Rain=yes, Sprinkler=off}",
                                               "NaN", "state 'yes'")),
    "negative_probability.xdsl": (ModelFileError, ("node 'Rain'", "column {}", "negative value -0.2", "state 'yes'")),
    "column_sum.xdsl": (ModelFileError, ("column_sum.xdsl:18", "node 'Wet'", "{Rain=no, Sprinkler=on}", "sums to")),
}

#: The longest message a one-defect XDSL file may give.
XDSL_MESSAGE_LIMIT = 300

# The network every corpus file is a one-defect copy of, in both formats.
TINY_BIF = """network tiny {
}
variable Rain {
  type discrete [ 2 ] { yes, no };
}
variable Sprinkler {
  type discrete [ 2 ] { on, off };
}
variable Wet {
  type discrete [ 2 ] { yes, no };
}
probability ( Rain ) {
  table 0.2, 0.8;
}
probability ( Sprinkler ) {
  table 0.4, 0.6;
}
probability ( Wet | Rain, Sprinkler ) {
  (yes, on) 0.99, 0.01;
  (yes, off) 0.9, 0.1;
  (no, on) 0.8, 0.2;
  (no, off) 0.05, 0.95;
}
"""
TINY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<BIF VERSION="0.3">
<NETWORK>
<NAME>tiny</NAME>
<VARIABLE TYPE="nature"><NAME>Rain</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>
<VARIABLE TYPE="nature"><NAME>Sprinkler</NAME><OUTCOME>on</OUTCOME><OUTCOME>off</OUTCOME></VARIABLE>
<VARIABLE TYPE="nature"><NAME>Wet</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>
<DEFINITION><FOR>Rain</FOR><TABLE>0.2 0.8</TABLE></DEFINITION>
<DEFINITION><FOR>Sprinkler</FOR><TABLE>0.4 0.6</TABLE></DEFINITION>
<DEFINITION><FOR>Wet</FOR><GIVEN>Rain</GIVEN><GIVEN>Sprinkler</GIVEN>
  <TABLE>0.99 0.01 0.9 0.1 0.8 0.2 0.05 0.95</TABLE></DEFINITION>
</NETWORK>
</BIF>
"""
TINY_XDSL = """<?xml version="1.0" encoding="UTF-8"?>
<smile version="1.0" id="tiny" numsamples="10000" discsamples="10000">
  <nodes>
    <cpt id="Rain">
      <state id="yes" />
      <state id="no" />
      <probabilities>0.2 0.8</probabilities>
    </cpt>
    <cpt id="Sprinkler">
      <state id="on" />
      <state id="off" />
      <probabilities>0.4 0.6</probabilities>
    </cpt>
    <cpt id="Wet">
      <state id="yes" />
      <state id="no" />
      <parents>Rain Sprinkler</parents>
      <probabilities>0.99 0.01 0.9 0.1 0.8 0.2 0.05 0.95</probabilities>
    </cpt>
  </nodes>
  <extensions>
    <genie version="1.0" app="GeNIe 4.0" name="tiny">
      <node id="Rain">
        <name>Rain</name>
        <position>20 20 140 68</position>
      </node>
    </genie>
  </extensions>
</smile>
"""
#: P(Rain=yes | Wet=yes) in the tiny network, by hand.
RAIN_GIVEN_WET = (0.2 * (0.4 * 0.99 + 0.6 * 0.9)) / (
    0.2 * (0.4 * 0.99 + 0.6 * 0.9) + 0.8 * (0.4 * 0.8 + 0.6 * 0.05))


def _bounded(exc: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    text = str(exc)
    assert len(text) < limit, f"message of {len(text)} characters: {text[:300]}..."
    return text


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fault_network(values_b: list[list[float]] | None = None, states_a: list[Any] | None = None) -> Any:
    """A -> B as a pgmpy network; ``values_b`` replaces B's table (set after pgmpy's own checks)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    states = states_a or ["on", "off"]
    bn = DiscreteBayesianNetwork([("A", "B")])
    cpd_b = TabularCPD("B", 2, [[0.5, 0.2], [0.5, 0.8]], evidence=["A"], evidence_card=[2],
                       state_names={"B": ["yes", "no"], "A": states})
    bn.add_cpds(TabularCPD("A", 2, [[0.3], [0.7]], state_names={"A": states}), cpd_b)
    if values_b is not None:
        cpd_b.values = np.array(values_b, dtype=float).reshape(cpd_b.values.shape)
    return bn


# -- the corpus ------------------------------------------------------------------------

def test_the_unbroken_tiny_network_loads_in_every_format_and_answers_right(tmp_path: Path) -> None:
    for name, text in (("tiny.bif", TINY_BIF), ("tiny.xml", TINY_XML), ("tiny.xdsl", TINY_XDSL)):
        model = kneebayes.load_network(_write(tmp_path, name, text), targets=["Rain"])
        assert model.diagnose({"Wet": "yes"}).distributions["Rain"]["yes"] == pytest.approx(RAIN_GIVEN_WET, abs=1e-12)


def test_every_corpus_file_is_listed_with_its_expected_error() -> None:
    assert sorted(p.name for p in HOSTILE.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_hostile_file_gives_a_short_kneebayes_error_naming_the_defect(name: str) -> None:
    kind, words = CORPUS[name]
    with few_calls(), pytest.raises(KneeBayesError) as info:
        kneebayes.load_network(HOSTILE / name, targets=["Rain"])
    assert type(info.value) is kind
    text = _bounded(info.value, XDSL_MESSAGE_LIMIT if name.endswith(".xdsl") else MESSAGE_LIMIT)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    if isinstance(info.value, ModelFileError):
        assert all(p.file == name for p in info.value.problems)   # every problem names the file
    else:
        assert name in text


def test_a_duplicate_xmlbif_definition_is_refused_not_last_one_wins() -> None:
    # Before, the second DEFINITION silently replaced the first and moved every answer.
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_bif(HOSTILE / "duplicate_definition.xml", targets=["Rain"])
    (problem,) = info.value.problems
    assert (problem.node, problem.field) == ("Rain", "DEFINITION")


@pytest.mark.parametrize("name", ["billion_laughs.xml", "billion_laughs.xdsl"])
def test_the_billion_laughs_file_is_refused_fast_and_small(name: str) -> None:
    _fast_and_small(HOSTILE / name, ModelFileError)


@pytest.mark.parametrize("name", ["nan_value.bif", "nan_table.xml", "nan_probability.xdsl"])
def test_load_bif_gives_the_same_error_as_load_network(name: str) -> None:
    messages = []
    for load in (kneebayes.load_bif, kneebayes.load_network):
        with pytest.raises(ModelFileError) as info:
            load(HOSTILE / name, targets=["Rain"])
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# Large hostile texts (each about 1 MB) that took pgmpy's reader quadratic time or unbounded memory.
def _big_inputs() -> dict[str, str]:
    n = 1_000_000
    head = "network x {\n}\nvariable A {\n  type discrete [ 2 ] { a, b };\n}\n"
    table = "probability ( A ) {\n  table 0.5, 0.5;\n}\n"
    return {
        "blank_run.bif": head + "probability ( A ) {\n  table 0.5," + " " * n + "0.5;\n}\n",
        "many_comments.bif": head + table + "/* c */" * (n // 7),
        "unclosed_comment.bif": head + table + "/* x " * (n // 5),
        "escaped_quotes.bif": head + table + '"' + '\\"' * (n // 2),
        "pipes_in_header.bif": head + "probability ( A " + "|" * n + "\n{ table 0.5 0.5; }\n",
        "keyword_tail.bif": head + table + "variable " * (n // 9),
        "open_braces.bif": head + table + "variable B {" + "{" * n,
        "many_unknown_blocks.bif": head + table + "".join(f"probability ( X{i} ) {{ table 0.5 0.5; }}\n"
                                                          for i in range(n // 40)),
        "deep.xml": "<BIF>" + "<a>" * (n // 3) + "</a>" * (n // 3) + "</BIF>",
        "flat.xml": "<BIF><NETWORK><NAME>n</NAME>" + "<PROPERTY/>" * (n // 11) + "</NETWORK></BIF>",
        "deep.xdsl": ('<smile id="x"><nodes/><extensions>' + "<a>" * (n // 3) + "</a>" * (n // 3)
                      + "</extensions></smile>"),
        "flat.xdsl": '<smile id="x"><nodes><cpt id="A"><state id="a"/><state id="b"/>'
                     '<probabilities>0.5 0.5</probabilities></cpt></nodes><extensions>' + "<node/>" * (n // 7)
                     + "</extensions></smile>",
        "many_states.xdsl": '<smile id="x"><nodes><cpt id="A">' + '<state id="s"/>' * (n // 15)
                            + "<probabilities>1</probabilities></cpt></nodes></smile>",
        "huge_deterministic.xdsl": '<smile id="x"><nodes><cpt id="P">' + "".join(f'<state id="p{i}"/>'
                                                                                 for i in range(n // 20))
                                   + "<probabilities>" + "0 " * (n // 20) + "</probabilities></cpt>"
                                   '<deterministic id="A">' + "".join(f'<state id="a{i}"/>' for i in range(2000))
                                   + "<parents>P</parents><resultingstates>" + "a0 " * (n // 20)
                                   + "</resultingstates></deterministic></nodes></smile>",
    }


@pytest.mark.parametrize("name", sorted(_big_inputs()))
def test_a_large_hostile_file_is_handled_in_linear_time_and_bounded_memory(name: str, tmp_path: Path) -> None:
    path = _write(tmp_path, name, _big_inputs()[name])
    _fast_and_small(path, (ModelFileError, type(None)))


def _fast_and_small(path: Path, expected: type | tuple[type, ...]) -> None:
    """``load_bif`` on ``path`` makes at most CALL_LIMIT function calls, using at most MEMORY_LIMIT_MB beyond reading the file."""
    tracemalloc.start()
    try:
        read_text(path)
        reading = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    tracemalloc.start()
    error: BaseException | None = None
    try:
        with few_calls(CALL_LIMIT):
            kneebayes.load_bif(path, targets=["A"])
    except KneeBayesError as exc:
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert (peak - reading) / 1e6 < MEMORY_LIMIT_MB
    assert isinstance(error, expected)
    if error is not None:
        _bounded(error, limit=4000)   # several problems may be listed, each bounded


# -- numbers in every reader path ----------------------------------------------------------

@pytest.mark.parametrize(("value", "word"), [(math.nan, "NaN"), (math.inf, "infinite"), (-0.2, "negative value -0.2")])
def test_a_bad_number_in_a_pgmpy_table_is_refused_naming_node_and_column(value: float, word: str) -> None:
    bn = fault_network([[0.5, value], [0.5, 0.8]])
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    (problem,) = info.value.problems
    assert (problem.node, problem.field) == ("B", "table")
    text = _bounded(info.value)
    assert word in text and "{A=off}" in text and "state 'yes'" in text


def test_nan_columns_that_would_pass_the_sum_check_are_refused_in_xmlbif(tmp_path: Path) -> None:
    # abs(nan - 1) > tolerance is False: NaN must be refused by name, not by the sum.
    text = TINY_XML.replace("<TABLE>0.2 0.8</TABLE>", "<TABLE>nan nan</TABLE>")
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_bif(_write(tmp_path, "nan.xml", text), targets=["Rain"])
    assert "node 'Rain'" in _bounded(info.value) and "NaN" in str(info.value)


def test_every_column_problem_is_listed_up_to_the_limit_and_the_rest_counted(tmp_path: Path) -> None:
    n = MAX_PROBLEMS + 7
    text = "".join(f"variable V{i} {{\n  type discrete [ 2 ] {{ a, b }};\n}}\n"
                   f"probability ( V{i} ) {{\n  table 0.5, 0.6;\n}}\n" for i in range(n))
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_bif(_write(tmp_path, "many.bif", text), targets=["V0"])
    problems = info.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert "7 more problem(s)" in problems[-1].message


# -- pgmpy networks ----------------------------------------------------------------------

def test_from_pgmpy_refuses_an_object_that_is_not_a_network() -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="DiscreteBayesianNetwork, not dict"):
        kneebayes.from_pgmpy({"A": [0.5, 0.5]}, targets=["A"])


def test_from_pgmpy_refuses_a_dynamic_network_saying_how_to_pass_one_slice() -> None:
    from pgmpy.models import DynamicBayesianNetwork

    network = DynamicBayesianNetwork([(("D", 0), ("G", 0)), (("D", 0), ("D", 1))])
    with pytest.raises(WrongTypeError, match=r"a dynamic Bayesian network \(time slices\) cannot be imported; pass "
                                             r"one slice as a static network, such as "
                                             r"network\.get_constant_bn\(t_slice=0\)"):
        kneebayes.from_pgmpy(network, targets=["D"])


def test_from_pgmpy_refuses_a_linear_gaussian_network_as_continuous() -> None:
    from pgmpy.models import LinearGaussianBayesianNetwork

    with pytest.raises(WrongTypeError, match=r"a linear Gaussian network \(continuous\) cannot be imported"):
        kneebayes.from_pgmpy(LinearGaussianBayesianNetwork([("A", "B")]), targets=["A"])


def test_a_refused_cpd_is_named_once_not_also_as_missing() -> None:
    from pgmpy.factors.continuous import LinearGaussianCPD
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(TabularCPD("A", 2, [[0.3], [0.7]]))
    bn.cpds.append(LinearGaussianCPD("B", [0.0, 2.0], 1, evidence=["A"]))   # add_cpds would refuse it itself
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    assert [p.message for p in info.value.problems] == [
        "a LinearGaussianCPD cannot be imported; only discrete tables (TabularCPD) can"]


def test_a_pgmpy_node_without_a_cpd_is_named() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(TabularCPD("A", 2, [[0.3], [0.7]]))
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    text = _bounded(info.value)
    assert "node 'B'" in text and "no CPD" in text


def test_pgmpy_nodes_named_by_numbers_are_refused_with_advice() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([(0, 1)])
    bn.add_cpds(TabularCPD(0, 2, [[0.5], [0.5]]), TabularCPD(1, 2, [[0.5, 0.5], [0.5, 0.5]], evidence=[0],
                                                              evidence_card=[2]))
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["0"])
    text = _bounded(info.value)
    assert "node 0 is named by a int" in text and "strings" in text


def test_a_cpd_whose_parent_states_disagree_with_the_parents_own_is_refused() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "B")])   # pgmpy accepts this; the columns would be matched wrongly
    bn.add_cpds(TabularCPD("A", 2, [[0.5], [0.5]], state_names={"A": ["x", "y"]}),
                TabularCPD("B", 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["A"], evidence_card=[2],
                           state_names={"B": ["yes", "no"], "A": ["y", "x"]}))
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    text = _bounded(info.value)
    assert "node 'B'" in text and "parent 'A'" in text and "must match" in text


def test_state_names_that_collide_as_text_are_refused() -> None:
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(fault_network(states_a=[1, "1"]), targets=["A"])
    text = _bounded(info.value)
    assert "node 'A'" in text and "duplicate states '1'" in text


@pytest.mark.parametrize(("name", "why"), [("a b", "cannot be a node id"), ("x=1", "cannot be a node id"),
                                           ("", "empty name")])
def test_a_node_name_a_model_cannot_carry_is_refused(name: str, why: str) -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from([name, "T"])
    bn.add_cpds(TabularCPD(name, 2, [[0.5], [0.5]]), TabularCPD("T", 2, [[0.5], [0.5]]))
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["T"])
    text = _bounded(info.value)
    assert why in text and (not name or f"node {name!r}" in text)


def test_a_node_name_the_importer_accepts_is_one_the_model_file_can_save(tmp_path: Path) -> None:
    model = kneebayes.from_pgmpy(fault_network(states_a=["<5", "Asy/Patch"]), targets=["A"])
    back = kneebayes.load_model(model.save(tmp_path / "saved.yaml"))
    assert back.node("A").states == ("<5", "Asy/Patch")


def test_a_huge_node_name_is_quoted_only_in_part(tmp_path: Path) -> None:
    huge = "N" * 100_000
    text = TINY_BIF.replace("variable Wet {", f"variable {huge} {{\n  type discrete [ 2 ] {{ a, b }};\n}}\n"
                                              "variable Wet {")
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_bif(_write(tmp_path, "huge.bif", text), targets=["Rain"])
    text = _bounded(info.value)
    assert "NNNN..." in text and "no probability block" in text


# -- arguments -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("tiny"), "tiny.bif", TINY_BIF)


def _refused(call: Callable[[], object], kind: type[Exception], *words: str) -> str:
    with pytest.raises(kind) as info:
        call()
    # a wrong Python type is the library's own TypeError too: one except KneeBayesError catches every bad input
    assert type(info.value) is (WrongTypeError if kind is TypeError else kind)
    text = _bounded(info.value)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


def test_targets_as_a_single_string_is_a_type_error_asking_for_a_list(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets="Rain"), TypeError, "targets", "list", "['Rain']")


def test_askable_as_a_single_string_is_a_type_error_asking_for_a_list(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], askable="Wet"), TypeError, "askable", "list")


def test_a_target_that_is_not_text_is_a_type_error(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain", 3]), TypeError, "targets", "3", "int")


def test_no_targets_is_refused_saying_one_is_needed(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=[]), SettingError, "targets", "at least one")


def test_a_target_listed_twice_is_refused(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain", "Rain"]), SettingError, "'Rain'", "twice")


def test_an_unknown_askable_node_is_named_with_a_suggestion(tiny: Path) -> None:
    text = _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], askable=["Wett"]), UnknownNodeError,
                    "'Wett'", "askable")
    assert "'Wet'" in text


@pytest.mark.parametrize("cost", [-5, 0, math.nan, math.inf, 10**400])
def test_a_cost_that_is_not_a_positive_finite_number_is_refused(tiny: Path, cost: float) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], costs={"Wet": cost}), SettingError,
             "costs['Wet']", "positive finite number")


def test_a_cost_that_is_not_a_number_is_a_type_error(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], costs={"Wet": "5"}), TypeError, "costs['Wet']")


def test_a_cost_for_an_unknown_node_is_named(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], costs={"Hail": 2.0}), UnknownNodeError,
             "'Hail'", "in costs")


@pytest.mark.parametrize("tolerance", [math.nan, -1e-9, 0.5, math.inf, 10**400])
def test_a_tolerance_outside_its_range_is_refused_saying_what_is_valid(tiny: Path, tolerance: float) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], tolerance=tolerance), SettingError,
             "tolerance", "from 0 to 0.01")


def test_a_tolerance_that_is_not_a_number_is_a_type_error(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], tolerance="1e-6"), TypeError, "tolerance")


def test_an_empty_question_text_is_refused(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], questions={"Wet": "  "}), SettingError,
             "questions['Wet']", "empty")


def test_a_question_text_that_is_not_text_is_a_type_error(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], questions={"Wet": 3}), TypeError,
             "questions['Wet']")


def test_a_question_for_an_unknown_node_is_named(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], questions={"Hail": "Hail?"}), UnknownNodeError,
             "'Hail'", "in questions")


def test_normal_states_that_is_not_a_dict_is_a_type_error(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], normal_states=["no"]), TypeError, "normal_states")


def test_a_normal_state_that_is_not_text_is_an_invalid_state(tiny: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tiny, targets=["Rain"], normal_states={"Rain": 0}), InvalidStateError,
             "'Rain'", "'yes', 'no'")


def test_a_path_that_is_not_a_path_is_a_type_error() -> None:
    _refused(lambda: kneebayes.load_bif(42, targets=["Rain"]), TypeError, "path", "int")


def test_a_missing_file_is_an_input_file_error_naming_it(tmp_path: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tmp_path / "nowhere.bif", targets=["Rain"]), InputFileError,
             "nowhere.bif", "does not exist")


def test_a_folder_is_an_input_file_error(tmp_path: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tmp_path, targets=["Rain"]), InputFileError, "folder")


def test_argument_errors_come_before_the_file_is_read(tmp_path: Path) -> None:
    _refused(lambda: kneebayes.load_bif(tmp_path / "nowhere.bif", targets="Rain"), TypeError, "targets")


def test_good_arguments_reach_the_model(tiny: Path) -> None:
    model = kneebayes.load_bif(tiny, targets=["Rain"], askable=["Wet"], questions={"Wet": "Is the grass wet?"},
                               costs={"Wet": 2.5}, tolerance=0.0)
    assert [n.id for n in model.nodes if n.askable] == ["Wet"]
    assert model.spec.node("Wet").question == "Is the grass wet?" and model.spec.node("Wet").cost == 2.5


# -- the file formats' own rules -------------------------------------------------------------

def test_bif_comments_crlf_and_quotes_are_read_as_pgmpy_reads_them(tmp_path: Path) -> None:
    text = ("// a BIF file from Windows\r\n" + TINY_BIF.replace("\n", "\r\n")
            .replace("{ on, off }", '{ "on", "off" } /* quoted */'))
    model = kneebayes.load_bif(_write(tmp_path, "crlf.bif", text), targets=["Rain"])
    assert model.node("Sprinkler").states == ("on", "off")
    assert model.diagnose({"Wet": "yes"}).distributions["Rain"]["yes"] == pytest.approx(RAIN_GIVEN_WET, abs=1e-12)


def test_the_bundled_example_networks_read_exactly_as_pgmpy_reads_them() -> None:
    import gzip
    import os

    import pgmpy
    from pgmpy.readwrite import BIFReader

    folder = Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models"
    for name in ("asia", "child", "alarm"):
        path = folder / f"{name}.bif.gz"
        theirs = BIFReader(string=gzip.open(path, "rt", encoding="utf-8").read()).get_model()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RenormalisedWarning)
            ours = kneebayes.from_pgmpy(theirs, targets=[theirs.get_roots()[0]], source=path.name)
            direct = kneebayes.load_bif(path, targets=[theirs.get_roots()[0]])
        assert [n.id for n in ours.nodes] == [n.id for n in direct.nodes]
        for a, b in zip(ours.spec.nodes, direct.spec.nodes):
            assert (a.states, a.parents, a.parameters) == (b.states, b.parents, b.parameters), name


# -- fuzzing ---------------------------------------------------------------------------------

def _asia_texts() -> dict[str, str]:
    import gzip
    import os

    import pgmpy

    path = Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models" / "asia.bif.gz"
    bif = gzip.open(path, "rt", encoding="utf-8").read()
    from kneebayes.interop.files import xdsl_text, xmlbif_text

    model = kneebayes.from_pgmpy(_read_bif(bif), targets=["asia"])
    return {"asia.bif": bif, "asia.xml": xmlbif_text(model), "asia.xdsl": xdsl_text(model)}


def _read_bif(text: str) -> Any:
    from pgmpy.readwrite import BIFReader

    return BIFReader(string=text).get_model()


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    return _asia_texts()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


INSERTS = ("nan", "inf", "-1", "1e999", "0", "{", "}", "(", ")", ";", ",", "|", '"', "/*", "//", "<", ">", "&",
           "<!ENTITY", "variable", "probability", "table", "<DEFINITION>", "<TABLE>", "\n", "\x00", "é", "\ufeff",
           "<!DOCTYPE x>", "<cpt id=\"asia\">", "<state id=\"yes\"/>", "<parents>", "</parents>", "<noisymax>",
           "<resultingstates>yes</resultingstates>")


def _mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        lines = text.split("\n")
        how = data.draw(st.sampled_from(["flip", "delete", "duplicate_line", "insert", "truncate", "swap_lines"]),
                        label="how")
        at = data.draw(st.integers(0, len(text)), label="at")
        if how == "flip" and text:
            at = min(at, len(text) - 1)
            text = text[:at] + data.draw(st.characters(codec="utf-8"), label="char") + text[at + 1:]
        elif how == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 40), label="length"):]
        elif how == "duplicate_line":
            i = data.draw(st.integers(0, len(lines) - 1), label="line")
            text = "\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
        elif how == "insert":
            text = text[:at] + data.draw(st.sampled_from(INSERTS), label="insert") + text[at:]
        elif how == "truncate":
            text = text[:at]
        elif how == "swap_lines" and len(lines) > 1:
            i, j = (data.draw(st.integers(0, len(lines) - 1), label=f"line{k}") for k in range(2))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


def _loads_or_refuses(path: Path) -> None:
    """The one allowed pair of outcomes: a model with proper distributions, or a short KneeBayesError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RenormalisedWarning)
            model = kneebayes.load_bif(path, targets=["asia"])
    except KneeBayesError as exc:
        _bounded(exc, limit=4000)
        return
    for dist in model.diagnose({}).distributions.values():
        values = list(dist.values())
        assert all(math.isfinite(p) and 0 <= p <= 1 for p in values)
        assert math.fsum(values) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", ["asia.bif", "asia.xml", "asia.xdsl"])
@settings(max_examples=scaled(150), suppress_health_check=[HealthCheck.too_slow,
                                                            HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_network_file_loads_or_raises_a_kneebayes_error(seeds: dict[str, str], fuzz_dir: Path, seed: str,
                                                                 data: st.DataObject) -> None:
    path = fuzz_dir / seed
    path.write_text(_mutate(seeds[seed], data), encoding="utf-8", newline="")
    _loads_or_refuses(path)


@settings(max_examples=scaled(100), suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.floats(allow_nan=True, allow_infinity=True, min_value=None, max_value=None),
                      min_size=4, max_size=4))
def test_any_numbers_in_a_pgmpy_table_give_a_model_or_a_model_file_error(cells: list[float]) -> None:
    bn = fault_network([cells[:2], cells[2:]])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RenormalisedWarning)
            model = kneebayes.from_pgmpy(bn, targets=["A"], tolerance=1e-6)
    except ModelFileError as exc:
        assert "node 'B'" in _bounded(exc, limit=1000)
        return
    table = model.network.tables[model.network.index["B"]]
    assert np.isfinite(table).all() and (table >= 0).all()
    assert np.allclose(table.reshape(-1, 2).sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_the_unmutated_fuzz_seeds_load(seeds: dict[str, str], tmp_path: Path) -> None:
    for name, text in seeds.items():
        assert kneebayes.load_bif(_write(tmp_path, name, text), targets=["asia"]).causes == ("asia",)


# -- a table of many columns ---------------------------------------------------------------

def _wide_table(tmp_path: Path, parents: int) -> Path:
    """One node under ``parents`` yes/no parents, every column its own two numbers: a few kilobytes of text
    per thousand columns, and a Python object per number once imported."""
    lines = ["network wide {}", *(f"variable P{i} {{ type discrete [ 2 ] {{ a, b }}; }}" for i in range(parents)),
             "variable C { type discrete [ 2 ] { a, b }; }",
             *(f"probability ( P{i} ) {{ table 0.5, 0.5; }}" for i in range(parents))]
    yes = [round(0.05 + 0.9 * ((j * 7919) % 1000) / 1000, 6) for j in range(2**parents)]
    no = [round(1.0 - p, 6) for p in yes]
    body = ", ".join(map(repr, yes + no))
    lines.append(f"probability ( C | {', '.join(f'P{i}' for i in range(parents))} ) {{ table {body}; }}")
    path = tmp_path / "wide.bif"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_table_larger_than_the_memory_budget_is_refused_before_any_number_is_built(tmp_path: Path) -> None:
    path = _wide_table(tmp_path, 14)      # 32,768 numbers: a 256 KiB table, past a 128 KiB budget
    tracemalloc.start()
    try:
        with pytest.raises(kneebayes.IntractableError, match=r"over 15 variables \(C, P0, .* of at least 256\.0 KiB, "
                                                               r"past the memory budget of 128\.0 KiB"):
            kneebayes.load_bif(path, targets=["P0"], memory_budget=2**17)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5e6      # the file read and its numbers parsed; no Parameter built


def test_a_file_whose_numbers_would_pass_the_import_limit_is_refused_naming_its_largest_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kneebayes.interop import build

    monkeypatch.setattr(build, "IMPORT_MEMORY", 2**20)     # 1 MiB; the table's numbers take about 7 as a model
    with pytest.raises(InputFileError, match=r"has 32,768 numbers in the table of 'C' alone; its numbers would take "
                                             r"about .* GiB as a model .* past the limit of"):
        kneebayes.load_bif(_wide_table(tmp_path, 14), targets=["P0"])


def test_columns_share_their_parent_states_and_equal_numbers_one_parameter(tmp_path: Path) -> None:
    path = _wide_table(tmp_path, 12)
    kneebayes.load_bif(path, targets=["P0"])     # the library's own imports, before measuring
    tracemalloc.start()
    try:
        model = kneebayes.load_bif(path, targets=["P0"])
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    columns = model.spec.node("C").parameters.columns
    assert columns[0].given[0] is columns[1].given[0]              # ("P0", "a"), made once
    assert columns[0].probabilities[0] is columns[1000].probabilities[0]   # 0.05 in both: one Parameter
    assert kept / 2**13 < 400     # bytes per number kept (each column's own pairs took 750)


def test_an_unknown_keyword_is_a_type_error_naming_the_public_function_and_the_valid_ones(tiny: Path) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"^load_bif\(\) got an unexpected keyword argument 'foo'; it takes askable, costs, "
                                        r"detect_normal_states, memory_budget, name"):
        kneebayes.load_bif(tiny, targets=["Rain"], foo=1)


def test_every_keyword_of_from_pgmpy_is_taken_by_load_bif(tiny: Path) -> None:
    import inspect

    keywords = [p for p in inspect.signature(kneebayes.from_pgmpy).parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert len(keywords) == 8
    for p in keywords:
        kneebayes.load_bif(tiny, targets=["Rain"], **{p.name: p.default})


def test_an_xmlbif_decision_node_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "decision.xml"
    path.write_text('<?xml version="1.0"?>\n<BIF VERSION="0.3"><NETWORK><NAME>d</NAME>'
                    '<VARIABLE TYPE="nature"><NAME>A</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>'
                    '<VARIABLE TYPE="decision"><NAME>D</NAME><OUTCOME>go</OUTCOME><OUTCOME>stay</OUTCOME></VARIABLE>'
                    '<DEFINITION><FOR>A</FOR><TABLE>0.5 0.5</TABLE></DEFINITION>'
                    '<DEFINITION><FOR>D</FOR><GIVEN>A</GIVEN><TABLE>0.5 0.5 0.5 0.5</TABLE></DEFINITION>'
                    '</NETWORK></BIF>\n', encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_network(path, targets=["A"])
    assert [p.message for p in info.value.problems] == [
        "is a decision node (TYPE='decision'); kneebayes reads chance nodes (TYPE=\"nature\") only"]


def test_several_problems_of_a_pgmpy_network_are_headed_by_its_source_not_a_model_file() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork([("A", "B")])
    network.add_cpds(TabularCPD("A", 2, [[0.5], [0.5]]),
                     TabularCPD("B", 2, [[math.nan, math.nan], [0.5, 0.5]], evidence=["A"], evidence_card=[2]))
    with pytest.raises(ModelFileError, match=r"^2 problems in 'pgmpy model':\n  - pgmpy model: node 'B'"):
        kneebayes.from_pgmpy(network, targets=["A"])


def _read_with_peak(read: Callable[[str, str], list[Any]], text: str) -> tuple[list[Any], int]:
    """What a reader returns for ``text``, and the most memory it held at once (tracemalloc's peak)."""
    tracemalloc.start()
    try:
        return read(text, "wide"), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_table_is_read_without_an_object_per_number(tmp_path: Path) -> None:
    from kneebayes.interop.bif_reader import read_bif

    text = _wide_table(tmp_path, 16).read_text(encoding="utf-8")     # 131,072 numbers in 1.1 MB of text
    variables, peak = _read_with_peak(read_bif, text)
    assert variables[-1].values.shape == (2, 2**16)
    # a few copies of the text and the array; a word and a float per number took 9.5 times the text
    assert peak < 7 * len(text)


_DECIMALS = st.floats(min_value=0.0, max_value=1e300, allow_nan=False, allow_subnormal=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_DECIMALS, st.sampled_from(["{!r}", "{:.17g}", "{:.3e}", "{:.0f}", "{:.5f}"]),
                          st.sampled_from([", ", " ", ",\n", "\t", " , "])), min_size=1, max_size=40),
       st.booleans())
def test_a_table_reads_each_number_exactly_as_python_reads_it(entries: list[tuple[float, str, str]],
                                                                trailing: bool) -> None:
    from kneebayes.interop.bif_reader import read_bif

    words = [form.format(x) for x, form, _ in entries]
    body = "".join(word + sep for word, (_, _, sep) in zip(words, entries)).rstrip(", \n\t")
    states = ", ".join(f"s{k}" for k in range(len(words)))
    text = (f"variable X {{ type discrete [ {len(words)} ] {{ {states} }}; }}\n"
            f"probability ( X ) {{ table {body}{',' if trailing else ''}; }}\n")
    got = read_bif(text, "x.bif")[0].values.ravel().tolist()
    expected = [float(w) for w in words]
    assert got == expected


def test_an_xmlbif_table_is_read_without_an_object_per_number(tmp_path: Path) -> None:
    from kneebayes.interop.xmlbif_reader import read_xmlbif

    model = kneebayes.load_bif(_wide_table(tmp_path, 16), targets=["P0"])   # 131,072 numbers in C's table
    text = model.to_xmlbif(tmp_path / "wide.xml").read_text(encoding="utf-8")
    variables, peak = _read_with_peak(read_xmlbif, text)
    wide = next(v for v in variables if v.name == "C")
    assert wide.values.shape == (2, 2**16)
    assert np.array_equal(wide.values, model.to_pgmpy().get_cpds("C").values.reshape(2, -1))
    assert peak < 7 * len(text)   # a word and a float per number took 9 times the text
