"""``import kneebayes`` stays light: numpy and the standard library only.

Each check runs in a fresh interpreter, so modules imported by other tests
(pgmpy, networkx, ...) cannot hide a heavy import. No timings are asserted
here: timings live in ``benchmarks/``.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap

HEAVY = ("pgmpy", "pandas", "matplotlib", "networkx", "scipy", "IPython")

# Print the top-level modules that appeared since the script started, after each step.
SCRIPT = textwrap.dedent(
    """\
    import json, sys
    before = set(sys.modules)

    def new():
        return sorted({m.split(".")[0] for m in set(sys.modules) - before})

    steps = {}
    import kneebayes
    steps["import"] = new()
    model = kneebayes.load_model()
    steps["load"] = new()
    dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": True})
    dx.posterior, dx.ranked_causes, str(dx), dx.to_json()
    model.marginals({"limping": "yes"}, nodes=["meniscal_injury"])
    steps["diagnose"] = new()
    import os, tempfile
    from kneebayes.interop.files import to_bif, to_xdsl, to_xmlbif
    folder = tempfile.mkdtemp()
    for write, name in ((to_bif, "k.bif"), (to_xmlbif, "k.xml"), (to_xdsl, "k.xdsl")):
        kneebayes.load_network(write(model, os.path.join(folder, name)), targets=model.causes).diagnose({})
    steps["networks"] = new()
    print(json.dumps(steps))
    """
)


@functools.lru_cache(maxsize=1)
def steps() -> dict[str, list[str]]:
    """One fresh interpreter runs SCRIPT; its report is shared by the tests below."""
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _third_party(modules: list[str]) -> set[str]:
    # "_cython_*" and "cython_runtime" are created by numpy's compiled extensions, not imports of a package
    return {
        m for m in modules
        if m not in sys.stdlib_module_names and m not in sys.builtin_module_names
        and not m.startswith("_cython_") and m != "cython_runtime"
    }


def test_import_loads_nothing_but_kneebayes_until_a_name_is_used() -> None:
    assert _third_party(steps()["import"]) == {"kneebayes"}


def test_loading_the_model_adds_only_the_yaml_reader() -> None:
    assert _third_party(steps()["load"]) <= {"kneebayes", "numpy", "yaml"}


def test_a_first_diagnosis_imports_no_heavy_library() -> None:
    loaded = set(steps()["diagnose"])
    assert loaded.isdisjoint(HEAVY), f"heavy modules imported: {sorted(loaded & set(HEAVY))}"
    assert _third_party(steps()["diagnose"]) <= {"kneebayes", "numpy", "yaml"}


def test_writing_and_loading_network_files_imports_no_heavy_library() -> None:
    assert _third_party(steps()["networks"]) <= {"kneebayes", "numpy", "yaml"}


def test_import_has_no_side_effects_on_logging() -> None:
    code = "import logging; import kneebayes; r = logging.getLogger(); print(len(r.handlers), r.level)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", str(30)]  # no handler added, root level still WARNING
    assert result.stderr == ""
