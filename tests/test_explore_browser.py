"""kneebayes.explore in a real browser: Voila serves a notebook that calls it, chromium clicks and types.

The server runs on 127.0.0.1 on a free port for this module only and is
stopped by its fixture; every wait has a timeout. The browser is the
system's chromium (Debian's package, which ``.ci/run`` installs), driven
by the Playwright package; Playwright's own browser download is never
used. Where no chromium (or no Voila, or no Playwright) is found, the tests
skip and say which.

The screenshot of the explorer after the changes is written to
``test-artifacts/explorer.png`` under the folder ``KNEEBAYES_ARTIFACTS``
names, or under the test's temporary folder; its path is printed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import kneebayes

pytestmark = pytest.mark.browser

START = {"locking_or_catching": "yes"}
CELL = ("import kneebayes\n"
        f"view = kneebayes.explore(kneebayes.load_model(), {START!r}, nodes=['bakers_cyst', 'meniscal_injury'])\n"
        "view")
SERVER_TIMEOUT = 60.0   # seconds for Voila to answer at all
WAIT_MS = 30_000        # for each thing the page must show


def _chromium() -> str | None:
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(name, os.X_OK):
            return name
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CELL)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "explorer.ipynb"
    nbformat.write(notebook, path)
    return path


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop Voila and its kernel: the process group this fixture started, by its id."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def browser_path() -> str:
    found = _chromium()
    if found is None:
        pytest.skip("no chromium found (/usr/bin/chromium; on Debian: apt-get install -y chromium)")
    for module in ("playwright", "voila"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f"{module} is not installed (pip install '.[test]')")
    return found


@pytest.fixture(scope="module")
def served(browser_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("voila")
    notebook = _notebook(folder)
    port = _free_port()
    log = (folder / "voila.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", notebook.name],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(f"Voila did not start: {(folder / 'voila.log').read_text()[-2000:]}") from None
                time.sleep(0.3)
        yield url
    finally:
        _stop(server)
        log.close()


@pytest.fixture
def page(served: str, browser_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"], timeout=WAIT_MS)
        try:
            tab = browser.new_page(viewport={"width": 1500, "height": 1900})
            tab.set_default_timeout(WAIT_MS)
            tab.goto(served, timeout=WAIT_MS)
            tab.wait_for_selector(".kb-output >> text=claims hold", timeout=WAIT_MS)
            yield tab
        finally:
            browser.close()


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KNEEBAYES_ARTIFACTS", tmp_path)) / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shown(page: object, cause: str) -> object:
    """The posterior the page shows for a cause: the last cell of its bar row."""
    return page.locator(f".kb-output tr[title='{cause}'] td").last  # type: ignore[attr-defined]


def test_clicking_an_answer_and_typing_a_number_show_the_direct_posterior(page: object, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    model = kneebayes.load_model()
    before = model.diagnose(START).posterior["bakers_cyst"]
    expect(_shown(page, "bakers_cyst")).to_have_text(f"{before * 100:.1f}%", timeout=WAIT_MS)

    # click "yes" for swelling behind the knee
    page.locator(".kb-answer-swelling_behind_knee button", has_text="yes").first.click()  # type: ignore[attr-defined]
    answers = {**START, "swelling_behind_knee": "yes"}
    clicked = model.diagnose(answers).posterior["bakers_cyst"]
    expect(_shown(page, "bakers_cyst")).to_have_text(f"{clicked * 100:.1f}%", timeout=WAIT_MS)

    # move the Baker's cyst leak: type into the slider's readout, as a user may
    readout = page.locator(".kb-number").first.locator(".widget-readout")  # type: ignore[attr-defined]
    readout.click()
    page.keyboard.press("Control+A")  # type: ignore[attr-defined]
    page.keyboard.type("0.2")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    moved = model.with_parameters({"bakers_cyst.leak": 0.2}).diagnose(answers).posterior["bakers_cyst"]
    expect(_shown(page, "bakers_cyst")).to_have_text(f"{moved * 100:.1f}%", timeout=WAIT_MS)
    expect(page.locator(".kb-output .kb-changes")).to_contain_text("bakers_cyst.leak", timeout=WAIT_MS)  # type: ignore[attr-defined]

    shot = _artifacts(tmp_path) / "explorer.png"
    page.locator(".kb-explorer-view").screenshot(path=str(shot))  # type: ignore[attr-defined]
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 0
