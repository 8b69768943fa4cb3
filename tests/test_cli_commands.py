"""The friendlier command line: layout at 80 columns, plain words, ``--verbose``, ``nodes``, ``--version``, the
words for yes and no, networks as ``--model``, and Ctrl-C.

Most tests call the command's ``main(argv)`` in this process (``cli_run.run``); ``nodes``, ``--version``, an
unknown id's exit status 2 and Ctrl-C in a terminal run as a real process (``python -m kneebayes.cli``).
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import cli_run
import pytest

import kneebayes
from kneebayes.triage import LEVEL_TITLES

EXAMPLE = ("locking_or_catching=yes", "swelling_behind_knee=yes", "speed_or_hill_work=yes")


def run(*args: str, columns: int = 80, stdin: str = "") -> cli_run.Result:
    """``kneebayes ARGS`` in this process, at 80 columns unless told."""
    return cli_run.run(*args, columns=columns, stdin=stdin)


def run_process(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``kneebayes ARGS`` as a real process, at 80 columns unless told."""
    return cli_run.run_process(*args, columns=columns)


def words(text: str) -> list[str]:
    return text.split()


@pytest.fixture(scope="module")
def pgmpy_networks() -> Path:
    pgmpy = pytest.importorskip("pgmpy")
    return Path(pgmpy.__file__).parent / "utils" / "example_models"


# -- layout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [("diagnose", *EXAMPLE), ("diagnose", "--care", "all", *EXAMPLE),
                                     ("nodes",)], ids=["diagnose", "diagnose-care-all", "nodes"])
def test_every_line_fits_80_columns_and_no_word_is_lost_or_broken(command: tuple[str, ...]) -> None:
    narrow, wide = run(*command, columns=80), run(*command, columns=1000)
    assert narrow.returncode == wide.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    assert words(narrow.stdout) == words(wide.stdout)   # same words, same order: wrapped only between words


def test_the_interview_fits_80_columns() -> None:
    result = run("interview", stdin="no\nyes\nquit\n")
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


# -- plain words and --verbose --------------------------------------------------------------------

def test_a_question_says_why_in_plain_words_and_the_bits_only_with_verbose(knee_model: kneebayes.Model) -> None:
    plain, verbose = run("diagnose", "tingling_or_numbness=yes"), run("diagnose", "--verbose", "tingling_or_numbness=yes")
    dx = knee_model.diagnose({"tingling_or_numbness": "yes"})
    q = dx.next_question
    assert q is not None
    assert "  Why: " in plain.stdout and "bits" not in plain.stdout
    assert f"[{q.id}] expected information gain {q.expected_information_gain:.3f} bits" in verbose.stdout


def test_interview_safety_screen_questions_say_they_are_safety_checks() -> None:
    # answering "no" throughout reaches the screen: its questions say why they are asked
    result = run("interview", "--confidence", "0.5", stdin="no\n" * 40, columns=1000)
    assert result.returncode == 0, result.stderr
    whys = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("Why: ")]
    assert any(w.startswith("Why: A safety check") for w in whys)
    assert "bits" not in result.stdout


def test_interview_verbose_shows_the_numbers_under_each_question() -> None:
    result = run("interview", "--verbose", stdin="quit\n", columns=1000)
    assert re.search(r"^    \[\w+\] expected information gain \d\.\d{3} bits", result.stdout, re.M)


# -- care plan ----------------------------------------------------------------------------------

def test_the_care_plan_is_short_by_default_and_whole_with_care_all(knee_model: kneebayes.Model) -> None:
    from kneebayes.care import split_care

    dx = knee_model.diagnose(dict(a.split("=") for a in EXAMPLE))
    first, rest = split_care(dx.care_plan)
    short, full = run("diagnose", *EXAMPLE, columns=1000), run("diagnose", "--care", "all", *EXAMPLE, columns=1000)
    assert all(item.title in short.stdout for item in first)
    assert not any(f". {item.title}: " in short.stdout for item in rest)
    assert f"({len(rest)} more items" in short.stdout and "--care all" in short.stdout
    assert all(f". {item.title}: " in full.stdout for item in dx.care_plan)


# -- triage words -------------------------------------------------------------------------------

def test_nothing_answered_says_the_safety_screen_is_not_complete_never_self_care() -> None:
    out = run("diagnose", columns=1000).stdout
    assert f"Triage: {LEVEL_TITLES['incomplete']}" in out and "Self-care" not in out


def test_a_network_without_triage_rules_is_not_assessed(pgmpy_networks: Path) -> None:
    out = run("diagnose", "--model", str(pgmpy_networks / "asia.bif.gz"), "--targets", "lung,tub", "smoke=yes",
              columns=1000)
    assert out.returncode == 0, out.stderr
    assert f"Triage: {LEVEL_TITLES['not_assessed']}" in out.stdout and "Self-care" not in out.stdout


def test_json_triage_carries_the_level_and_its_title() -> None:
    data = json.loads(run("diagnose", "--json").stdout)
    assert (data["triage"]["level"], data["triage"]["title"]) == ("incomplete", LEVEL_TITLES["incomplete"])


# -- words for answers ---------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["yes", "y", "true", "True", "YES"])
def test_diagnose_takes_the_same_yes_words_as_the_interview(word: str) -> None:
    result = run("diagnose", "--json", f"locking_or_catching={word}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["evidence"] == {"locking_or_catching": "yes"}


def test_an_unknown_id_with_no_near_match_points_to_kneebayes_nodes() -> None:
    result = run_process("diagnose", "sprnting=yes")   # a real process: exit status 2, the error on stderr
    assert result.returncode == 2
    assert "unknown node 'sprnting'" in result.stderr and "kneebayes nodes" in result.stderr


def test_an_unknown_id_near_a_real_one_is_suggested() -> None:
    result = run("diagnose", "limpng=yes")
    assert "did you mean 'limping'" in result.stderr


# -- nodes and --version -------------------------------------------------------------------------

def test_nodes_lists_every_id_with_label_kind_and_states(knee_model: kneebayes.Model) -> None:
    model = knee_model
    out = run_process("nodes", columns=1000).stdout   # the nodes command as a real process
    for node in model.nodes:
        assert re.search(rf"^  {node.id} +{re.escape(node.label)} \[{'/'.join(node.states)}\]", out, re.M), node.id
    assert out.index("Causes (6):") < out.index("Risk factors (") < out.index("Findings (")
    assert "(warning sign)" in out


def test_nodes_json_is_every_node_with_its_fields(knee_model: kneebayes.Model) -> None:
    model = knee_model
    data = json.loads(run("nodes", "--json").stdout)
    assert [n["id"] for n in data["nodes"]] == [n.id for n in model.nodes]
    flags = {n["id"] for n in data["nodes"] if n["warning_sign"]}
    assert flags == set(model.red_flag_nodes)
    assert {n["kind"] for n in data["nodes"]} == {n.kind for n in model.nodes}


def test_nodes_kind_keeps_only_that_kind(knee_model: kneebayes.Model) -> None:
    data = json.loads(run("nodes", "--json", "--kind", "cause").stdout)
    assert [n["id"] for n in data["nodes"]] == list(knee_model.causes)


def test_version_prints_the_package_version() -> None:
    result = run_process("--version")   # a real process: argparse prints the version and exits 0
    assert result.returncode == 0 and result.stdout.strip() == f"kneebayes {kneebayes.__version__}"


# -- networks as --model -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["asia.bif.gz", "asia.bif", "asia.xml", "asia.xdsl"])
def test_a_network_file_in_each_format_is_a_model_with_targets(name: str, pgmpy_networks: Path,
                                                             tmp_path: Path) -> None:
    source = pgmpy_networks / "asia.bif.gz"
    if name == "asia.bif.gz":
        path = source
    elif name == "asia.bif":
        path = tmp_path / name
        path.write_bytes(gzip.decompress(source.read_bytes()))
    else:
        model = kneebayes.load_bif(str(source), targets=["lung", "tub"])
        path = tmp_path / name
        (model.to_xmlbif if name.endswith(".xml") else model.to_xdsl)(path)
    result = run("diagnose", "--json", "--model", str(path), "--targets", "lung,tub", "smoke=yes", "xray=yes")
    assert result.returncode == 0, result.stderr
    expected = kneebayes.load_bif(str(source), targets=["lung", "tub"]).diagnose({"smoke": "yes", "xray": "yes"})
    assert json.loads(result.stdout)["posterior"] == pytest.approx(dict(expected.posterior), abs=1e-12)


def test_a_network_without_targets_says_to_add_them(pgmpy_networks: Path) -> None:
    result = run("diagnose", "--model", str(pgmpy_networks / "asia.bif.gz"))
    assert result.returncode == 2
    assert "is a network file: add --targets" in result.stderr and "Traceback" not in result.stderr


def test_targets_with_a_yaml_model_is_refused() -> None:
    result = run("diagnose", "--targets", "a,b")
    assert result.returncode == 2 and "--targets is for network files" in result.stderr


def test_nodes_of_a_network_lists_its_ids(pgmpy_networks: Path) -> None:
    data = json.loads(run("nodes", "--json", "--model", str(pgmpy_networks / "asia.bif.gz"),
                          "--targets", "lung").stdout)
    assert {n["id"] for n in data["nodes"]} == {"asia", "tub", "smoke", "lung", "bronc", "either", "xray", "dysp"}


# -- Ctrl-C in a real terminal -----------------------------------------------------------------------

#: The end of every question's prompt, whatever answers it lists: the question is waiting for its answer.
PROMPT_END = b"/skip/undo/quit]"


class _Screen:
    """What a pseudo terminal has shown so far; waits until a text has appeared a number of times."""

    def __init__(self, fd: int) -> None:
        self.fd, self.text = fd, b""

    def wait_for(self, marker: bytes, count: int = 1, limit: float = 120.0) -> bytes:
        end = time.monotonic() + limit
        while self.text.count(marker) < count and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:   # the child closed the terminal
                    break
                if not chunk:
                    break
                self.text += chunk
        # a marker that never comes fails here, not two minutes later on whatever the terminal showed instead
        assert self.text.count(marker) >= count, f"the terminal never showed {marker!r} {count} time(s):\n{self.text!r}"
        return self.text


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty on stdin, as a shell gives a command."""
    # An interactive shell runs a command with SIGINT at its default; a test runner started in the background
    # (`pytest &`) has it ignored, the child would inherit that and Python would then rightly leave Ctrl-C ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo terminal")
def test_ctrl_c_in_a_real_terminal_ends_with_where_things_stand_not_the_care_plan(tmp_path: Path) -> None:
    main, child = pty.openpty()
    save = tmp_path / "s.json"
    env = {**os.environ, "COLUMNS": "1000"}
    proc = subprocess.Popen([sys.executable, "-m", "kneebayes.cli", "interview", "--save", str(save)],
                            stdin=child, stdout=child, stderr=child, env=env, preexec_fn=_own_terminal)
    # The terminal's other end stays open until the child has gone, so reading never ends early in EIO.
    screen = _Screen(main)
    try:
        screen.wait_for(PROMPT_END)
        os.write(main, b"no\n")
        screen.wait_for(PROMPT_END, count=2)   # the second question waits for its answer
        os.write(main, b"\x03")   # Ctrl-C typed at the terminal: its line discipline sends SIGINT
        out = screen.wait_for(b"not a medical diagnosis", count=2).decode("utf-8", "replace")
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(child)
        os.close(main)
    assert status == 130
    assert "Interrupted (Ctrl-C) after 1 question(s)" in out
    assert f"Triage: {LEVEL_TITLES['incomplete']}" in out and "Self-care" not in out
    assert "Care plan" not in out and "Traceback" not in out
    assert json.loads(save.read_text(encoding="utf-8"))["steps"][0]["value"] == "no"


# -- networks: choosing targets, normal states, notes -----------------------------------------------

def test_nodes_of_a_network_without_targets_lists_its_nodes_to_choose_from(pgmpy_networks: Path) -> None:
    path = str(pgmpy_networks / "asia.bif.gz")
    result = run("nodes", "--model", path, columns=1000)
    assert result.returncode == 0, result.stderr
    assert "Root nodes (no parents) (2):" in result.stdout and "Other nodes (6):" in result.stdout
    assert f"kneebayes diagnose --model {path} --targets asia,smoke" in result.stdout
    data = json.loads(run("nodes", "--json", "--model", path).stdout)
    assert {n["id"]: n["parents"] for n in data["nodes"]}["either"] == ["lung", "tub"]


def test_nodes_example_can_be_pasted_for_a_network(pgmpy_networks: Path) -> None:
    path = str(pgmpy_networks / "asia.bif.gz")
    out = run("nodes", "--model", path, "--targets", "lung", columns=1000).stdout
    example = out.strip().splitlines()[-1].split("e.g. ", 1)[1]
    assert example.startswith(f"kneebayes diagnose --model {path} --targets lung ")
    argv = example.split()[2:]
    assert run("diagnose", *argv).returncode == 0


def test_an_unknown_kind_is_an_error_listing_the_kinds() -> None:
    result = run("nodes", "--kind", "Cause")
    assert result.returncode == 2
    assert "no node is of kind 'Cause'; the kinds here are cause, risk_factor, finding" in result.stderr


def test_normal_names_the_no_fault_state_of_a_network_target(pgmpy_networks: Path) -> None:
    path = str(pgmpy_networks / "alarm.bif.gz")
    unnamed = run("diagnose", "--model", path, "--targets", "LVFAILURE", columns=1000)
    named = run("diagnose", "--model", path, "--targets", "LVFAILURE", "--normal", "LVFAILURE=FALSE", columns=1000)
    assert named.returncode == 0, named.stderr
    assert "Stop asking" in unnamed.stdout            # P(FALSE) is high: "confident" with nothing asked
    assert "Next question: " in named.stdout          # with FALSE the no-fault state, there is something to ask


def test_normal_or_targets_with_a_yaml_model_is_refused() -> None:
    result = run("diagnose", "--normal", "a=b")
    assert result.returncode == 2 and "--normal is for network files" in result.stderr


def test_an_importer_warning_is_one_note_line_not_a_python_warning(tmp_path: Path) -> None:
    bif = ("network n { }\nvariable A { type discrete [ 2 ] { yes, no }; }\n"
           "probability ( A ) { table 0.2000001, 0.8; }\n")
    path = tmp_path / "n.bif"
    path.write_text(bif, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "--targets", "A")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("kneebayes: note: ") and ".py:" not in result.stderr


def test_the_interview_of_a_multi_state_network_does_not_ask_for_yes_or_no(pgmpy_networks: Path) -> None:
    result = run("interview", "--model", str(pgmpy_networks / "child.bif.gz"), "--targets", "Disease",
                 stdin="quit\n", columns=1000)
    assert result.returncode == 0, result.stderr
    assert "Answer each question with one of the answers in its brackets" in result.stdout
    assert "yes or no (y / n)" not in result.stdout


def test_all_skips_say_every_question_was_skipped() -> None:
    result = run("interview", stdin="skip\nskip\nquit\n", columns=1000)
    assert "What your answers point to: nothing yet, every question so far was skipped." in result.stdout


def test_normal_without_targets_on_a_network_is_refused_by_nodes(pgmpy_networks: Path) -> None:
    result = run("nodes", "--model", str(pgmpy_networks / "alarm.bif.gz"), "--normal", "LVFAILURE=FALSE")
    assert result.returncode == 2
    assert "--normal names the targets' no-fault states: give it with --targets" in result.stderr


@pytest.mark.parametrize(("option", "why"), [
    (("--verbose",), "--verbose shapes the text output and does nothing with --json (its next_question always holds "
                     "the numbers)"),
    (("--care", "short"), "--care shapes the text output and does nothing with --json (its care_plan lists every "
                          "item, each with 'fits' and 'key')"),
], ids=["verbose", "care"])
def test_an_option_of_the_text_alone_is_refused_with_json(option: tuple[str, ...], why: str) -> None:
    result = run("diagnose", "--json", *option, *EXAMPLE)
    assert result.returncode == 2 and result.stdout == ""
    assert why in result.stderr


def test_normal_naming_a_target_twice_is_refused(pgmpy_networks: Path) -> None:
    path = str(pgmpy_networks / "alarm.bif.gz")
    result = run("diagnose", "--model", path, "--targets", "LVFAILURE", "--normal", "LVFAILURE=FALSE,LVFAILURE=TRUE")
    assert result.returncode == 2
    assert "--normal names 'LVFAILURE' twice; give each target one no-fault state" in result.stderr


CONTROL_BIF = ("network c {}\n"
               "variable A { type discrete [ 2 ] { yes, no\x1bc }; }\n"
               "variable B { type discrete [ 2 ] { yes, no }; }\n"
               "probability ( A ) { table 0.3, 0.7; }\n"
               "probability ( B | A ) { (yes) 0.9, 0.1; (no\x1bc) 0.2, 0.8; }\n")


def test_a_network_state_holding_a_control_character_is_a_problem_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "control.bif"
    path.write_text(CONTROL_BIF, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "--targets", "A")
    assert result.returncode == 2
    assert "has a state holding the control character '\\x1b', which a terminal would act on" in result.stderr
    assert "\x1b" not in result.stderr


def test_listing_a_network_sends_no_control_character_to_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "control.bif"
    path.write_text(CONTROL_BIF, encoding="utf-8")
    result = run("nodes", "--model", str(path))
    assert result.returncode == 0
    assert "[yes/no\\x1bc]" in result.stdout and "\x1b" not in result.stdout


def test_an_option_argparse_refuses_is_one_line() -> None:
    result = run("diagnose", "--confidence", "1.5")
    assert result.returncode == 2
    assert result.stderr == ("kneebayes diagnose: error: argument --confidence: confidence must be a probability in "
                             "(0, 1], got 1.5 (see kneebayes diagnose --help)\n")


def test_check_of_a_missing_file_is_an_error_not_a_problem_report(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("kneebayes: error: ") and "missing.yaml" in result.stderr
