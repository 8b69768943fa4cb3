"""The safe boundary: every bad, hostile or extreme input is a short kneebayes error, quickly and in
bounded memory, and no failed write loses a file the user had.

Model files, API arguments and settings, and the files kneebayes writes. The importer's boundary
(BIF / XMLBIF / pgmpy) is in test_boundary_import.py, the interview's and the CLI's in
test_boundary_interview.py. Limits on time and memory are generous: they catch an input that
makes the library walk a billion values, not ordinary slowness.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounds import bounded
import kneebayes
from kneebayes import (
    EvidenceError,
    Interview,
    InvalidStateError,
    KneeBayesError,
    ModelFileError,
    Problem,
    SettingError,
    UnknownNodeError,
    check_model_file,
    load_model,
)
from kneebayes.cli import main
from kneebayes.modelfile import load as load_module
from strategies import mutated_lines, scaled

BROKEN = Path(__file__).resolve().parent / "models" / "broken"
HOSTILE = ["alias_bomb", "deep_nesting", "lone_surrogate", "sequence_as_key", "huge_integer", "kind_case_typo",
           "no_cause"]

#: A message that quotes input may be longer than its own words by at most a bounded prefix.
SHORT = 600




def only_problem(path: Path) -> Problem:
    problems = check_model_file(path)
    assert len(problems) == 1, problems
    return problems[0]


def model_file(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SMALL = """\
format: kneebayes-model/1
name: small
version: "1.0"
title: "A small model"
scale:
  probable: 0.85
  uncertain: 0.25
costs:
  question: 1
  imaging: 5
interview:
  confidence: 0.9
  cost_weight: 0.01
nodes:
  - id: warmup
    label: Poor warm-up
    kind: risk_factor
    question: "Do you skip the warm-up?"
    prior: {value: 0.3, range: [0.1, 0.5], source: s, rationale: r}
  - id: strain
    label: Strain
    kind: cause
    question: "Strained?"
    noisy_or:
      leak: {value: 0.05, range: [0.01, 0.1], source: s, rationale: r}
      weights:
        warmup: {value: probable, range: [0.7, 0.95], source: s, rationale: r}
  - id: pain
    label: Pain
    kind: finding
    question: "Does it hurt?"
    cost: imaging
    table:
      parents: [strain]
      source: s
      rationale: r
      columns:
        - given: {strain: "yes"}
          probabilities:
            "yes": {value: 0.8, range: [0.6, 0.9], source: s, rationale: r}
            "no": {value: 0.2, range: [0.1, 0.4], source: s, rationale: r}
        - given: {strain: "no"}
          probabilities:
            "yes": {value: 0.1, range: [0.05, 0.2], source: s, rationale: r}
            "no": {value: 0.9, range: [0.8, 0.95], source: s, rationale: r}
red_flags:
  - {id: pain_flag, node: pain, text: "See a doctor.", source: s}
claims:
  - {id: pain_raises_strain, statement: "Pain points to strain.", source: s, check: raises, cause: strain,
     given: {pain: "yes"}, versus: {pain: "no"}}
"""


# -- model files: hostile input ----------------------------------------------------------------


@pytest.mark.parametrize("stem", HOSTILE)
def test_a_hostile_model_file_is_one_short_located_problem(stem: str) -> None:
    with bounded(megabytes=60):
        problem = only_problem(BROKEN / f"{stem}.yaml")
    assert problem.line is not None
    assert len(str(problem)) < SHORT


@pytest.mark.parametrize("stem", HOSTILE)
def test_load_model_raises_model_file_error_for_a_hostile_file(stem: str) -> None:
    with pytest.raises(ModelFileError) as err:
        load_model(BROKEN / f"{stem}.yaml")
    assert len(str(err.value)) < SHORT


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    # 9^9 (387 million) values if expanded; the reviewer saw 928 MB and a 312 MB message.
    with bounded(megabytes=20):
        problem = only_problem(BROKEN / "alias_bomb.yaml")
    assert "aliases (*name) expand the document past 100,000 extra values" in problem.message


def test_aliases_that_expand_a_little_still_load(tmp_path: Path) -> None:
    text = SMALL.replace("  - id: warmup", "  - id: warmup\n    description: &d A shared text").replace(
        'question: "Strained?"', 'question: "Strained?"\n    description: *d')
    model = load_model(model_file(tmp_path, text))
    assert model.node("strain").description == model.node("warmup").description == "A shared text"


def test_a_hundred_thousand_brackets_are_refused_before_they_are_all_read(tmp_path: Path) -> None:
    path = model_file(tmp_path, SMALL.replace('title: "A small model"', "title: " + "[" * 100_000 + "]" * 100_000))
    with bounded(megabytes=60):
        problem = only_problem(path)
    assert problem.message.startswith("nested more than 64 levels deep") and problem.line == 4


def test_a_huge_unknown_parent_gets_no_slow_did_you_mean_search(tmp_path: Path) -> None:
    # 300 kB: YAML's own scanning of a plain value is what takes time here (about 2 s a megabyte);
    # the did-you-mean search over it, unbounded, took 9-21 s a megabyte.
    path = model_file(tmp_path, SMALL.replace("parents: [strain]", f"parents: [{'q' * 300_000}]"))
    with bounded(megabytes=100):
        problems = check_model_file(path)
    text = "\n".join(map(str, problems))
    assert "unknown parent 'qqqq" in text and "did you mean" not in text
    assert len(text) < 10 * SHORT


def test_a_two_megabyte_value_is_quoted_as_a_short_prefix(tmp_path: Path) -> None:
    path = model_file(tmp_path, SMALL.replace("value: 0.3,", f"value: {'w' * 2_000_000},"))
    problem = only_problem(path)
    assert problem.message.startswith("unknown verbal term 'wwww") and "..." in problem.message
    assert len(str(problem)) < SHORT


def test_an_unknown_verbal_term_lists_a_long_scale_in_a_short_message(tmp_path: Path) -> None:
    # the scale's own words are the file's text too: 500 terms of 400 characters once made a message of 200 kB
    terms = "".join(f"  {'t' * 400}{k}: 0.5\n" for k in range(500))
    path = model_file(tmp_path, SMALL.replace("scale:\n", "scale:\n" + terms).replace("value: 0.3,", "value: likely,"))
    problem = only_problem(path)
    assert problem.message.startswith("unknown verbal term 'likely'; the scale has: tttt") and "... (502 in all)" in problem.message   # 500 + the two of SMALL
    assert len(str(problem)) < 3 * SHORT


def test_a_thousand_problems_are_kept_but_the_message_lists_twenty(tmp_path: Path) -> None:
    nodes = "".join(f"  - {{id: n{i}, label: n, kind: finding, question: q, prior: 0.5}}\n" for i in range(1000))
    path = model_file(tmp_path, SMALL.split("nodes:\n")[0] + "nodes:\n" + nodes)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert len(err.value.problems) >= 1000
    assert str(err.value).count("\n  - ") == 20 and "more (see .problems)" in str(err.value)


def test_a_fifo_given_as_the_model_file_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "model.yaml"
    os.mkfifo(fifo)
    code = f"import kneebayes; print(kneebayes.check_model_file({str(fifo)!r})[0].message)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "the model file is not a regular file (a pipe or a device?); give the path of a file on disk"


def test_dev_zero_given_as_the_model_file_is_refused_at_once() -> None:
    with bounded(megabytes=5):
        problem = only_problem(Path("/dev/zero"))
    assert "not a regular file" in problem.message


def test_a_folder_given_as_the_model_file_is_refused(tmp_path: Path) -> None:
    assert only_problem(tmp_path).message == "the model file is a folder; give the path of a file on disk"


def test_a_model_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = model_file(tmp_path, SMALL)
    monkeypatch.setattr(load_module, "MAX_MODEL_FILE_BYTES", 1000)
    problem = only_problem(path)
    assert problem.message == f"the model file is {path.stat().st_size:,} bytes, over the limit of 1,000"


def test_a_model_file_that_is_not_utf8_names_the_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    text = SMALL.replace("A small model", "A sm\xe4ll model")
    path.write_bytes(text.encode("latin-1"))
    at = text.index("\xe4")  # every character before it is ASCII: one byte each
    assert only_problem(path).message == f"the model file is not UTF-8 text (byte {at}, line 4); save it as UTF-8"


def test_a_valid_chain_of_1200_nodes_listed_children_first_loads(tmp_path: Path) -> None:
    # Python's recursion limit is 1,000: a recursive cycle search or ordering would fail here.
    nodes = [f"  - {{id: n{i}, label: n{i}, kind: finding, question: q, noisy_or: {{leak: {{value: 0.1, range: "
             f"[0.05, 0.2], source: s, rationale: r}}, weights: {{n{i - 1}: {{value: 0.5, range: [0.4, 0.6], "
             f"source: s, rationale: r}}}}}}}}\n" for i in range(1199, 0, -1)]
    nodes.append("  - {id: n0, label: n0, kind: cause, question: q, prior: {value: 0.5, range: [0.4, 0.6], "
                 "source: s, rationale: r}}\n")
    path = model_file(tmp_path, SMALL.split("nodes:\n")[0] + "nodes:\n" + "".join(nodes))
    model = load_model(path)
    assert len(model.network.names) == 1200
    # exact: each link passes 0.5 of the signal, so n1199 barely depends on n0
    assert model.diagnose({"n1": "yes"}).posterior["n0"] == pytest.approx(0.55 / (0.55 + 0.1), rel=1e-12)


def test_a_kind_written_in_capitals_is_not_a_model_without_causes() -> None:
    problem = only_problem(BROKEN / "kind_case_typo.yaml")
    assert problem.message.startswith("kind 'Cause' differs from 'cause' only in its writing")


def test_kinds_of_your_own_are_still_allowed(tmp_path: Path) -> None:
    model = load_model(model_file(tmp_path, SMALL.replace("kind: risk_factor", "kind: exposure")))
    assert model.node("warmup").kind == "exposure"


@pytest.mark.parametrize("stem", HOSTILE)
def test_kneebayes_check_reports_a_hostile_file_without_a_traceback(stem: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BROKEN / f"{stem}.yaml")]) == 1
    out, err = capsys.readouterr()
    assert "1 problem(s)" in out and err == ""
    out.encode("utf-8")  # printable: no lone surrogate reaches the terminal


@pytest.mark.parametrize("stem", ["lone_surrogate", "deep_nesting", "alias_bomb"])
def test_kneebayes_diagnose_with_a_hostile_model_exits_2_with_one_line(stem: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--model", str(BROKEN / f"{stem}.yaml")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("kneebayes: error: ") and err.count("\n") == 1


# -- model files: fuzzing ----------------------------------------------------------------------

#: Fragments that YAML and the validator treat specially.
_TOKENS = ["&a ", "*a", "!!python/object/apply:os.system ['true']", "[", "]", "{", "}", "? ", ": ", "- ", ".nan",
           ".inf", "-1", "1e400", "9" * 400, '"\\ud800"', "'", '"', "#", "\t", "\n", "yes", "no", "null", "~",
           "<<: *a", "%YAML 1.1\n", "---\n", "...\n", "Cause", "cause", "strain", "pain", "warmup", "value: 2"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(mutated_lines(SMALL, _TOKENS)).encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()) and draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    if draw(st.booleans()) and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=scaled(300), suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated())
def test_a_mutated_model_file_loads_or_raises_model_file_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "mutated.yaml"
    path.write_bytes(data)
    try:
        model = load_model(path)
    except ModelFileError as err:
        assert err.problems and len(str(err.problems[0])) < SHORT
        assert err.problems == tuple(check_model_file(path))
    else:
        assert check_model_file(path) == []
        model.diagnose({})  # a model that loads also works


# -- API arguments and settings ----------------------------------------------------------------

BAD_SETTINGS = [
    ("confidence", -1), ("confidence", 0), ("confidence", 5), ("confidence", float("nan")), ("confidence", "x"),
    ("confidence", 10**400), ("cost_weight", -1e9), ("cost_weight", float("inf")), ("min_gain", -0.5),
    ("min_gain", [0.1]), ("screen_red_flags", "no"), ("screen_red_flags", 1),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_diagnose_refuses_a_bad_setting_by_name(knee_model: kneebayes.Model, name: str, value: object) -> None:
    with pytest.raises(SettingError, match=rf"^{name} must be ") as err:
        knee_model.diagnose({}, **{name: value})  # type: ignore[arg-type]
    assert len(str(err.value)) < SHORT


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_an_interview_refuses_the_same_setting_with_the_same_words(knee_model: kneebayes.Model, name: str,
                                                                   value: object) -> None:
    with pytest.raises(SettingError) as direct:
        knee_model.diagnose({}, **{name: value})  # type: ignore[arg-type]
    with pytest.raises(SettingError) as session:
        Interview(knee_model, **{name: value})  # type: ignore[arg-type]
    assert str(session.value) == str(direct.value)


@pytest.mark.parametrize(("name", "value"), [s for s in BAD_SETTINGS if s[0] != "screen_red_flags"])
def test_a_model_file_refuses_the_same_setting_with_the_same_words(tmp_path: Path, knee_model: kneebayes.Model,
                                                                   name: str, value: object) -> None:
    with pytest.raises(SettingError) as direct:
        knee_model.diagnose({}, **{name: value})  # type: ignore[arg-type]
    shown = {float("nan"): ".nan", float("inf"): ".inf"}.get(value, value) if isinstance(value, float) else value
    text = SMALL.replace("  cost_weight: 0.01\n", f"  cost_weight: 0.01\n  min_gain: 0.01\n")
    text = text.replace(f"  {name}: ", f"  {name}: {shown if not isinstance(value, str) else repr(value)} #", 1)
    problem = only_problem(model_file(tmp_path, text))
    assert problem.field == f"interview.{name}"
    assert problem.message.split(", got")[0] == "interview." + str(direct.value).split(", got")[0]


def test_a_good_setting_passes_through_unchanged(knee_model: kneebayes.Model) -> None:
    settings_ = knee_model.diagnose({}, confidence=0.5, cost_weight=0, min_gain=0.2, screen_red_flags=False).settings
    assert (settings_.confidence, settings_.cost_weight, settings_.min_gain, settings_.screen_red_flags) == (
        0.5, 0.0, 0.2, False)


def test_skipped_given_as_one_string_is_a_type_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"skipped must be a collection of node ids such as \['limping'\], not one string"):
        knee_model.diagnose({}, skipped="limping")


def test_skipped_given_as_a_number_is_a_type_error_naming_the_type(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"skipped must be a collection of node ids .*, not int \(5\)"):
        knee_model.diagnose({}, skipped=5)  # type: ignore[arg-type]


def test_marginals_of_one_string_is_a_type_error_not_its_letters(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="nodes must be a collection of node ids"):
        knee_model.marginals({}, nodes="limping")


def test_a_node_both_answered_and_skipped_is_refused(knee_model: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="'limping' is both answered \\(yes\\) and skipped"):
        knee_model.diagnose({"limping": "yes"}, skipped=["limping"])


def test_a_megabyte_node_id_in_evidence_is_a_short_unknown_node_error(knee_model: kneebayes.Model) -> None:
    with bounded(megabytes=20), pytest.raises(UnknownNodeError) as err:
        knee_model.diagnose({"x" * 1_000_000: "yes"})
    assert str(err.value).startswith("unknown node 'xxx") and len(str(err.value)) < SHORT


def test_a_ten_megabyte_state_is_a_short_invalid_state_error(knee_model: kneebayes.Model) -> None:
    with bounded(megabytes=40), pytest.raises(InvalidStateError) as err:
        knee_model.diagnose({"swelling_behind_knee": "y" * 10_000_000})
    assert "for node 'swelling_behind_knee': valid states are 'yes', 'no'" in str(err.value)
    assert len(str(err.value)) < SHORT


@pytest.mark.parametrize("call", [
    lambda m: m.with_parameters({"x" * 1_000_000: 0.3}),
    lambda m: m.with_parameters({"poor_warmup.prior": 10**400}),
    lambda m: m.with_parameters({"poor_warmup.prior": float("nan")}),
    lambda m: m.with_parameters({"poor_warmup.prior": (0.3, (float("nan"), 0.5))}),
    lambda m: m.diagnose({}).explain("q" * 1_000_000),
    lambda m: m.marginals({}, nodes=["q" * 1_000_000]),
    lambda m: kneebayes.sensitivity(m, {}, cause="q" * 1_000_000),
    lambda m: m.posterior_intervals({}, draws=0),
], ids=["huge address", "huge integer", "nan value", "nan range", "explain", "marginals", "sensitivity", "draws"])
def test_a_bad_api_argument_is_a_short_kneebayes_error(knee_model: kneebayes.Model,
                                                       call: Callable[[kneebayes.Model], object]) -> None:
    with bounded(megabytes=50), pytest.raises(KneeBayesError) as err:
        call(knee_model)
    assert len(str(err.value)) < SHORT


# -- writes: nothing the user had is lost ------------------------------------------------------

WRITERS = {
    "save": "model.save(path)",
    "to_bif": "model.to_bif(path)",
    "to_xmlbif": "model.to_xmlbif(path)",
}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_write_that_fills_the_disk_leaves_the_earlier_file_whole(tmp_path: Path, writer: str) -> None:
    # RLIMIT_FSIZE stands in for a full disk or a quota: writing past 2 kB fails with EFBIG.
    path = tmp_path / "network.out"
    path.write_text("the user's earlier file\n" * 10, encoding="utf-8")
    code = textwrap.dedent(f"""\
        import resource, signal
        import kneebayes
        model = kneebayes.load_model()
        path = {str(path)!r}
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        try:
            {WRITERS[writer]}
        except OSError as exc:
            print("failed:", exc.strerror)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "failed: File too large", out.stderr
    assert path.read_text(encoding="utf-8") == "the user's earlier file\n" * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["network.out"]  # no temporary file left behind


@pytest.mark.parametrize("writer", WRITERS)
def test_a_write_keeps_the_earlier_files_permissions(tmp_path: Path, writer: str, knee_model: kneebayes.Model) -> None:
    path = tmp_path / "network.out"
    path.write_text("earlier", encoding="utf-8")
    path.chmod(0o640)
    eval(WRITERS[writer], {"kneebayes": kneebayes, "model": knee_model, "path": path})
    assert path.stat().st_mode & 0o777 == 0o640 and path.read_text(encoding="utf-8") != "earlier"


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    path = knee_model.save(tmp_path / "new.yaml")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_id_with_an_invisible_character_is_refused(tmp_path: Path) -> None:
    # "str\u200bain" would print exactly like "strain": two ids a reader cannot tell apart
    path = model_file(tmp_path, SMALL.replace("id: strain", 'id: "str\\u200bain"').replace("[strain]", '["str\\u200bain"]'))
    problem = check_model_file(path)[0]   # the nodes that refer to it are reported as well
    assert problem.field == "nodes[1].id" and problem.message.startswith("id must be printable text")


def _table_model(tmp_path: Path, parents: list[str], states: int = 2, columns: list[object] | None = None) -> Path:
    """A model (JSON, which is YAML) whose finding has a full table over ``parents``, each a cause of ``states``."""
    import json

    def prior(v: float) -> dict[str, object]:
        return {"value": v, "range": [v / 2, (1 + v) / 2], "source": "s", "rationale": "r"}

    names = [f"s{k}" for k in range(states)]
    roots = [{"id": p, "label": p, "kind": "cause", "question": f"{p}?",
              **({"prior": prior(0.3)} if states == 2 else {"states": names, "prior": {s: prior(1 / states) for s in names}})}
             for p in dict.fromkeys(parents)]
    finding = {"id": "f", "label": "f", "kind": "finding", "question": "f?",
               "table": {"parents": parents, "columns": columns or [], "source": "s", "rationale": "r"}}
    path = tmp_path / "table.yaml"
    path.write_text(json.dumps({"format": "kneebayes-model/1", "name": "m", "version": "1", "title": "t",
                                "nodes": [*roots, finding]}))
    return path


def test_a_table_over_fifty_parents_without_its_columns_is_one_problem_at_once(tmp_path: Path) -> None:
    path = _table_model(tmp_path, [f"c{k}" for k in range(50)])
    with bounded(megabytes=40):   # it walked 2^50 combinations, one problem each, to a MemoryError
        problems = check_model_file(path)
    assert [p.message for p in problems] == [
        "the table gives 0 columns, but its parents' states (" + " x ".join(["2"] * 50) + ") need "
        "1,125,899,906,842,624: one column per combination"]


def test_a_table_missing_a_few_columns_names_each(tmp_path: Path) -> None:
    column = {"given": {"c0": "yes", "c1": "yes"}, "probabilities": {"yes": 0.5, "no": 0.5}}
    problems = check_model_file(_table_model(tmp_path, ["c0", "c1"], columns=[column]))
    assert [p.message for p in problems] == [f"missing column for {{c0={a}, c1={b}}}"
                                             for a, b in [("yes", "no"), ("no", "yes"), ("no", "no")]]


def test_a_parent_repeated_a_hundred_thousand_times_is_one_problem(tmp_path: Path) -> None:
    with bounded(megabytes=200):
        problems = check_model_file(_table_model(tmp_path, ["c0"] * 100_000))
    assert [p.message for p in problems] == ["parent(s) listed twice: c0"]


@pytest.mark.parametrize("control", ["\\e[2J", "\\a", "\\x9b"])
def test_text_holding_a_terminal_control_character_is_a_problem(tmp_path: Path, control: str) -> None:
    """Text goes to the terminal (kneebayes nodes, diagnose): ESC could clear the screen or set the window title."""
    path = model_file(tmp_path, SMALL.replace('title: "A small model"', f'title: "A small {control}model"'))
    problem = only_problem(path)
    assert problem.field == "title" and problem.message.startswith("title holds the control character ")
    assert problem.message.endswith(", which a terminal would act on; remove it")


def test_text_may_hold_line_breaks_and_tabs(tmp_path: Path) -> None:
    path = model_file(tmp_path, SMALL.replace('title: "A small model"', 'title: "A small\\tmodel\\non two lines"'))
    assert check_model_file(path) == []


def test_skipping_a_node_that_is_no_question_is_refused(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.EvidenceError, match=r"'bakers_cyst' is not a question \(not askable\), so it cannot "
                                                      r"be skipped"):
        knee_model.diagnose({}, skipped=["bakers_cyst"])
