"""The ``kneebayes`` command line: its output, exit statuses and errors.

Most tests call the command's ``main(argv)`` in this process (``cli_run.run``);
the first example, ``check`` on a broken file, ``claims`` on a broken claim and
the README's first command run as a real process, through the console script
``kneebayes`` where it is installed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_run import Result, run, run_process

import kneebayes

# A posterior row: "  Label   54.7%  ####" (the bar may be empty for small values).
POSTERIOR_ROW = re.compile(r"\d{1,3}\.\d%\s+#*\s*$")
EXPLAINING = "What your answers point to"
PROBABILITY = "How likely each cause is present:"
COMBINATIONS = "Most probable combinations"

REPO = Path(__file__).resolve().parents[1]
SCRIPT = shutil.which("kneebayes")
LABELS = {
    "hamstring_strain", "popliteus_overload", "tendonitis", "bakers_cyst", "meniscal_injury", "nerve_irritation",
}


def _command(argv0: str = "kneebayes") -> tuple[str, ...]:
    """The console script if installed, else the module it runs."""
    assert argv0 == "kneebayes", argv0
    return (SCRIPT,) if SCRIPT else (sys.executable, "-m", "kneebayes.cli")


def run_script(*args: str) -> Result:
    """``kneebayes ARGS`` as a real process, as a user runs it (content tests read unwrapped lines)."""
    done = run_process(*args, command=_command())
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def labels(knee_model: kneebayes.Model) -> dict[str, str]:
    model = knee_model
    return {c: model.node(c).label for c in model.causes}


@pytest.fixture(scope="module")
def example() -> Result:
    """The example diagnosis, run as a real process: what the tests on it read is what a user sees."""
    return run_script("diagnose", "locking_or_catching=yes", "swelling_behind_knee=yes")


def section(stdout: str, head: str) -> list[str]:
    """The lines from the one starting with ``head`` up to the next blank line."""
    lines = stdout.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(head)), None)
    assert start is not None, f"no line starting with {head!r} in:\n{stdout}"
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def bars(stdout: str) -> list[str]:
    """The posterior rows, under "How likely each cause is present"."""
    return [ln for ln in section(stdout, PROBABILITY)[1:] if POSTERIOR_ROW.search(ln)]


def heads(stdout: str) -> list[str]:
    """The first line of each blank-separated section, as far as its first colon."""
    blocks = stdout.split("\n\n")
    return [b.lstrip("\n").split(":", 1)[0].split(" (", 1)[0] for b in blocks if b.strip()]


# -- diagnose ------------------------------------------------------------------------------


def test_diagnose_exits_zero_and_prints_every_cause_with_a_percentage(
    example: Result, labels: dict[str, str]
) -> None:
    assert example.returncode == 0, example.stderr
    assert example.stderr == ""
    rows = bars(example.stdout)
    for cause, label in labels.items():
        line = next((ln for ln in rows if label in ln), None)
        assert line is not None, f"no line for {cause} ({label!r}) in:\n{example.stdout}"
        assert re.search(r"\b\d{1,3}\.\d%", line), line


def test_diagnose_ranks_meniscal_injury_most_probable_for_locking_and_swelling(
    example: Result, labels: dict[str, str]
) -> None:
    rows = bars(example.stdout)
    assert len(rows) == 6, example.stdout
    assert labels["meniscal_injury"] in rows[0]
    percents = [float(re.search(r"(\d+\.\d)%", r).group(1)) for r in rows]  # type: ignore[union-attr]
    assert percents == sorted(percents, reverse=True)


def test_diagnose_leads_with_what_your_answers_point_to_then_probabilities_then_combinations(
    example: Result
) -> None:
    assert heads(example.stdout)[:7] == [
        "Evidence", EXPLAINING, PROBABILITY.rstrip(":"), COMBINATIONS, "Next question", "Triage", "Care plan"]


@pytest.fixture(scope="module")
def locking() -> Result:
    return run("diagnose", "locking_or_catching=yes")


def test_diagnose_points_to_meniscal_injury_first_for_locking(locking: Result,
                                                               labels: dict[str, str]) -> None:
    assert locking.returncode == 0, locking.stderr
    first = section(locking.stdout, EXPLAINING)[1]
    assert first.startswith(f"  1. {labels['meniscal_injury']}: your answers multiply its odds by ")


def test_diagnose_explaining_lines_are_the_library_in_words(knee_model: kneebayes.Model, locking: Result) -> None:
    from kneebayes.display.words import explaining, percent

    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    rows = explaining(dx)
    lines = section(locking.stdout, EXPLAINING)
    assert lines[0] == "What your answers point to (strongest evidence for a cause first):"
    for i, row in enumerate(rows):
        phrase, detail = lines[1 + 2 * i], lines[2 + 2 * i]
        assert phrase == f"  {i + 1}. {row.name}: {row.words.phrase}"
        strength = "" if row.words.direction == "neither" else f"{row.words.evidence}; "
        assert detail == f"     {strength}now {percent(row.now)}, {percent(row.before)} before any answer"
    assert len(lines) == 1 + 2 * len(rows) + 1   # the note on odds closes the section


def test_diagnose_says_once_that_the_factor_multiplies_the_odds(locking: Result) -> None:
    from kneebayes.display.words import ODDS_NOTE

    assert locking.stdout.count(ODDS_NOTE) == 1
    assert section(locking.stdout, EXPLAINING)[-1] == f"  ({ODDS_NOTE})"


def test_diagnose_lists_three_named_combinations_with_their_probability(knee_model: kneebayes.Model,
    locking: Result, labels: dict[str, str]
) -> None:
    from kneebayes.display.words import percent

    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    expected = [" + ".join(labels[c] for c in combo.present) or "none of the causes"
                for combo in dx.most_probable_combinations(3)]
    lines = section(locking.stdout, COMBINATIONS)
    assert lines[0] == "Most probable combinations:"
    assert lines[1:] == [f"  {i}. {name}: {percent(c.probability)}"
                         for i, (name, c) in enumerate(zip(expected, dx.most_probable_combinations(3)), 1)]
    assert f"{labels['hamstring_strain']} + {labels['meniscal_injury']}" in lines[1]


def test_diagnose_with_no_answers_says_the_answers_point_nowhere_yet() -> None:
    result = run("diagnose")
    assert result.returncode == 0, result.stderr
    assert "What your answers point to: nothing yet, no question answered." in result.stdout
    assert "its odds by" not in result.stdout


def test_diagnose_prints_the_disclaimer_and_the_model(knee_model: kneebayes.Model, example: Result) -> None:
    assert "not a medical diagnosis" in example.stdout
    model = knee_model
    assert f"knee {model.version}" in example.stdout
    assert model.content_hash[:12] in example.stdout
    assert "locking_or_catching=yes" in example.stdout


def test_diagnose_json_is_machine_readable(knee_model: kneebayes.Model) -> None:
    result = run("diagnose", "--json", "locking_or_catching=yes", "swelling_behind_knee=yes")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["posterior"]) == LABELS
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in data["posterior"].values())
    assert max(data["posterior"], key=data["posterior"].get) == "meniscal_injury"
    model = knee_model
    assert data["model"] == {"name": "knee", "version": model.version, "content_hash": model.content_hash}
    assert data["evidence"] == {"locking_or_catching": "yes", "swelling_behind_knee": "yes"}
    assert "not a medical diagnosis" in data["disclaimer"]


def test_diagnose_json_has_the_sections_as_keys_in_the_order_shown(knee_model: kneebayes.Model) -> None:
    result = run("diagnose", "--json", "locking_or_catching=yes")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    keys = list(data)
    assert keys.index("explaining_causes") < keys.index("posterior") < keys.index("most_probable_combinations")
    assert keys.index("most_probable_combinations") < keys.index("next_question")
    expected = knee_model.diagnose({"locking_or_catching": "yes"}).to_dict(full=True)
    assert set(keys) == set(expected) | {"disclaimer"}   # nothing the library's dict lacks but the disclaimer
    assert data["explaining_causes"][0]["cause"] == "meniscal_injury"
    assert data["explaining_causes"] == expected["explaining_causes"]
    assert data["most_probable_combinations"] == expected["most_probable_combinations"]
    assert data["prior"] == expected["prior"] and data["bayes_factor"] == expected["bayes_factor"]


def test_diagnose_json_agrees_with_the_library(knee_model: kneebayes.Model) -> None:
    result = run("diagnose", "--json", "tingling_or_numbness=yes", "limping=no")
    dx = knee_model.diagnose({"tingling_or_numbness": "yes", "limping": "no"})
    assert json.loads(result.stdout)["posterior"] == pytest.approx(dict(dx.posterior), abs=1e-15)


def test_diagnose_with_no_answers_prints_the_priors() -> None:
    result = run("diagnose")
    assert result.returncode == 0, result.stderr
    assert "nothing answered yet" in result.stdout


@pytest.mark.parametrize(("answer", "said"), [
    pytest.param("lockng_or_catching=yes", ["unknown node 'lockng_or_catching'", "did you mean 'locking_or_catching'"],
                 id="unknown_id_suggests_the_real_one"),
    pytest.param("locking_or_catching=maybe",
                 ["cannot read 'maybe' as an answer to 'locking_or_catching': answer yes or no"],
                 id="bad_state_names_the_valid_states"),
    pytest.param("locking", ["cannot read 'locking'", "ID=state"], id="malformed_pair_shows_the_form"),
])
def test_diagnose_a_bad_answer_exits_2_saying_why_without_a_traceback(answer: str, said: list[str]) -> None:
    result = run("diagnose", answer)
    assert result.returncode == 2
    assert result.stdout == ""
    for words in said:
        assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_diagnose_with_another_model_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "pain=yes")
    assert result.returncode == 0, result.stderr
    assert "Strain" in result.stdout
    assert "tiny 0.1" in result.stdout


def _many_causes(path: Path, n: int = 13) -> Path:
    """A model of ``n`` yes/no causes and one finding: 2**13 = 8,192 joint states, past the joint limit."""
    lines = ["format: kneebayes-model/1", "name: many", 'version: "0.1"', 'title: "Many causes"', "nodes:"]
    number = '{value: %s, range: [%s, %s], source: "s", rationale: "r"}'
    for i in range(n):
        lines += [f"  - id: c{i:02d}", f"    label: Cause {i}", "    kind: cause", f'    question: "Cause {i}?"',
                  f"    prior: {number % (0.1, 0.05, 0.2)}"]
    lines += ["  - id: pain", "    label: Pain", "    kind: finding", '    question: "Pain?"', "    noisy_or:",
              f"      leak: {number % (0.05, 0.01, 0.1)}", "      weights:"]
    lines += [f"        c{i:02d}: {number % (0.5, 0.3, 0.7)}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_diagnose_says_in_one_line_when_the_combinations_cannot_be_listed(tmp_path: Path) -> None:
    path = _many_causes(tmp_path / "many.yaml")
    result = run("diagnose", "--model", str(path), "pain=yes")
    assert result.returncode == 0, result.stderr
    assert section(result.stdout, COMBINATIONS) == [
        "Most probable combinations: not listed: the causes have too many joint states to enumerate."]
    assert heads(result.stdout)[1:4] == [EXPLAINING, PROBABILITY.rstrip(":"), COMBINATIONS]


def test_diagnose_json_says_why_the_combinations_are_left_out(tmp_path: Path) -> None:
    path = _many_causes(tmp_path / "many.yaml")
    data = json.loads(run("diagnose", "--json", "--model", str(path), "pain=yes").stdout)
    assert "most_probable_combinations" not in data
    assert data["note"].startswith("most_probable_combinations left out")
    assert len(data["explaining_causes"]) == 13


# -- check ---------------------------------------------------------------------------------

TINY = textwrap.dedent(
    """\
    format: kneebayes-model/1
    name: tiny
    version: "0.1"
    title: "Tiny"
    nodes:
      - id: strain
        label: Strain
        kind: cause
        question: "Did you strain it?"
        prior: {value: 0.3, range: [0.1, 0.5], source: "s", rationale: "r"}
      - id: pain
        label: Pain
        kind: finding
        question: "Does it hurt?"
        noisy_or:
          leak: {value: 0.1, range: [0.05, 0.2], source: "s", rationale: "r"}
          weights:
            strain: {value: 0.8, range: [0.6, 0.95], source: "s", rationale: "r"}
    """
)


def test_check_on_the_packaged_model_prints_ok() -> None:
    result = run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": OK")
    assert "knee.yaml" in result.stdout


def test_check_a_broken_file_exits_1_naming_node_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(TINY.replace("prior: {value: 0.3,", "prior: {value: 1.3,"), encoding="utf-8")
    result = run_script("check", str(path))   # a real process: its exit status is 1
    assert result.returncode == 1
    assert "node 'strain'" in result.stdout
    assert "field 'prior.value'" in result.stdout
    assert "1.3" in result.stdout and "outside [0, 1]" in result.stdout
    assert str(path) in result.stdout
    assert result.stdout.strip().endswith("1 problem(s)")


def test_check_lists_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    text = TINY.replace("prior: {value: 0.3,", "prior: {value: 1.3,").replace("leak: {value: 0.1,", "leak: {value: -0.1,")
    path.write_text(text, encoding="utf-8")
    result = run("check", str(path))
    assert result.returncode == 1
    assert "node 'strain'" in result.stdout and "node 'pain'" in result.stdout
    assert "field 'noisy_or.leak.value'" in result.stdout
    assert result.stdout.strip().endswith("2 problem(s)")


def test_check_a_valid_file_prints_ok(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run("check", str(path))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == f"{path}: OK"


@pytest.mark.parametrize("command", [["check"], ["claims", "--model"]], ids=["check", "claims"])
def test_check_and_claims_of_a_network_file_say_they_read_model_files(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "rain.bif"
    path.write_text("network rain {}\nvariable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.8; }\n", encoding="utf-8")
    result = run(*command, str(path))
    assert result.returncode == 2
    assert f"'{path}' is a network file;" in result.stderr and "model files (YAML)" in result.stderr


# -- claims --------------------------------------------------------------------------------


def test_claims_exits_zero_when_every_claim_holds(knee_model: kneebayes.Model) -> None:
    result = run("claims")
    assert result.returncode == 0, result.stdout
    n = len(knee_model.spec.claims)
    assert result.stdout.splitlines()[0] == f"{n} of {n} claims hold"
    assert "BROKEN" not in result.stdout


def test_claims_exits_one_when_a_claim_breaks(tmp_path: Path) -> None:
    from kneebayes.modelfile.load import default_model_path

    text = default_model_path().read_text(encoding="utf-8")
    weight = "        nerve_irritation:\n          value: expected\n          range: [0.55, 0.95]"
    assert text.count(weight) == 1
    path = tmp_path / "knee.yaml"
    # a tiny weight for tingling <- nerve irritation breaks the tingling claim
    path.write_text(text.replace(weight, "        nerve_irritation:\n          value: 0.002\n          range: [0.001, 0.95]"),
                    encoding="utf-8")
    result = run_script("claims", "--model", str(path))   # a real process: its exit status is 1
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[BROKEN] tingling_points_to_nerve_irritation" in result.stdout
    assert re.match(r"\d+ of \d+ claims hold", result.stdout)


# -- the README's first command ------------------------------------------------------------


def test_the_readme_first_command_runs() -> None:
    lines = [ln.strip() for ln in (REPO / "README.md").read_text(encoding="utf-8").splitlines()]
    first = next((ln for ln in lines if ln.startswith("pip install . && ")), None)
    assert first is not None, "README has no line starting with 'pip install . && '"
    argv = shlex.split(first.split("&& ", 1)[1])
    assert argv[0] == "kneebayes"
    # as a user runs it: the console script in a process of its own, from the repository
    result = subprocess.run([*_command(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "not a medical diagnosis" in result.stdout
    assert len(bars(result.stdout)) == 6
    # the phrase the README quotes is what the command prints
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    quoted = re.search(r'such as "(your answers [^"]+)"', readme)
    assert quoted is not None, "README no longer quotes a phrase of the first command's output"
    assert quoted.group(1) in result.stdout


def test_a_model_without_its_own_disclaimer_gets_a_plain_one_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "pain=yes")
    title = kneebayes.load_model(path).spec.title
    assert f"Decision support from the model '{title}'; not a medical diagnosis." in result.stdout
    assert "knee" not in result.stdout.split("\n")[-2].lower()


def test_python_dash_m_kneebayes_is_the_kneebayes_command() -> None:
    result = subprocess.run([sys.executable, "-m", "kneebayes", "diagnose", "locking_or_catching=yes"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "meniscal" in result.stdout.lower()
