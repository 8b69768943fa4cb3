"""`kneebayes interview` and the new sections of `kneebayes diagnose`, end to end.

Every run goes through the command's ``main(argv)`` with scripted stdin, as a
person at a terminal (or a script piping answers) would use it: in this
process (``cli_run.run``), except the interview answered "no" throughout and a
refused ``--confidence``, which run as a real process (``python -m
kneebayes.cli``) with their answers piped in.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import threading
from pathlib import Path

import pytest
from cli_run import Result, run, run_process
from graded import write_graded

import kneebayes
from kneebayes.care import split_care

QUESTION = re.compile(r"^Q(\d+)\. (.+)$")
BAR = re.compile(r"^  \S.*\s\d{1,3}\.\d%(  #+)?$")
MANY_NOES = "no\n" * 60
EXPLAINING = "What your answers point to"
PROBABILITY = "How likely each "
#: The knee model's prompt at a yes/no question: the states, its graded answers, then the commands.
PROMPT = "[yes/no/probably/not sure/probably not/skip/undo/quit]"


def run_real(*args: str, stdin: str = "") -> Result:
    """``kneebayes ARGS`` as a real process, its answers piped in (content tests read unwrapped lines)."""
    done = run_process(*args, stdin=stdin)
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def model(knee_model: kneebayes.Model) -> kneebayes.Model:
    return knee_model


def disclaimer(model: kneebayes.Model) -> str:
    """The packaged model's own words, which the CLI prints first and last."""
    return model.spec.disclaimer or ""


@pytest.fixture(scope="module")
def question_ids(model: kneebayes.Model) -> dict[str, str]:
    """Question text -> node id, the way a reader of the transcript maps them."""
    return {n.question: n.id for n in model.nodes}


def asked(stdout: str, question_ids: dict[str, str]) -> list[str]:
    """The ids of the questions printed, in order (replayed ones included)."""
    ids = []
    for line in stdout.splitlines():
        m = QUESTION.match(line)
        if m:
            assert m.group(2) in question_ids, f"printed question is no node's question: {line!r}"
            ids.append(question_ids[m.group(2)])
    return ids


def bar_blocks(stdout: str) -> list[list[str]]:
    """The posterior-bar lines under each "How likely ..." heading, in order."""
    lines = stdout.splitlines()
    blocks: list[list[str]] = []
    for i, line in enumerate(lines):
        if line.startswith(PROBABILITY):
            block = []
            for row in lines[i + 1:]:
                if not BAR.match(row):
                    break
                block.append(row)
            blocks.append(block)
    return blocks


def heads_after(stdout: str, line_start: str) -> list[str]:
    """The heading of each blank-separated section after the line starting with ``line_start``."""
    text = stdout[stdout.index("\n" + line_start) + 1:]
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    return [b.lstrip("\n").split(":", 1)[0].split(" (", 1)[0] for b in blocks]


def section(stdout: str, head: str) -> list[str]:
    """The lines from the one starting with ``head`` up to the next blank line."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(head))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def script_for(model: kneebayes.Model, yes_to: set[str]) -> tuple[str, list[str]]:
    """Answers the interview will need (yes only to ``yes_to``), and the question ids in order."""
    session = kneebayes.Interview(model)
    ids: list[str] = []
    while (q := session.next_question()) is not None:
        ids.append(q.id)
        session.answer(q.id, "yes" if q.id in yes_to else "no")
    return "".join("yes\n" if i in yes_to else "no\n" for i in ids), ids


# -- interview -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_no() -> Result:
    """A whole interview answered "no", as a real process: the tests on it read what a person sees."""
    return run_real("interview", stdin=MANY_NOES)


def test_answering_no_to_everything_reaches_the_stop_with_triage_and_care_plan(
    all_no: Result, model: kneebayes.Model, question_ids: dict[str, str]
) -> None:
    assert all_no.returncode == 0, all_no.stderr
    assert all_no.stderr == ""
    out = all_no.stdout
    ids = asked(out, question_ids)
    assert ids and len(ids) == len(set(ids))
    assert set(model.red_flag_nodes) <= set(ids), "the safety screen asks every warning-sign question"
    assert re.search(rf"^Stopped after {len(ids)} question\(s\): ", out, re.M)
    assert "(end of input)" not in out
    assert section(out, "Triage: ")[0] == "Triage: Self-care"   # every warning-sign question answered no
    plan = section(out, "Care plan")
    assert len(plan) > 1 and re.match(r"^\s+1\. .+: .+ \[.+\]$", plan[1])
    assert out.startswith(disclaimer(model) + "\n")
    assert out.rstrip().endswith(disclaimer(model))
    assert "not a medical diagnosis" in disclaimer(model)


def test_each_question_shows_its_choices_and_each_answer_the_bars(
    all_no: Result, model: kneebayes.Model, question_ids: dict[str, str]
) -> None:
    out = all_no.stdout
    n = len(asked(out, question_ids))
    assert out.count(PROMPT) == n
    blocks = bar_blocks(out)
    assert len(blocks) == n + 1  # the prior, one after each answer but the last, then the end screen
    labels = {model.node(c).label for c in model.causes}
    for block in blocks:
        assert len(block) == len(model.causes)
        assert {ln.strip().rsplit("%", 1)[0].rsplit(None, 1)[0] for ln in block} == labels
        percents = [float(re.search(r"(\d+\.\d)%", ln).group(1)) for ln in block]  # type: ignore[union-attr]
        assert percents == sorted(percents, reverse=True)
        for ln, p in zip(block, percents):
            assert abs(ln.count("#") - p / 100 * 30) <= 0.55  # p is the printed, rounded value


def test_each_screen_leads_with_what_your_answers_point_to_before_the_bars(
    all_no: Result
) -> None:
    sections = all_no.stdout.split("\n\n")
    shown = [i for i, b in enumerate(sections) if b.startswith(PROBABILITY)]
    assert shown
    for i in shown:
        assert sections[i - 1].startswith(EXPLAINING), sections[i - 1]


def test_the_first_screen_says_nothing_is_answered_yet(all_no: Result) -> None:
    first = all_no.stdout.split("\n\n")[1]
    assert first == "What your answers point to: nothing yet, no question answered."


def test_a_step_after_an_answer_words_every_cause(all_no: Result,
                                                  model: kneebayes.Model) -> None:
    after_q1 = all_no.stdout.split(PROMPT + " no\n", 1)[1]
    lines = section(after_q1.lstrip("\n"), EXPLAINING)
    assert lines[0] == "What your answers point to (strongest evidence for a cause first):"
    named = [ln for ln in lines if re.match(r"^  \d\. ", ln)]
    assert len(named) == len(model.causes)
    assert all("your answers " in ln for ln in named)


def test_the_end_screen_leads_with_what_your_answers_point_to(all_no: Result) -> None:
    assert heads_after(all_no.stdout, "Stopped after")[:5] == [
        EXPLAINING, "How likely each cause is present", "Most probable combinations", "Triage", "Care plan"]


def test_the_end_screen_words_the_library_diagnosis(model: kneebayes.Model) -> None:
    from kneebayes.display.words import explaining

    stdin, ids = script_for(model, {"locking_or_catching"})
    result = run("interview", stdin=stdin)
    end = result.stdout[result.stdout.index("\nStopped after"):]
    dx = model.diagnose({i: "yes" if i == "locking_or_catching" else "no" for i in ids})
    first = explaining(dx)[0]
    assert first.cause == "meniscal_injury"
    assert section(end.lstrip("\n").split("\n\n", 1)[1], EXPLAINING)[1] == f"  1. {first.name}: {first.words.phrase}"


def test_quitting_early_still_ends_with_what_your_answers_point_to() -> None:
    result = run("interview", stdin="yes\nquit\n")
    assert result.returncode == 0, result.stderr
    assert heads_after(result.stdout, "Ended early")[:3] == [
        EXPLAINING, "How likely each cause is present", "Most probable combinations"]


def test_the_last_answer_is_shown_once_on_the_end_screen(all_no: Result) -> None:
    last_answer = all_no.stdout.rindex(PROMPT + " no")
    between = all_no.stdout[last_answer:all_no.stdout.index("\nStopped after")]
    assert EXPLAINING not in between and PROBABILITY not in between


def test_the_transcript_follows_the_library(all_no: Result, model: kneebayes.Model,
                                            question_ids: dict[str, str]) -> None:
    _, ids = script_for(model, set())
    assert asked(all_no.stdout, question_ids) == ids


def test_a_red_flag_answered_yes_ends_with_see_a_doctor_and_its_reason(
    model: kneebayes.Model, question_ids: dict[str, str]
) -> None:
    stdin, ids = script_for(model, {"locking_or_catching"})
    assert "locking_or_catching" in ids
    result = run("interview", stdin=stdin)
    assert result.returncode == 0, result.stderr
    printed = asked(result.stdout, question_ids)
    assert printed == ids  # so the "yes" went to the locking question and nowhere else
    flag = next(f for f in model.spec.red_flags if f.node == "locking_or_catching")
    assert f"! Warning sign: {flag.text}" in result.stdout  # said at once, not only at the end
    triage = section(result.stdout, "Triage: ")
    assert triage[0] == "Triage: See a doctor"
    assert f"  - {flag.text}" in triage
    assert "Stopped after" in result.stdout


def test_invalid_input_asks_again_without_crashing(question_ids: dict[str, str]) -> None:
    result = run("interview", stdin="maybe\n\nyess\nN\nn\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.count("Please answer yes or no (y / n, true / false), or probably / not sure / probably not, or skip, undo or quit.") == 3
    ids = asked(out, question_ids)
    assert len(ids) == 3  # Q1 answered "N", Q2 answered "n", Q3 quit
    assert ids[0] != ids[1]
    assert out.count(PROMPT) == 3 + 3


def test_undo_restores_the_posterior_before_the_undone_answer(question_ids: dict[str, str]) -> None:
    result = run("interview", stdin="no\nyes\nundo\n")
    assert result.returncode == 0, result.stderr
    blocks = bar_blocks(result.stdout)
    # the prior, after Q1, after Q2, after undo, then the end screen (EOF)
    assert len(blocks) == 5
    assert blocks[3] == blocks[1] == blocks[4]
    assert blocks[2] != blocks[1]
    ids = asked(result.stdout, question_ids)
    assert len(ids) == 4 and ids[3] == ids[1]  # undone at Q3's prompt: Q2 is asked again
    assert "took back your answer 'yes'" in result.stdout


def test_undo_with_nothing_to_undo_says_so(question_ids: dict[str, str]) -> None:
    result = run("interview", stdin="undo\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "Nothing to undo yet." in result.stdout
    assert len(asked(result.stdout, question_ids)) == 1


def test_skip_is_dont_know_and_never_asked_again(question_ids: dict[str, str]) -> None:
    result = run("interview", stdin="skip\n" + MANY_NOES)
    assert result.returncode == 0, result.stderr
    ids = asked(result.stdout, question_ids)
    assert len(ids) == len(set(ids))
    assert "(skipped: not asked again)" in result.stdout


@pytest.mark.parametrize("ending", ["no\nquit\n", "no\n"], ids=["quit", "end-of-input"])
def test_quit_or_end_of_input_still_prints_triage_and_care_plan(model: kneebayes.Model, ending: str) -> None:
    result = run("interview", stdin=ending)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Ended early after 1 question(s)" in out
    # one "no" cannot complete the safety screen: never "Self-care" here
    assert section(out, "Triage: ")[0] in ("Triage: Safety screen not complete", "Triage: See a doctor")
    assert len(section(out, "Care plan")) > 1
    assert out.rstrip().endswith(disclaimer(model))
    # a quit before the screen is done says which warning-sign questions are still open
    assert "still unanswered" in out


def test_answers_file_as_a_mapping_is_replayed_then_the_interview_goes_on(
    tmp_path: Path, model: kneebayes.Model, question_ids: dict[str, str]
) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"locking_or_catching": "yes", "swelling_behind_knee": False,
                                "poor_warmup": None}), encoding="utf-8")
    result = run("interview", "--answers", str(path), stdin="no\nquit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Replaying 3 answer(s) from {path}:" in out
    ids = asked(out, question_ids)
    assert ids[:3] == ["locking_or_catching", "swelling_behind_knee", "poor_warmup"]
    assert len(ids) == 5  # three replayed, one answered, one at which the person quit
    assert "answer from file: yes" in out and "answer from file: no" in out and "answer from file: skip" in out
    expected = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "no"}, skipped=["poor_warmup"])
    first = bar_blocks(out)[0]
    assert first[0].split()[-2] == f"{expected.ranked_causes[0][1]:.1%}"
    assert section(out, "Triage: ")[0] == "Triage: See a doctor"


def test_a_saved_interview_is_replayed_and_save_writes_what_from_json_accepts(
    tmp_path: Path, model: kneebayes.Model, question_ids: dict[str, str]
) -> None:
    session = kneebayes.Interview(model)
    first = session.next_question()
    assert first is not None
    session.answer(first.id, "no")
    second = session.next_question()
    assert second is not None
    session.skip(second.id)
    saved = tmp_path / "saved.json"
    saved.write_text(session.to_json(), encoding="utf-8")
    again = tmp_path / "again.json"
    result = run("interview", "--answers", str(saved), "--save", str(again), stdin=MANY_NOES)
    assert result.returncode == 0, result.stderr
    ids = asked(result.stdout, question_ids)
    assert ids[:2] == [first.id, second.id]
    assert "Stopped after" in result.stdout
    assert f"Saved the interview to {again}" in result.stdout
    resumed = kneebayes.Interview.from_json(model, again.read_text(encoding="utf-8"))
    assert resumed.skipped == (second.id,)
    assert list(resumed.answers) == [i for i in ids if i != second.id]
    assert set(resumed.answers.values()) == {"no"}
    assert resumed.next_question() is None  # it was saved at the stop


def test_save_after_quit_resumes_where_it_ended(tmp_path: Path, model: kneebayes.Model) -> None:
    path = tmp_path / "s.json"
    result = run("interview", "--save", str(path), stdin="yes\nno\nquit\n")
    assert result.returncode == 0, result.stderr
    resumed = kneebayes.Interview.from_json(model, path.read_text(encoding="utf-8"))
    assert list(resumed.answers.values()) == ["yes", "no"]


def test_unknown_id_in_answers_file_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"lockng_or_catching": "yes"}), encoding="utf-8")
    result = run("interview", "--answers", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(path) in result.stderr
    assert "unknown node 'lockng_or_catching'" in result.stderr
    assert "did you mean 'locking_or_catching'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ('{"locking_or_catching": "maybe"}', "invalid state 'maybe'"),
    ('{"locking_or_catching": 3}', "invalid state 3 for node 'locking_or_catching'"),
    ("not json", "is not JSON"),
    ('["locking_or_catching"]', "expected a JSON object"),
    ('{"format": "kneebayes-interview/1", "model": {"content_hash": "0"}, "steps": []}', "was saved with model"),
])
def test_a_bad_answers_file_exits_2_with_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    result = run("interview", "--answers", str(path))
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith("kneebayes: error: answers file ")
    assert "Traceback" not in result.stderr


def test_a_missing_answers_file_exits_2(tmp_path: Path) -> None:
    result = run("interview", "--answers", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "answers file" in result.stderr and "nope.json' does not exist" in result.stderr


def test_no_screen_lets_a_confident_interview_stop_before_the_screen(model: kneebayes.Model,
                                                                     question_ids: dict[str, str]) -> None:
    screened = run("interview", "--confidence", "0.5", stdin="yes\n" * 40)
    unscreened = run("interview", "--confidence", "0.5", "--no-screen", stdin="yes\n" * 40)
    assert screened.returncode == unscreened.returncode == 0
    n_screened = len(asked(screened.stdout, question_ids))
    n_unscreened = len(asked(unscreened.stdout, question_ids))
    assert n_unscreened < n_screened
    assert "Stopped after" in unscreened.stdout and "confident enough" in unscreened.stdout


# -- diagnose's new sections ---------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Result:
    return run("diagnose", "locking_or_catching=yes", "swelling_behind_knee=yes")


def test_diagnose_prints_next_question_triage_and_care_plan(example: Result,
                                                            model: kneebayes.Model) -> None:
    assert example.returncode == 0, example.stderr
    out = example.stdout
    dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
    q = dx.next_question
    assert q is not None and not dx.should_stop
    assert f"Next question: {q.text}" in out
    assert "expected information gain" not in out and "bits" not in out   # the numbers are for --verbose
    assert f"  (answer it with {q.id}=yes/no)" in out
    triage = section(out, "Triage: ")
    assert triage[0] == "Triage: See a doctor"
    assert len(triage) == 1 + len(dx.triage.reasons)
    flag = next(f for f in model.spec.red_flags if f.node == "locking_or_catching")
    assert f"  - {flag.text}" in triage
    plan = section(out, "Care plan")
    first, rest = split_care(dx.care_plan)
    assert rest and len(plan) == 1 + len(first) + 1
    for i, (line, item) in enumerate(zip(plan[1:], first), 1):
        assert line.lstrip().startswith(f"{i}. {item.title}: ")
        assert line.endswith(f"[{item.source}]")
    assert plan[-1] == f"  ({len(rest)} more items: run again with --care all)"
    # the posterior rows stay the only lines with a percentage
    assert sum(1 for ln in out.splitlines() if BAR.match(ln)) == len(model.causes)
    assert out.rstrip().endswith(disclaimer(model))


def test_diagnose_says_when_it_would_stop_and_why() -> None:
    result = run("diagnose", "--confidence", "0.5", "--no-screen", "locking_or_catching=yes", "swelling_behind_knee=yes")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^Stop asking: confident enough: Meniscal injury.* threshold of 50%\.$", result.stdout, re.M)
    assert "the next question would be" in result.stdout
    screened = run("diagnose", "--confidence", "0.5", "locking_or_catching=yes", "swelling_behind_knee=yes")
    assert "Next question: " in screened.stdout  # the safety screen comes first


def test_diagnose_rejects_a_bad_confidence() -> None:
    result = run_real("diagnose", "--confidence", "1.5")   # a real process: argparse exits with status 2
    assert result.returncode == 2
    assert "(0, 1]" in result.stderr


def test_diagnose_json_has_the_full_fields(model: kneebayes.Model) -> None:
    result = run("diagnose", "--json", "locking_or_catching=yes", "limping=no")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("posterior", "evidence", "model", "next_question", "should_stop", "stop_reason", "triage",
                "care_plan", "disclaimer"):
        assert key in data, key
    expected = model.diagnose({"locking_or_catching": "yes", "limping": "no"}).to_dict(full=True)
    assert data["next_question"]["id"] == expected["next_question"]["id"]
    assert data["should_stop"] is False and data["stop_reason"] is None
    assert data["triage"]["level"] == "see_doctor"
    assert [r["trigger"] for r in data["triage"]["reasons"]] == [r["trigger"] for r in expected["triage"]["reasons"]]
    assert [c["id"] for c in data["care_plan"]] == [c["id"] for c in expected["care_plan"]]
    assert data["disclaimer"] == disclaimer(model)


def test_diagnose_names_the_target_that_is_confidently_not_normal(tmp_path: Path) -> None:
    same = (0.02, 0.9, 0.95)        # each finding's P(yes | intact, torn, ruptured)
    path = write_graded(tmp_path / "graded.yaml", title="A three-state fault", damage=(0.9, 0.08, 0.02),
                        findings={"swelling": same, "bruising": same, "limping": same})
    p = 1.0 - kneebayes.load_model(path).diagnose({"swelling": "yes", "bruising": "yes"}).distributions["damage"]["intact"]
    result = run("diagnose", "--model", str(path), "swelling=yes", "bruising=yes")
    assert result.returncode == 0, result.stderr
    assert (f"Stop asking: confident enough: Damage is not intact with probability {p:.0%}, "
            "at or above the confidence threshold of 90%.") in result.stdout


# -- multi-state targets ------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_graded(tmp_path_factory.mktemp("graded") / "graded.yaml", title="A three-state fault",
                        damage=(0.9, 0.08, 0.02), kind=(0.5, 0.3, 0.2),
                        findings={"swelling": (0.02, 0.9, 0.95), "bruising": (0.1, 0.3, 0.9)},
                        red_flags={"bruising": "Bruising needs a look"})


def test_diagnose_on_multi_state_targets_names_target_and_state(graded_path: Path) -> None:
    result = run("diagnose", "--model", str(graded_path), "swelling=yes")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    dx = kneebayes.load_model(graded_path).diagnose({"swelling": "yes"})
    state = dx.explaining_states["damage"]
    lines = section(result.stdout, EXPLAINING)
    assert lines[1].startswith(f"  1. Damage = {state}: your answers multiply its odds by ")
    assert lines[3] == "  2. Kind = a: your answers say little about it"   # no normal state: its likeliest
    assert section(result.stdout, "How likely each state of each cause is")[1].startswith("  Damage = intact")
    assert section(result.stdout, "Most probable combinations")[1].startswith(f"  1. Damage = {state} + Kind = a: ")


def test_diagnose_json_on_multi_state_targets_has_the_sections(graded_path: Path) -> None:
    result = run("diagnose", "--json", "--model", str(graded_path), "swelling=yes")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "posterior" not in data   # multi-state targets have distributions only
    assert [e["cause"] for e in data["explaining_causes"]] == ["damage", "kind"]
    assert data["most_probable_combinations"][0]["states"]["damage"] == data["explaining_causes"][0]["state"]


def test_interview_on_multi_state_targets_runs_to_the_end(graded_path: Path) -> None:
    result = run("interview", "--model", str(graded_path), stdin="yes\nno\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert heads_after(result.stdout, "Stopped after")[:5] == [
        EXPLAINING, "How likely each state of each cause is", "Most probable combinations", "Triage", "Care plan"]
    assert re.search(r"^  1\. Damage = (torn|ruptured): your answers multiply its odds by ", result.stdout, re.M)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs a POSIX terminal and pthread_kill")
def test_a_ctrl_c_taken_by_another_thread_ends_the_wait_for_an_answer_before_any_input() -> None:
    # The terminal's SIGINT may land on a BLAS worker thread; a blocking read would then wait for Enter.
    from kneebayes.cli.interview import wait_for_a_line

    main, child = pty.openpty()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupted = threading.Event()
    typed: list[bytes] = []

    def another_thread() -> None:
        interrupted.wait(0.3)   # let the main thread reach its wait
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)   # taken here, not by the main thread
        if not interrupted.wait(5.0):   # no interrupt yet: answer, so that a broken wait ends instead of hanging
            typed.append(b"no\n")
            os.write(main, b"no\n")

    worker = threading.Thread(target=another_thread, daemon=True)
    try:
        with open(child, encoding="utf-8", closefd=False) as terminal:
            with pytest.raises(KeyboardInterrupt):
                worker.start()
                wait_for_a_line(terminal)
            interrupted.set()
    finally:
        signal.signal(signal.SIGINT, previous)
        worker.join()
        os.close(main)
        os.close(child)
    assert typed == []   # the interrupt ended the wait, not an answer


def test_a_state_is_matched_as_typed_before_any_case(tmp_path: Path) -> None:
    """States 'True' and 'true' are two answers: the typed line was lower-cased first, so 'True' could not be given."""
    path = tmp_path / "case.bif"
    path.write_text("network c {}\n"
                    "variable T { type discrete [ 2 ] { yes, no }; }\n"
                    "variable F { type discrete [ 2 ] { True, true }; }\n"
                    "probability ( T ) { table 0.5, 0.5; }\n"
                    "probability ( F | T ) { (yes) 0.9, 0.1; (no) 0.2, 0.8; }\n", encoding="utf-8")
    saved = tmp_path / "session.json"
    result = run("interview", "--model", str(path), "--targets", "T", "--save", str(saved), stdin="True\nquit\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(saved.read_text(encoding="utf-8"))["steps"][0]["value"] == "True"
