"""Optional packages (kneebayes.extras): the core works without them, and each feature that needs one names its extra.

The core install is numpy and PyYAML. Each check runs in a fresh
interpreter in which pandas, matplotlib, networkx, scipy and pgmpy cannot
be imported (a finder placed first on ``sys.meta_path`` refuses them, as a
missing package would), so what other tests import cannot hide a
dependency. One interpreter runs the whole core path and one tries every
optional feature; the tests below read their reports.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap

import pytest
from networks import SMALL_BIF

from kneebayes import MissingExtraError
from kneebayes.extras import EXTRA_OF, require

OPTIONAL = ("pandas", "matplotlib", "networkx", "scipy", "pgmpy")

# Prepended to every script: the optional packages behave as if not installed.
BLOCK = textwrap.dedent(
    f"""\
    import importlib.abc, sys

    class _NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {OPTIONAL!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    """
)

# Every step of the core path, each recorded as "ok" or the error it raised.
CORE = BLOCK + textwrap.dedent(
    f"""\
    import contextlib, io, json, pathlib, sys, tempfile
    report = {{}}

    def step(name, run):
        try:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                value = run()
            report[name] = ["ok", repr(value)[:200], out.getvalue()[:20000]]
        except BaseException as exc:   # SystemExit from the CLI too
            report[name] = [type(exc).__name__, str(exc)[:500], ""]

    import kneebayes
    from kneebayes.research.sampling import sample_cases

    folder = pathlib.Path(tempfile.mkdtemp())
    (folder / "small.bif").write_text({SMALL_BIF!r})
    step("load_model", lambda: kneebayes.load_model().name)
    model = kneebayes.load_model()
    step("diagnose", lambda: model.diagnose({{"locking_or_catching": "yes"}}).ranked_causes[0][0])
    step("diagnosis_text_json_html", lambda: len(str(model.diagnose({{"limping": "yes"}})))
         + len(model.diagnose({{}}).to_json()) + len(model.diagnose({{}}).to_html()))

    def interview():
        session = kneebayes.Interview(model)
        while (question := session.next_question()) is not None:
            session.answer(question.id, "no")
        return kneebayes.Interview.from_json(model, session.to_json()).diagnosis.triage.level

    step("interview", interview)

    def cli(*args, stdin=""):
        from kneebayes.cli import main
        sys.stdin = io.StringIO(stdin)
        return main(list(args))

    step("cli_diagnose", lambda: cli("diagnose", "locking_or_catching=yes", "swelling_behind_knee=yes"))
    step("cli_diagnose_json", lambda: cli("diagnose", "--json", "limping=yes"))
    step("cli_interview", lambda: cli("interview", stdin="no\\n" * 60))
    step("cli_check", lambda: cli("check"))
    step("cli_claims", lambda: cli("claims"))
    step("save_and_check", lambda: kneebayes.check_model_file(model.save(folder / "checked.yaml")))
    step("claims", lambda: model.check_claims().all_held)
    step("parameters_and_changes", lambda: model.diff(model.with_parameters({{"bakers_cyst.leak": 0.06}}))[0].address)
    step("save_and_load", lambda: kneebayes.load_model(model.save(folder / "knee.yaml")).content_hash == model.content_hash)
    step("load_bif", lambda: kneebayes.load_bif(folder / "small.bif", targets=["Fault"])
         .diagnose({{"Light": "off"}}).posterior["Fault"])
    step("write_bif_and_xmlbif", lambda: [kneebayes.load_bif(model.to_bif(folder / "knee.bif"), targets=model.causes)
                                          .diagnose({{"limping": "yes"}}).posterior["meniscal_injury"],
                                          kneebayes.load_bif(model.to_xmlbif(folder / "knee.xml"), targets=model.causes)
                                          .diagnose({{"limping": "yes"}}).posterior["meniscal_injury"],
                                          model.diagnose({{"limping": "yes"}}).posterior["meniscal_injury"]])
    step("sample_cases", lambda: len(sample_cases(model, 3, seed=1)))
    report["optional loaded"] = sorted({{m.partition(".")[0] for m in sys.modules}} & set({OPTIONAL!r}))
    print(json.dumps(report))
    """
)

# Each optional feature, tried once; records the error's type, message and extra.
FEATURES = BLOCK + textwrap.dedent(
    """\
    import json
    import kneebayes
    from kneebayes.display import plots
    from kneebayes.research import intervals, sensitivity

    model = kneebayes.load_model()
    dx = model.diagnose({"locking_or_catching": "yes"})
    ev = {"locking_or_catching": "yes"}


    class LooksLikePgmpy:   # what from_pgmpy checks before it needs pgmpy itself
        def nodes(self):
            return ["x"]

        def get_cpds(self):
            return []

    tries = {
        "plot_posterior": lambda: plots.plot_posterior(dx),
        "plot_network": lambda: plots.plot_network(model),
        "posterior_intervals": lambda: model.posterior_intervals(ev, draws=10),
        "posterior_samples": lambda: intervals.posterior_samples(model, ev, draws=10),
        "top_question_stability": lambda: intervals.top_question_stability(model, ev, draws=2),
        "beta_for_range": lambda: intervals.beta_for_range(0.1, 0.3),
        "sensitivity": lambda: kneebayes.sensitivity(model, ev, cause="meniscal_injury"),
        "sensitivity_function": lambda: sensitivity.sensitivity_function(model, ev, "bakers_cyst", "bakers_cyst.leak"),
        "diagnose_frame": lambda: model.diagnose_frame([ev]),
        "graph": lambda: model.graph,
        "to_pgmpy": lambda: model.to_pgmpy(),
        "from_pgmpy": lambda: kneebayes.from_pgmpy(LooksLikePgmpy(), targets=["x"]),
    }
    report = {}
    for name, run in tries.items():
        try:
            run()
            report[name] = ["no error", "", None]
        except BaseException as exc:
            report[name] = [type(exc).__name__, str(exc)[:300], getattr(exc, "extra", None)]
    print(json.dumps(report))
    """
)

# feature -> (the extra it must name, the package it must name)
EXPECTED = {
    "plot_posterior": ("research", "matplotlib"),
    "plot_network": ("research", "matplotlib"),
    "posterior_intervals": ("research", None),
    "posterior_samples": ("research", None),
    "top_question_stability": ("research", None),
    "beta_for_range": ("research", "scipy"),
    "sensitivity": ("research", "pandas"),
    "sensitivity_function": ("research", "pandas"),
    "diagnose_frame": ("research", "pandas"),
    "graph": ("research", "networkx"),
    "to_pgmpy": ("interop", "pgmpy"),
    "from_pgmpy": ("interop", "pgmpy"),
}


def run(script: str) -> dict[str, list]:  # type: ignore[type-arg]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@functools.lru_cache(maxsize=1)
def core() -> dict[str, list]:  # type: ignore[type-arg]
    return run(CORE)


@functools.lru_cache(maxsize=1)
def features() -> dict[str, list]:  # type: ignore[type-arg]
    return run(FEATURES)


# -- the core path -----------------------------------------------------------------------------

CORE_STEPS = ("load_model", "diagnose", "diagnosis_text_json_html", "interview", "cli_diagnose", "cli_diagnose_json",
              "cli_interview", "cli_check", "cli_claims", "save_and_check", "claims", "parameters_and_changes",
              "save_and_load", "load_bif", "write_bif_and_xmlbif", "sample_cases")


@pytest.mark.parametrize("name", CORE_STEPS)
def test_core_step_works_without_any_optional_package(name: str) -> None:
    kind, value, _ = core()[name]
    assert kind == "ok", f"{name} raised {kind}: {value}"


@pytest.mark.parametrize("name", ["cli_diagnose", "cli_check", "cli_claims", "cli_interview"])
def test_core_cli_command_exits_zero_without_any_optional_package(name: str) -> None:
    kind, value, _ = core()[name]
    assert (kind, value) == ("ok", "0")


def test_core_cli_diagnose_prints_the_diagnosis_without_any_optional_package() -> None:
    _, _, printed = core()["cli_diagnose"]
    assert "meniscal" in printed.lower() and "see a doctor" in printed.lower()


def test_core_diagnosis_and_bif_import_give_the_expected_answers_without_optional_packages() -> None:
    assert core()["diagnose"][1] == "'meniscal_injury'"
    posterior = float(core()["load_bif"][1])
    assert posterior == pytest.approx(0.2 * 0.9 / (0.2 * 0.9 + 0.8 * 0.05), abs=1e-12)


def test_core_bif_and_xmlbif_round_trips_keep_the_posterior_without_optional_packages() -> None:
    values = json.loads(core()["write_bif_and_xmlbif"][1])
    assert values[0] == pytest.approx(values[2], abs=1e-9) and values[1] == pytest.approx(values[2], abs=1e-9)


def test_core_saved_model_file_has_no_problem_without_optional_packages() -> None:
    assert core()["save_and_check"][1] == "[]"


def test_core_path_leaves_no_optional_package_loaded() -> None:
    assert core()["optional loaded"] == []


# -- import kneebayes --------------------------------------------------------------------------

def test_import_kneebayes_loads_no_optional_package() -> None:
    code = ("import json, sys; import kneebayes; "
            "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert loaded.isdisjoint(OPTIONAL), sorted(loaded & set(OPTIONAL))


def test_every_kneebayes_module_imports_without_optional_packages() -> None:
    code = BLOCK + textwrap.dedent(
        """\
        import importlib, json, pkgutil, kneebayes
        failed = {}
        for info in pkgutil.walk_packages(kneebayes.__path__, "kneebayes."):
            if info.name.endswith(".__main__"):   # runs the command line when imported
                continue
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                failed[info.name] = f"{type(exc).__name__}: {exc}"
        print(json.dumps(failed))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


# -- optional features -------------------------------------------------------------------------

@pytest.mark.parametrize("feature", sorted(EXPECTED))
def test_optional_feature_raises_missing_extra_error_naming_its_extra(feature: str) -> None:
    kind, message, extra = features()[feature]
    want_extra, package = EXPECTED[feature]
    assert kind == "MissingExtraError", f"{feature} raised {kind}: {message}"
    assert extra == want_extra
    assert message.endswith(f"install it with: pip install 'kneebayes[{want_extra}]'")
    if package is not None:
        assert f"needs {package}, which is not installed" in message


@pytest.mark.parametrize("feature", ["posterior_intervals", "posterior_samples", "top_question_stability"])
def test_interval_features_name_themselves_in_the_error(feature: str) -> None:
    assert features()[feature][1].startswith(f"{feature} needs ")


def test_plot_error_says_plotting_needs_matplotlib() -> None:
    assert features()["plot_posterior"][1] == ("plotting needs matplotlib, which is not installed; "
                                               "install it with: pip install 'kneebayes[research]'")


# -- require itself ----------------------------------------------------------------------------

def test_require_returns_an_installed_module() -> None:
    assert require("json", "research", "a test").__name__ == "json"


def test_require_names_the_extra_of_a_known_package_by_default() -> None:
    code = BLOCK + textwrap.dedent(
        """\
        from kneebayes.extras import require
        try:
            require("pgmpy.models", feature="exporting")
        except ImportError as exc:
            print(type(exc).__name__, exc.extra, exc.package, "|", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == ("MissingExtraError interop pgmpy | exporting needs pgmpy, which is not installed; "
                                     "install it with: pip install 'kneebayes[interop]'")


def test_require_falls_back_to_the_all_extra_for_an_unknown_package() -> None:
    with pytest.raises(MissingExtraError) as caught:
        require("no_such_package_kb", feature="something")
    assert str(caught.value) == ("something needs no_such_package_kb, which is not installed; "
                                 "install it with: pip install 'kneebayes[all]'")


def test_every_optional_package_has_an_extra() -> None:
    assert {p: EXTRA_OF[p] for p in OPTIONAL} == {
        "pandas": "research", "matplotlib": "research", "networkx": "research", "scipy": "research", "pgmpy": "interop",
    }
