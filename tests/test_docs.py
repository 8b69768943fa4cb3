"""The docs stay true: the API reference is current, links resolve, the pages' code runs, the notebook is clean.

The hand-written pages in ``EXECUTED_PAGES`` are run here block by block,
in a temporary directory: a code block preceded by ``<!-- file: NAME -->``
is written to NAME first; every ``python`` block runs in one namespace per
page, and a ``text`` block right after a ``python`` block is its expected
output (``...`` matches anything, as in a doctest with ELLIPSIS); in a
``bash`` block each ``kneebayes diagnose|check|claims`` line runs through the
CLI, and a ``text`` block right after it is compared the same way. Every
other ``yaml`` block must be a verbatim piece of the page's model file, so
the step-by-step excerpts cannot drift from the whole file.

The tutorial notebook is executed here too, top to bottom in a fresh kernel
(``test_tutorial_runs_from_top_to_bottom_in_a_fresh_kernel``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import functools
import importlib.util
import inspect
import io
import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import kneebayes

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api.md"
NOTEBOOK = DOCS / "tutorial.ipynb"
EXECUTED_PAGES = ["getting-started.md", "your-own-model.md", "how-the-numbers-were-set.md", "interview.md", "learning.md"]
CLI_COMMANDS = {"diagnose", "check", "claims"}   # the ones that need no terminal

# The classes whose public methods and properties the reference must list.
DOCUMENTED_CLASSES = {
    "Model": kneebayes.Model,
    "Diagnosis": kneebayes.Diagnosis,
    "Interview": kneebayes.Interview,
    "Question": kneebayes.Question,
}


def _more_classes() -> dict[str, type]:
    from kneebayes.care import CareAdvice
    from kneebayes.explain import Explanation
    from kneebayes.questions import Rationale
    from kneebayes.triage import Triage

    return {"Triage": Triage, "CareAdvice": CareAdvice, "Explanation": Explanation, "Rationale": Rationale}


def _generator():
    spec = importlib.util.spec_from_file_location("make_api_reference", DOCS / "make_api_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the API reference ----------------------------------------------------------------
def test_api_reference_is_up_to_date() -> None:
    diff = _generator().check(API)
    assert not diff, "docs/api.md is out of date; run `python docs/make_api_reference.py`:\n" + "\n".join(diff[:40])


def test_api_reference_is_deterministic() -> None:
    generator = _generator()
    assert generator.render() == generator.render()
    assert str(ROOT) not in generator.render()


def test_api_reference_check_flags_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "api.md"
    stale.write_text("# API reference\n", encoding="utf-8")
    generator = _generator()
    assert generator.check(stale)
    assert generator.main(["--check", "--output", str(stale)]) == 1
    assert generator.main(["--output", str(stale)]) == 0
    assert generator.main(["--check", "--output", str(stale)]) == 0


@pytest.mark.parametrize("name", kneebayes.__all__)
def test_every_public_name_is_in_the_api_reference(name: str) -> None:
    assert f"### `kneebayes.{name}`" in API.read_text(encoding="utf-8")


def _public_members(cls: type) -> list[str]:
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod)) or hasattr(value, "func"):
            out.append(name)
    return out


@pytest.mark.parametrize("cls_name", [*DOCUMENTED_CLASSES, "Triage", "CareAdvice", "Explanation", "Rationale"])
def test_every_public_member_is_in_the_api_reference(cls_name: str) -> None:
    cls = {**DOCUMENTED_CLASSES, **_more_classes()}[cls_name]
    text = API.read_text(encoding="utf-8")
    missing = [m for m in _public_members(cls) if f"#### `{cls_name}.{m}`" not in text]
    assert not missing, f"{cls_name} members missing from docs/api.md: {missing}"
    if dataclasses.is_dataclass(cls):
        header = next(line for line in text.splitlines() if line.startswith(f"class {cls_name}("))
        assert all(f"{f.name}: " in header for f in dataclasses.fields(cls)), header


# -- links ----------------------------------------------------------------------------
_FENCE = re.compile(r"^(`{3,})[^\n]*\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(markdown: str) -> list[str]:
    """Link and image targets outside code blocks and inline code."""
    return _LINK.findall(re.sub(r"`[^`\n]*`", "", _FENCE.sub("", markdown)))


def _cell_text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)   # the file format allows either


def _markdown_sources() -> list[tuple[str, Path, str]]:
    """(name, folder links resolve against, markdown text) for README, docs/*.md and the notebook's markdown.

    The notebook is read as the JSON it is: this runs while tests are collected, in every worker,
    and importing nbformat (jsonschema and its format checkers) took seconds there.
    """
    out = [(p.relative_to(ROOT).as_posix(), p.parent, p.read_text(encoding="utf-8"))
           for p in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]]
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "\n\n".join(_cell_text(c["source"]) for c in cells if c["cell_type"] == "markdown")
    out.append((NOTEBOOK.relative_to(ROOT).as_posix(), DOCS, text))
    return out


SOURCES = {name: (folder, text) for name, folder, text in _markdown_sources()}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_relative_links_point_to_existing_files(name: str) -> None:
    folder, text = SOURCES[name]
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):   # http:, https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        file = (folder / path).resolve() if path else None
        if file is not None and not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
            continue
        if anchor and (file is None or file.suffix == ".md"):
            heads = anchors(text if file is None else file.read_text(encoding="utf-8"))
            if anchor not in heads:
                broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{name}: " + "; ".join(broken)


def test_slug_follows_github() -> None:
    assert slug("Choices the article did not settle") == "choices-the-article-did-not-settle"
    assert slug("`Model.diagnose`") == "modeldiagnose"
    assert slug("5. Check it: `kneebayes check`") == "5-check-it-kneebayes-check"


# -- the notebook ---------------------------------------------------------------------
@functools.cache   # read and validated once: the schema check alone takes seconds, and three tests read it
def _tutorial_code_cells() -> list:  # type: ignore[type-arg]
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    return [c for c in notebook.cells if c.cell_type == "code"]


def test_tutorial_is_stored_as_one_clean_run_from_top_to_bottom() -> None:
    # Stored with outputs, so the figures show where the notebook is browsed; CI executes it again.
    code = _tutorial_code_cells()
    assert code, "the tutorial has no code"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-execute the whole tutorial before committing it"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_tutorial_outputs_show_no_warning_or_stderr() -> None:
    streams = [o.text for c in _tutorial_code_cells() for o in c.outputs
               if o.output_type == "stream" and o.name == "stderr"]
    assert streams == []


def test_tutorial_outputs_hold_no_absolute_path_or_machine_name() -> None:
    import socket

    texts = [str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + str(o.get("data", {}).get("text/html", ""))
             for c in _tutorial_code_cells() for o in c.outputs]
    found = [m.group(0) for text in texts for m in re.finditer(r"(?<![\w.])/(tmp|home|root|work|usr|opt|var)/\S*", text)]
    assert found == []
    host = re.compile(rf"\b{re.escape(socket.gethostname())}\b")
    assert not [text for text in texts if host.search(text)]


def test_tutorial_runs_from_top_to_bottom_in_a_fresh_kernel() -> None:
    """What a reader does: run every cell in order, from the notebook's folder; any error fails, naming its cell."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(DOCS)}}).execute()
    assert [c.execution_count for c in notebook.cells if c.cell_type == "code"][-1] is not None


def test_tutorial_uses_no_absolute_paths() -> None:
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert not re.search(r"[\"'](/|[A-Za-z]:\\)", source), "use tempfile or relative paths in the tutorial"


# -- the pages' code ------------------------------------------------------------------
@dataclass
class Block:
    lang: str
    code: str
    file: str | None
    line: int


_BLOCK = re.compile(r"(?:<!--\s*file:\s*(?P<file>\S+)\s*-->\s*\n)?^```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^```[ \t]*$",
                    re.MULTILINE | re.DOTALL)


def blocks(markdown: str) -> list[Block]:
    return [Block(m["lang"], m["code"], m["file"], markdown.count("\n", 0, m.start("code")) + 1)
            for m in _BLOCK.finditer(markdown)]


def _same(want: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(want.strip() + "\n", got.strip() + "\n", doctest.ELLIPSIS)


def _run_cli(line: str) -> str:
    from kneebayes.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        main(shlex.split(line)[1:])
    return out.getvalue()


@pytest.mark.parametrize("page", EXECUTED_PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    found = blocks(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["docs"])
    files = {b.file: b for b in found if b.file}
    for b in files.values():
        (tmp_path / b.file).write_text(b.code, encoding="utf-8")
    yaml_files = [b.code for b in files.values() if b.lang == "yaml"]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, b in enumerate(found):
        after = found[i + 1] if i + 1 < len(found) else None
        following = after if after is not None and after.lang == "text" and not after.file else None
        where = f"{page}:{b.line}"
        if b.lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(b.code, where, "exec"), namespace)   # noqa: S102 - the docs' own examples
            if following is not None:
                assert _same(following.code, out.getvalue()), f"{where} printed:\n{out.getvalue()}\nthe page shows:\n{following.code}"
        elif b.lang == "bash":
            outputs = []
            for line in b.code.splitlines():
                command = line.split("  #", 1)[0].strip()
                words = command.split()
                if len(words) >= 2 and words[0] == "kneebayes" and words[1] in CLI_COMMANDS:
                    outputs.append(_run_cli(command))
            if following is not None and outputs:
                got = "".join(outputs)
                assert _same(following.code, got), f"{where} printed:\n{got}\nthe page shows:\n{following.code}"
        elif b.lang == "yaml" and not b.file and yaml_files:
            assert any(b.code in whole for whole in yaml_files), f"{where}: this excerpt is not part of the page's model file"
