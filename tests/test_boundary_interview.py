"""The interview at its boundaries: bad settings, damaged saved sessions, shared sessions, the CLI's files and signals.

Every malformed input must end in a :class:`kneebayes.KneeBayesError` whose
message names what is wrong and stays short (a WrongTypeError, also a
TypeError, for a wrong Python type); a session shared between threads loses nothing; and
``kneebayes interview --save`` keeps the answers through a failed write,
SIGTERM or SIGHUP.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scaled

import kneebayes
from kneebayes import cli
from kneebayes.errors import PATH_LIMIT, SettingError, quote
from kneebayes.interview import MAX_SAVED_CHARS, SavedInterviewError

#: The longest message any error here may have: a bounded quote of the input plus the words around it.
MESSAGE_LIMIT = 600
ANSWERED = ("localized_tenderness", "worse_with_activity", "limping")   # three askable knee questions


@pytest.fixture(scope="module")
def model() -> kneebayes.Model:
    return kneebayes.load_model()


@pytest.fixture(scope="module")
def askable(model: kneebayes.Model) -> list[str]:
    return [n.id for n in model.nodes if n.askable]


@pytest.fixture(scope="module")
def saved(model: kneebayes.Model) -> str:
    """A valid saved session: two answers and a skip."""
    session = kneebayes.Interview(model, confidence=0.85)
    session.answer(ANSWERED[0], "no")
    session.skip(ANSWERED[1])
    session.answer(ANSWERED[2], "yes")
    return session.to_json()


def _bounded(err: BaseException) -> str:
    message = str(err)
    assert len(message) <= MESSAGE_LIMIT, f"message of {len(message)} characters: {message[:200]}..."
    return message


def run_process(*args: str, stdin: str = "", **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m kneebayes.cli ARGS``, for what only a real process shows: no traceback at exit, a file
    size limit, signals, a stream closed from the start. Everything else runs in this process (``run``)."""
    # a very wide COLUMNS keeps lines whole for the content checks (tests/test_cli_layout.py checks wrapping)
    kwargs.setdefault("env", {**os.environ, "COLUMNS": "1000"})
    return subprocess.run([sys.executable, "-m", "kneebayes.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, **kwargs)


def main(argv: list[str], stdin: str | io.StringIO = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    """``kneebayes ARGV`` in this process, reading ``stdin``; any exception escaping it fails the test."""
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin) if isinstance(stdin, str) else stdin)
    return cli.main(argv)


# ---------------------------------------------------------------------------------
# Settings, checked when the session is made
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [
    ("confidence", 5), ("confidence", -1), ("confidence", 0.0), ("confidence", math.nan), ("confidence", "x"),
    ("cost_weight", -1e9), ("cost_weight", math.inf), ("min_gain", -0.5), ("min_gain", 10**400),
    ("screen_red_flags", "no"), ("screen_red_flags", None), ("screen_red_flags", 1),
])
def test_interview_refuses_a_bad_setting_at_construction(model: kneebayes.Model, name: str, value: object) -> None:
    with pytest.raises(SettingError) as err:
        kneebayes.Interview(model, **{name: value})  # type: ignore[arg-type]
    assert name in _bounded(err.value)


def test_interview_refuses_a_huge_setting_value_with_a_bounded_message(model: kneebayes.Model) -> None:
    with pytest.raises(SettingError, match="confidence") as err:
        kneebayes.Interview(model, confidence="9" * 100_000)  # type: ignore[arg-type]
    _bounded(err.value)


def test_interview_needs_a_model_object(model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="kneebayes.Model, got str"):
        kneebayes.Interview("knee")  # type: ignore[arg-type]


def test_numpy_settings_are_saved_as_plain_json(model: kneebayes.Model) -> None:
    session = kneebayes.Interview(model, confidence=np.float32(0.75), screen_red_flags=np.bool_(False))  # type: ignore[arg-type]
    options = json.loads(session.to_json())["options"]
    assert options["confidence"] == pytest.approx(0.75) and options["screen_red_flags"] is False


@pytest.mark.parametrize("node", [["limping"], {"a": 1}, 3, None, "x" * 100_000])
def test_answering_a_node_that_is_no_id_raises_unknown_node(model: kneebayes.Model, node: object) -> None:
    session = kneebayes.Interview(model)
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown node") as err:
        session.answer(node, "yes")  # type: ignore[arg-type]
    _bounded(err.value)
    assert session.history == ()


# ---------------------------------------------------------------------------------
# Resuming a saved session
# ---------------------------------------------------------------------------------
def _edit(text: str, change: Callable[[dict[str, Any]], object]) -> str:
    data = json.loads(text)
    change(data)
    return json.dumps(data)


def _set(path: tuple[Any, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        for key in parents:
            data = data[key]
        data[last] = value
    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        for key in parents:
            data = data[key]
        del data[last]
    return change


# (what is changed, the change, the error class, words the message must hold)
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], type[Exception], str]] = [
    ("options-null", _set(("options",), None), SavedInterviewError, "'options' must be a JSON object"),
    ("options-list", _set(("options",), [1]), SavedInterviewError, "'options'"),
    ("steps-null", _set(("steps",), None), SavedInterviewError, "'steps' must be a JSON list"),
    ("steps-object", _set(("steps",), {"a": 1}), SavedInterviewError, "'steps'"),
    ("steps-missing", _drop(("steps",)), SavedInterviewError, "no 'steps'"),
    ("model-list", _set(("model",), [1]), SavedInterviewError, "'model' must be a JSON object"),
    ("model-missing", _drop(("model",)), SavedInterviewError, "no 'model'"),
    ("model-hash-number", _set(("model", "content_hash"), 7), SavedInterviewError, "content_hash"),
    ("model-unknown-key", _set(("model", "hash"), "x"), SavedInterviewError, "unknown key 'hash'"),
    ("top-unknown-key", _set(("answers",), {}), SavedInterviewError, "unknown key 'answers'"),
    ("format-wrong", _set(("format",), "kneebayes-interview/2"), SavedInterviewError, "format should be"),
    ("confidence-negative", _set(("options", "confidence"), -1), SettingError, "confidence"),
    ("confidence-five", _set(("options", "confidence"), 5), SettingError, "confidence"),
    ("confidence-nan", _set(("options", "confidence"), math.nan), SettingError, "confidence"),
    ("confidence-string", _set(("options", "confidence"), "x"), SettingError, "confidence"),
    ("cost-weight-negative", _set(("options", "cost_weight"), -1e9), SettingError, "cost_weight"),
    ("min-gain-list", _set(("options", "min_gain"), [0.1]), SettingError, "min_gain"),
    ("screen-string", _set(("options", "screen_red_flags"), "no"), SettingError, "screen_red_flags"),
    ("option-unknown", _set(("options", "patience"), 3), SettingError, "unknown setting 'patience'"),
    ("step-not-object", _set(("steps", 0), "limping"), SavedInterviewError, "step 1: a step must be a JSON object"),
    ("step-without-node", _drop(("steps", 0, "node")), SavedInterviewError, "step 1: 'node' must be"),
    ("step-node-number", _set(("steps", 1, "node"), 12), SavedInterviewError, "step 2: 'node'"),
    ("step-unknown-action", _set(("steps", 0, "action"), "guess"), SavedInterviewError, "unknown action 'guess'"),
    ("step-unknown-key", _set(("steps", 0, "when"), 1), SavedInterviewError, "unknown key 'when'"),
    ("step-answer-number", _set(("steps", 0, "value"), 3), SavedInterviewError, "must be a state"),
    ("step-answer-invalid", _set(("steps", 0, "value"), "maybe"), SavedInterviewError, "invalid state 'maybe'"),
    ("step-skip-with-value", _set(("steps", 1, "value"), "no"), SavedInterviewError, "a skip of"),
    ("step-unknown-node", _set(("steps", 0, "node"), "limpng"), SavedInterviewError, "unknown node 'limpng'"),
    ("step-twice", _set(("steps", 1), {"action": "answer", "node": ANSWERED[0], "value": "no"}),
     SavedInterviewError, "already answered"),
    ("step-huge-node", _set(("steps", 0, "node"), "x" * 1_000_000), SavedInterviewError, "unknown node 'xxx"),
]


@pytest.mark.parametrize(("change", "error", "words"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_saved_session_raises_naming_what_is_wrong(
    model: kneebayes.Model, saved: str, change: Callable[[dict[str, Any]], None], error: type[Exception], words: str,
) -> None:
    with pytest.raises(error) as err:
        kneebayes.Interview.from_json(model, _edit(saved, change))
    assert isinstance(err.value, kneebayes.KneeBayesError)
    assert words in _bounded(err.value)


NOT_A_SESSION = [
    ("null", "null", "got a JSON null"),
    ("list", "[1]", "got a JSON list"),
    ("number", "3", "got a JSON number"),
    ("string", '"kneebayes-interview/1"', "got a JSON string"),
    ("truncated", '{"format": "kneebayes-interview/1", "mod', "is not JSON"),
    ("empty", "", "is not JSON"),
    ("deeply-nested", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("deeply-nested-in-steps", '{"format": "kneebayes-interview/1", "steps": ' + "[" * 100_000, "nested too deeply"),
    ("huge-integer", '{"format": "kneebayes-interview/1", "x": ' + "9" * 10_000 + "}", "cannot be read as JSON"),
    ("over-the-size-limit", " " * (MAX_SAVED_CHARS + 1), "over the limit"),
    ("duplicate-key", '{"format": "kneebayes-interview/1", "format": "kneebayes-interview/1"}',
     "names the key 'format' twice"),
]


@pytest.mark.parametrize(("text", "words"), [m[1:] for m in NOT_A_SESSION], ids=[m[0] for m in NOT_A_SESSION])
def test_text_that_is_not_a_saved_session_raises_saying_so(model: kneebayes.Model, text: str, words: str) -> None:
    with pytest.raises(SavedInterviewError) as err:
        kneebayes.Interview.from_json(model, text)
    message = _bounded(err.value)
    assert message.startswith("not a saved interview") and words in message


def test_a_key_named_twice_inside_a_saved_step_is_refused_naming_it(model: kneebayes.Model, saved: str) -> None:
    data = json.loads(saved)
    step = data["steps"][0]
    assert step["value"] == "no"
    # the first step answers "no" and then "yes": json.loads alone would keep "yes" without a word
    text = saved.replace('"value": "no"', '"value": "no", "value": "yes"', 1)
    with pytest.raises(SavedInterviewError, match=r"names the key 'value' twice in one JSON object") as err:
        kneebayes.Interview.from_json(model, text)
    _bounded(err.value)


def test_from_json_of_bytes_is_a_type_error(model: kneebayes.Model, saved: str) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="str, got bytes"):
        kneebayes.Interview.from_json(model, saved.encode())  # type: ignore[arg-type]


def test_a_saved_session_without_options_resumes_with_the_model_settings(model: kneebayes.Model, saved: str) -> None:
    resumed = kneebayes.Interview.from_json(model, _edit(saved, _drop(("options",))))
    assert resumed.diagnosis.settings == model.settings
    assert resumed.answers == {ANSWERED[0]: "no", ANSWERED[2]: "yes"}


def test_a_foreign_model_name_is_quoted_bounded(model: kneebayes.Model, saved: str) -> None:
    text = _edit(saved, lambda d: d["model"].update(name="n" * 100_000, version="\x1b[2J", content_hash="0" * 64))
    with pytest.raises(SavedInterviewError, match="was saved with model 'nnn") as err:
        kneebayes.Interview.from_json(model, text)
    assert "\x1b" not in _bounded(err.value)   # a control character is escaped, not sent to the terminal


# -- fuzzing the saved session ----------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
    | st.sampled_from(["answer", "skip", "yes", "no", *ANSWERED, "kneebayes-interview/1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed JSON value, the root included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _resumes_or_refuses(model: kneebayes.Model, text: str) -> None:
    """The one allowed pair of outcomes: a session that saves and resumes again, or a KneeBayesError."""
    try:
        session = kneebayes.Interview.from_json(model, text)
    except kneebayes.KneeBayesError as exc:
        _bounded(exc)
        return
    assert kneebayes.Interview.from_json(model, session.to_json()).to_json() == session.to_json()


@settings(max_examples=scaled(60), suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_level_change_to_a_saved_session_resumes_or_raises_a_kneebayes_error(
    model: kneebayes.Model, saved: str, data: st.DataObject,
) -> None:
    root: Any = json.loads(saved)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        path = data.draw(st.sampled_from(list(_paths(root))), label="path")
        how = data.draw(st.sampled_from(["replace", "delete", "add"]), label="how")
        if not path:
            root = data.draw(JSON_VALUES, label="root") if how == "replace" else root
            continue
        *parents, last = path
        holder = root
        for key in parents:
            holder = holder[key]
        if how == "replace":
            holder[last] = data.draw(JSON_VALUES, label="value")
        elif how == "delete":
            del holder[last]
        else:   # add a key or an element next to this one
            if isinstance(holder, dict):
                holder[data.draw(st.text(max_size=12), label="key")] = data.draw(JSON_VALUES, label="value")
            else:
                holder.insert(last, data.draw(JSON_VALUES, label="value"))
    _resumes_or_refuses(model, json.dumps(root, allow_nan=True))


@settings(max_examples=scaled(60), suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_level_change_to_a_saved_session_resumes_or_raises_a_kneebayes_error(
    model: kneebayes.Model, saved: str, data: st.DataObject,
) -> None:
    text = saved
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        at = data.draw(st.integers(0, len(text)), label="at")
        how = data.draw(st.sampled_from(["truncate", "flip", "insert"]), label="how")
        if how == "truncate":
            text = text[:at]
        else:
            char = data.draw(st.characters(codec="utf-8") | st.sampled_from(list('{}[]",:0-eE.\\ ')), label="char")
            text = text[:at] + char + text[at + (how == "flip"):]
    _resumes_or_refuses(model, text)


# ---------------------------------------------------------------------------------
# One session shared between threads
# ---------------------------------------------------------------------------------
def _in_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in ``n`` threads started together; the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run_one(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:   # noqa: BLE001 - every exception is a finding here
            errors.append(exc)

    threads = [threading.Thread(target=run_one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.parametrize("trial", range(5))
def test_answers_from_eight_threads_are_all_recorded(model: kneebayes.Model, askable: list[str], trial: int) -> None:
    session = kneebayes.Interview(model)
    nodes = askable[:24]

    def work(i: int) -> None:
        for node in nodes[i::8]:
            session.answer(node, "no")
            session.next_question()   # reads the cached diagnosis between other threads' writes

    assert _in_threads(8, work) == []
    assert set(session.answers) == set(nodes) and len(session.history) == len(nodes)
    assert [s.node for s in session.history] == list(session.answers)   # history and answers in the same order
    answers: dict[str, str] = {}
    for step in session.history:   # each step holds the posterior after exactly the answers before it
        answers[step.node] = "no"
        assert dict(step.posterior) == dict(model.diagnose(answers).posterior)
    assert dict(session.diagnosis.posterior) == dict(session.history[-1].posterior)


@pytest.mark.parametrize("trial", range(5))
def test_concurrent_undo_raises_only_nothing_to_undo(model: kneebayes.Model, askable: list[str], trial: int) -> None:
    session = kneebayes.Interview(model)
    for i, node in enumerate(askable[:10]):
        session.skip(node) if i % 3 == 0 else session.answer(node, "no")
    undone = []

    def work(i: int) -> None:
        for _ in range(3):
            try:
                session.undo()
                undone.append(i)
            except kneebayes.KneeBayesError as exc:
                assert "nothing to undo" in str(exc)

    assert _in_threads(8, work) == []
    assert len(undone) == 10
    assert session.history == () and session.answers == {} and session.skipped == ()
    assert dict(session.diagnosis.posterior) == dict(model.diagnose({}).posterior)


def test_to_json_while_threads_answer_always_resumes(model: kneebayes.Model, askable: list[str]) -> None:
    session = kneebayes.Interview(model)
    snapshots: list[str] = []

    def work(i: int) -> None:
        if i == 0:
            for _ in range(20):
                snapshots.append(session.to_json())
        else:
            for node in askable[i - 1:16:3]:
                session.answer(node, "no")

    assert _in_threads(4, work) == []
    for text in snapshots:
        resumed = kneebayes.Interview.from_json(model, text)
        assert list(resumed.answers) == [s["node"] for s in json.loads(text)["steps"]]


# ---------------------------------------------------------------------------------
# The CLI's --answers file
# ---------------------------------------------------------------------------------
def _bad_answers_file(kind: str, folder: Path, saved: str) -> Path:
    path = folder / "answers.json"
    if kind == "not-utf8":
        path.write_bytes(b'{"limping": "\xff\xfe"}')
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        with open(path, "wb") as f:   # sparse: no disk used
            f.truncate(MAX_SAVED_CHARS + 1)
    elif kind == "options-null":
        path.write_text(_edit(saved, _set(("options",), None)), encoding="utf-8")
    elif kind == "steps-null":
        path.write_text(_edit(saved, _set(("steps",), None)), encoding="utf-8")
    elif kind == "deeply-nested":
        path.write_text("[" * 100_000, encoding="utf-8")
    elif kind == "bad-confidence":
        path.write_text(_edit(saved, _set(("options", "confidence"), 5)), encoding="utf-8")
    elif kind == "huge-answer":
        path.write_text(json.dumps({"limping": ["x" * 100_000]}), encoding="utf-8")
    return path


ANSWERS_FILES = [("not-utf8", "not UTF-8"), ("fifo", "not a regular file"), ("directory", "(is a folder|Is a directory)"),
                 ("huge", "over the limit"), ("options-null", "'options' must be"), ("steps-null", "'steps' must be"),
                 ("deeply-nested", "nested too deeply"), ("bad-confidence", "confidence must be"),
                 ("huge-answer", "invalid answer")]


@pytest.mark.parametrize(("kind", "words"), ANSWERS_FILES, ids=[k for k, _ in ANSWERS_FILES])
def test_a_bad_answers_file_is_an_error_with_exit_2(kind: str, words: str, tmp_path: Path, saved: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _bad_answers_file(kind, tmp_path, saved)
    assert main(["interview", "--answers", str(path)], monkeypatch=monkeypatch) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("kneebayes: error: ") and path.name in err and re.search(words, err)
    assert len(err) <= MESSAGE_LIMIT + len(str(path)) * 2


def test_a_bad_answers_file_gives_no_traceback_in_a_real_run(tmp_path: Path, saved: str) -> None:
    path = _bad_answers_file("not-utf8", tmp_path, saved)
    result = run_process("interview", "--answers", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("kneebayes: error: answers file ") and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------
# The CLI's other values
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["diagnose", "interview"])
@pytest.mark.parametrize(("text", "words"), [("nan", "confidence must be a probability in (0, 1], got nan"),
                                             ("5", "confidence must be a probability in (0, 1], got 5.0"),
                                             ("0", "got 0.0"), ("-inf", "got -inf"),
                                             ("x" * 10_000, "not a number: 'xxx")])
def test_a_bad_confidence_is_refused_by_the_settings_check(command: str, text: str, words: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args([command, f"--confidence={text}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err) <= MESSAGE_LIMIT + 400   # argparse's usage line comes first


def test_a_huge_diagnose_answer_is_quoted_bounded(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "x" * 100_000], monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("kneebayes: error: cannot read 'xxx") and len(err) <= MESSAGE_LIMIT


def test_a_folder_given_as_the_model_is_an_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["interview", "--model", str(tmp_path)], monkeypatch=monkeypatch) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("kneebayes: error: ")


# ---------------------------------------------------------------------------------
# The CLI's --save file
# ---------------------------------------------------------------------------------
class _WatchingStdin(io.StringIO):
    """Scripted answers that note, at each prompt, how many steps the --save file holds."""

    def __init__(self, text: str, path: Path) -> None:
        super().__init__(text)
        self.path = path
        self.seen: list[int] = []

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.seen.append(len(json.loads(self.path.read_text(encoding="utf-8"))["steps"]))
        return super().readline(-1 if size is None else size)


def test_save_writes_the_file_before_the_first_question_and_after_every_answer_skip_and_undo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "s.json"
    stdin = _WatchingStdin("no\nskip\nyes\nundo\nquit\n", path)
    assert main(["interview", "--save", str(path)], stdin, monkeypatch=monkeypatch) == 0
    assert stdin.seen == [0, 1, 2, 3, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("where", ["missing-folder", "parent-is-a-file", "is-a-folder"])
def test_a_save_file_that_cannot_be_written_is_reported_before_the_first_question(where: str,
                                                                                   tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    path = {"missing-folder": tmp_path / "nope" / "s.json", "parent-is-a-file": tmp_path / "plain" / "s.json",
            "is-a-folder": tmp_path / "folder"}[where]
    result = run("interview", "--save", str(path), stdin="no\n")
    assert result.returncode == 2
    assert result.stdout == ""   # not a question asked
    assert result.stderr.startswith(f"kneebayes: error: cannot save the interview to {quote(str(path), PATH_LIMIT)}: ")
    assert "nothing was asked" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "plain").read_text(encoding="utf-8") == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "plain"]   # no temporary file left


def _failing_replace(monkeypatch: pytest.MonkeyPatch, succeed: int) -> list[int]:
    """Make os.replace (the last step of write_atomic) work ``succeed`` times, then fail as a full disk does."""
    calls: list[int] = []
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        calls.append(1)
        if len(calls) > succeed:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return calls


def test_an_existing_save_file_is_never_truncated_by_a_failing_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], saved: str,
) -> None:
    path = tmp_path / "s.json"
    path.write_text(saved, encoding="utf-8")   # an earlier interview, resumed: the only kind of file --save replaces
    _failing_replace(monkeypatch, succeed=0)
    assert main(["interview", "--answers", str(path), "--save", str(path)], "no\nno\n", monkeypatch=monkeypatch) == 2
    out, err = capsys.readouterr()
    assert out == "" and "No space left on device" in err
    assert path.read_text(encoding="utf-8") == saved
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_a_save_failing_mid_interview_warns_goes_on_and_exits_2_keeping_the_last_good_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], model: kneebayes.Model,
) -> None:
    path = tmp_path / "s.json"
    _failing_replace(monkeypatch, succeed=2)   # the start and the first answer are saved, nothing after
    assert main(["interview", "--save", str(path)], "no\nno\nno\nquit\n", monkeypatch=monkeypatch) == 2
    out, err = capsys.readouterr()
    assert "Q4. " in out   # it went on asking
    assert err.count("kneebayes: warning: could not save the interview") == 2
    assert f"{path} keeps the answers saved before" in err
    assert "kneebayes: error: cannot save the interview" in err
    resumed = kneebayes.Interview.from_json(model, path.read_text(encoding="utf-8"))
    assert len(resumed.history) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as on Linux")
def test_a_real_file_size_limit_mid_interview_leaves_the_last_good_save(tmp_path: Path,
                                                                      model: kneebayes.Model) -> None:
    import resource

    session = kneebayes.Interview(model)
    q = session.next_question()
    assert q is not None
    session.answer(q.id, "no")
    one = len(session.to_json().encode()) + 1   # the file after one answer; two answers do not fit
    path = tmp_path / "s.json"

    def limit() -> None:   # in the child only: writes past `one` bytes fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (one, one))

    result = run_process("interview", "--save", str(path), stdin="no\nno\nquit\n", preexec_fn=limit)
    assert result.returncode == 2, result.stderr
    assert "kneebayes: warning: could not save the interview" in result.stderr and "Traceback" not in result.stderr
    assert kneebayes.Interview.from_json(model, path.read_text(encoding="utf-8")).answers == {q.id: "no"}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_the_interview_puts_back_the_signal_handlers_it_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    assert main(["interview", "--save", str(tmp_path / "s.json")], "no\nquit\n", monkeypatch=monkeypatch) == 0
    assert {s: signal.getsignal(s) for s in before} == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_interview_ends_it_with_the_answers_saved_and_resumable(
    sig: signal.Signals, tmp_path: Path, model: kneebayes.Model,
) -> None:
    path = tmp_path / "s.json"
    proc = subprocess.Popen([sys.executable, "-m", "kneebayes.cli", "interview", "--save", str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, proc.kill)   # a hang fails the test instead of stalling the run
    watchdog.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("no\nyes\n")   # the pipe stays open: the third question waits for input
        proc.stdin.flush()
        for line in proc.stdout:
            if line.startswith("Q3. "):   # both answers recorded and saved before the third question is shown
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert f"stopped by {sig.name} after 2 question(s); the answers are saved in {path}" in err
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [s["value"] for s in data["steps"]] == ["no", "yes"]
    result = run("interview", "--answers", str(path), stdin="quit\n")
    assert result.returncode == 0, result.stderr
    assert f"Replaying 2 answer(s) from {path}:" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


# ---------------------------------------------------------------------------------
# What --save may replace, empty paths, closed standard streams, keys named twice
# ---------------------------------------------------------------------------------
def _existing_file(kind: str, folder: Path) -> tuple[list[str], Path]:
    """The extra arguments and the --save path for an existing file that is not a saved interview."""
    source = Path(__file__).resolve().parent.parent / "models" / "knee.yaml"
    if kind == "the-model-itself":
        path = folder / "mine.yaml"
        path.write_bytes(source.read_bytes())
        return ["--model", str(path)], path
    if kind == "the-model-by-a-hard-link":
        model = folder / "mine.yaml"
        model.write_bytes(source.read_bytes())
        path = folder / "link.yaml"
        os.link(model, path)
        return ["--model", str(model)], path
    if kind == "plain-answers-resumed":
        path = folder / "answers.json"
        path.write_text(json.dumps({"limping": "no"}), encoding="utf-8")
        return ["--answers", str(path)], path
    path = folder / {"another-model": "knee.yaml", "bif": "net.bif", "readme": "README",
                     "other-json": "other.json", "empty": "empty.json"}[kind]
    content = {"another-model": source.read_text(encoding="utf-8"),
               "bif": "network unknown {\n}\nvariable limping {\n  type discrete [ 2 ] { yes, no };\n}\n",
               "readme": "# My notes\n\nNot to be lost.\n",
               "other-json": json.dumps({"format": "something-else/1", "steps": []}), "empty": ""}[kind]
    path.write_text(content, encoding="utf-8")
    return [], path


NOT_SAVED = "exists and is not a saved interview"
SAVE_REFUSED = [("the-model-itself", "is the model file (--model)"),
                ("the-model-by-a-hard-link", "is the model file (--model)"),
                ("plain-answers-resumed", "is the --answers file, which holds answers but not a saved interview"),
                ("another-model", NOT_SAVED), ("bif", NOT_SAVED), ("readme", NOT_SAVED), ("other-json", NOT_SAVED),
                ("empty", NOT_SAVED)]


@pytest.mark.parametrize(("kind", "words"), SAVE_REFUSED, ids=[k for k, _ in SAVE_REFUSED])
def test_save_never_overwrites_an_existing_file_that_is_not_a_saved_interview(kind: str, words: str,
                                                                              tmp_path: Path) -> None:
    extra, path = _existing_file(kind, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = run("interview", *extra, "--save", str(path), stdin="no\nno\n")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""   # not a question asked
    assert result.stderr == (f"kneebayes: error: --save {quote(str(path), PATH_LIMIT)} {words}; kneebayes will not "
                             f"overwrite it: give --save a new file name (nothing was asked)\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before   # untouched, no temporary file left


def test_save_never_overwrites_the_packaged_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import kneebayes.modelfile.load as load

    packaged = tmp_path / "knee.yaml"   # a stand-in: a failing test must not be able to harm the real one
    packaged.write_bytes(load.default_model_path().read_bytes())
    monkeypatch.setattr(load, "default_model_path", lambda: packaged)
    assert main(["interview", "--save", str(packaged)], "no\n", monkeypatch=monkeypatch) == 2
    out, err = capsys.readouterr()
    assert out == "" and "is the packaged model file; kneebayes will not overwrite it" in err
    assert packaged.read_bytes() == load.default_model_path().read_bytes()


def test_save_may_be_the_answers_file_when_it_is_a_saved_interview(tmp_path: Path, saved: str,
                                                                   model: kneebayes.Model) -> None:
    path = tmp_path / "s.json"
    path.write_text(saved, encoding="utf-8")
    result = run("interview", "--answers", str(path), "--save", str(path), stdin="no\nquit\n")
    assert result.returncode == 0, result.stderr
    assert f"Replaying 3 answer(s) from {path}:" in result.stdout
    resumed = kneebayes.Interview.from_json(model, path.read_text(encoding="utf-8"))
    assert len(resumed.history) == 4 and resumed.options["confidence"] == 0.85   # resumed and kept saving there
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_fifo_device_or_folder_given_as_save_is_refused_at_the_start(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.symlink(os.devnull, path)   # through a link in tmp_path: a regression replaces the link, never /dev/null
    else:
        path.mkdir()
    mode = os.stat(path).st_mode
    # a regression that opened the pipe would wait for a reader: in a process of its own, the timeout ends it
    result = (run_process if kind == "fifo" else run)("interview", "--save", str(path), stdin="no\n")
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    words = "it is a folder" if kind == "folder" else "it is not a regular file (a pipe, socket or device)"
    assert result.stderr.startswith(f"kneebayes: error: cannot save the interview to {quote(str(path), PATH_LIMIT)}: "
                                    f"{words}")
    assert "nothing was asked" in result.stderr
    assert os.stat(path).st_mode == mode and os.path.islink(path) == (kind == "device")   # nothing replaced
    assert [p.name for p in tmp_path.iterdir()] == ["target"]


@pytest.mark.parametrize("args", [("interview", "--save", ""), ("interview", "--answers", ""),
                                  ("interview", "--model", ""), ("diagnose", "--model", ""), ("check", ""),
                                  ("claims", "--model", "")], ids=lambda a: " ".join(a[:2]) or "check")
def test_an_empty_file_name_is_refused_not_ignored(args: tuple[str, ...], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args, stdin="no\nquit\n")
    assert result.returncode == 2 and result.stdout == ""
    option = args[1] if args[1] else "path"
    assert f"error: argument {option}: an empty file name: give the path of a file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _closing(fd: int) -> Callable[[], None]:
    def close() -> None:   # in the child, after its pipes are set up: it starts with the stream closed
        os.close(fd)
    return close


@pytest.mark.parametrize(("args", "fd", "words"), [
    (("interview",), 1, "standard output is closed"), (("interview",), 0, "standard input is closed"),
    (("diagnose", "limping=no"), 1, "standard output is closed"), (("check",), 1, "standard output is closed"),
    (("claims",), 1, "standard output is closed"),
], ids=["interview-stdout", "interview-stdin", "diagnose-stdout", "check-stdout", "claims-stdout"])
def test_a_closed_standard_stream_is_an_error_not_a_traceback(args: tuple[str, ...], fd: int, words: str,
                                                              tmp_path: Path) -> None:
    save = ["--save", str(tmp_path / "s.json")] if args[0] == "interview" else []
    result = subprocess.run([sys.executable, "-m", "kneebayes.cli", *args, *save], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60, preexec_fn=_closing(fd))
    assert result.returncode == 2
    assert result.stderr.startswith(f"kneebayes: error: {words}") and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []   # nothing asked, nothing saved


@pytest.mark.parametrize(("content", "key"), [('{"limping": "yes", "limping": "no"}', "limping"),
                                            ('{"format": "kneebayes-interview/1", "steps": [], "steps": []}', "steps")],
                         ids=["answers-object", "saved-interview"])
def test_a_key_named_twice_in_an_answers_file_is_refused_naming_it(content: str, key: str, tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    result = run("interview", "--answers", str(path), stdin="quit\n")
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert f"answers file {path} " in result.stderr and f"names the key {key!r} twice" in result.stderr


def test_save_never_replaces_another_sessions_answers_unless_it_is_resumed(tmp_path: Path, saved: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(saved, encoding="utf-8")
    result = run("interview", "--save", str(path), stdin="quit\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "holds a saved interview with" in result.stderr and f"add --answers '{path}'" in result.stderr
    assert path.read_text(encoding="utf-8") == saved
    resumed = run("interview", "--answers", str(path), "--save", str(path), stdin="quit\n")
    assert resumed.returncode == 0, resumed.stderr
