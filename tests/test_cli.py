"""The ``kneebayes`` command line, run as a user runs it: in a subprocess."""

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

import kneebayes

# A posterior row: "  Label   54.7%  ####" (the bar may be empty for small values).
POSTERIOR_ROW = re.compile(r"\d{1,3}\.\d%\s+#*\s*$")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = shutil.which("kneebayes")
LABELS = {
    "hamstring_strain", "popliteus_overload", "tendonitis", "bakers_cyst", "meniscal_injury", "nerve_irritation",
}


def _command(argv0: str = "kneebayes") -> list[str]:
    """The console script if installed, else the module it runs."""
    assert argv0 == "kneebayes", argv0
    return [SCRIPT] if SCRIPT else [sys.executable, "-m", "kneebayes.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture(scope="module")
def labels() -> dict[str, str]:
    model = kneebayes.load_model()
    return {c: model.node(c).label for c in model.causes}


@pytest.fixture(scope="module")
def example() -> subprocess.CompletedProcess[str]:
    return run("diagnose", "locking_or_catching=yes", "swelling_behind_knee=yes")


# -- diagnose ------------------------------------------------------------------------------


def test_diagnose_exits_zero_and_prints_every_cause_with_a_percentage(
    example: subprocess.CompletedProcess[str], labels: dict[str, str]
) -> None:
    assert example.returncode == 0, example.stderr
    assert example.stderr == ""
    for cause, label in labels.items():
        line = next((ln for ln in example.stdout.splitlines() if label in ln), None)
        assert line is not None, f"no line for {cause} ({label!r}) in:\n{example.stdout}"
        assert re.search(r"\b\d{1,3}\.\d%", line), line


def test_diagnose_ranks_meniscal_injury_first_for_locking_and_swelling(
    example: subprocess.CompletedProcess[str], labels: dict[str, str]
) -> None:
    rows = [ln for ln in example.stdout.splitlines() if POSTERIOR_ROW.search(ln)]
    assert len(rows) == 6, example.stdout
    assert labels["meniscal_injury"] in rows[0]
    percents = [float(re.search(r"(\d+\.\d)%", r).group(1)) for r in rows]  # type: ignore[union-attr]
    assert percents == sorted(percents, reverse=True)


def test_diagnose_prints_the_disclaimer_and_the_model(example: subprocess.CompletedProcess[str]) -> None:
    assert "not a medical diagnosis" in example.stdout
    model = kneebayes.load_model()
    assert f"knee {model.version}" in example.stdout
    assert model.content_hash[:12] in example.stdout
    assert "locking_or_catching=yes" in example.stdout


def test_diagnose_json_is_machine_readable() -> None:
    result = run("diagnose", "--json", "locking_or_catching=yes", "swelling_behind_knee=yes")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["posterior"]) == LABELS
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in data["posterior"].values())
    assert max(data["posterior"], key=data["posterior"].get) == "meniscal_injury"
    model = kneebayes.load_model()
    assert data["model"] == {"name": "knee", "version": model.version, "content_hash": model.content_hash}
    assert data["evidence"] == {"locking_or_catching": "yes", "swelling_behind_knee": "yes"}
    assert "not a medical diagnosis" in data["disclaimer"]


def test_diagnose_json_agrees_with_the_library() -> None:
    result = run("diagnose", "--json", "tingling_or_numbness=yes", "limping=no")
    dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes", "limping": "no"})
    assert json.loads(result.stdout)["posterior"] == pytest.approx(dict(dx.posterior), abs=1e-15)


def test_diagnose_with_no_answers_prints_the_priors() -> None:
    result = run("diagnose")
    assert result.returncode == 0, result.stderr
    assert "nothing answered yet" in result.stdout


def test_diagnose_unknown_id_exits_2_and_suggests_the_real_one() -> None:
    result = run("diagnose", "lockng_or_catching=yes")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown node 'lockng_or_catching'" in result.stderr
    assert "did you mean 'locking_or_catching'" in result.stderr
    assert "Traceback" not in result.stderr


def test_diagnose_bad_state_exits_2_and_names_the_valid_states() -> None:
    result = run("diagnose", "locking_or_catching=maybe")
    assert result.returncode == 2
    assert "invalid state 'maybe'" in result.stderr
    assert "'locking_or_catching'" in result.stderr
    assert "'yes', 'no'" in result.stderr
    assert "Traceback" not in result.stderr


def test_diagnose_malformed_pair_exits_2_and_shows_the_form() -> None:
    result = run("diagnose", "locking")
    assert result.returncode == 2
    assert "cannot read 'locking'" in result.stderr
    assert "ID=state" in result.stderr
    assert "Traceback" not in result.stderr


def test_diagnose_with_another_model_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "pain=yes")
    assert result.returncode == 0, result.stderr
    assert "Strain" in result.stdout
    assert "tiny 0.1" in result.stdout


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
    result = run("check", str(path))
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


# -- claims --------------------------------------------------------------------------------


def test_claims_exits_zero_when_every_claim_holds() -> None:
    result = run("claims")
    assert result.returncode == 0, result.stdout
    n = len(kneebayes.load_model().spec.claims)
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
    result = run("claims", "--model", str(path))
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
    result = subprocess.run([*_command(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "not a medical diagnosis" in result.stdout
    assert sum(1 for ln in result.stdout.splitlines() if POSTERIOR_ROW.search(ln)) == 6


def test_a_model_without_its_own_disclaimer_gets_a_plain_one_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run("diagnose", "--model", str(path), "pain=yes")
    title = kneebayes.load_model(path).spec.title
    assert f"Decision support from the model '{title}'; not a medical diagnosis." in result.stdout
    assert "knee" not in result.stdout.split("\n")[-2].lower()
