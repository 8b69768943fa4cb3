"""docs/your-own-network.md stays true: its code runs and prints what the page shows.

Every ``python`` block of the page runs in order in one namespace, in a
temporary directory; a ``text`` block right after a ``python`` block is the
output the page promises, compared as a doctest would (``...`` matches
anything). The page imports Win95pts and CHILD from pgmpy's bundled example
files and runs a ten-question printer interview: about 7 s in all.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("pgmpy")

PAGE = Path(__file__).resolve().parent.parent / "docs" / "your-own-network.md"
_BLOCK = re.compile(r"^```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _blocks(markdown: str) -> list[tuple[str, str, int]]:
    """(language, code, line of the code's first line) for every fenced block."""
    return [(m["lang"], m["code"], markdown.count("\n", 0, m.start("code")) + 1) for m in _BLOCK.finditer(markdown)]


def _same(want: str, got: str) -> bool:
    return doctest.OutputChecker().check_output(want.strip() + "\n", got.strip() + "\n", doctest.ELLIPSIS)


def test_the_page_has_code_with_shown_output() -> None:
    found = _blocks(PAGE.read_text(encoding="utf-8"))
    python = [i for i, (lang, _, _) in enumerate(found) if lang == "python"]
    assert len(python) >= 8, "the page lost its examples"
    shown = [i for i in python if i + 1 < len(found) and found[i + 1][0] == "text"]
    assert len(shown) == len(python), "every python block on the page shows its output in a text block after it"


def test_every_python_block_runs_and_prints_what_the_page_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PAGE.read_text(encoding="utf-8")
    found = _blocks(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["docs"])
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, (lang, code, line) in enumerate(found):
        if lang != "python":
            continue
        where = f"{PAGE.name}:{line}"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, where, "exec"), namespace)   # noqa: S102 - the page's own examples
        if i + 1 < len(found) and found[i + 1][0] == "text":
            want = found[i + 1][1]
            assert _same(want, out.getvalue()), f"{where} printed:\n{out.getvalue()}\nthe page shows:\n{want}"
