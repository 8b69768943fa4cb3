"""The progress bar of long research runs: shown when asked, quiet when told, automatic otherwise."""

from __future__ import annotations

import io

from kneebayes.progress import Progress, should_show


def test_a_forced_bar_counts_to_the_total_and_ends_its_line() -> None:
    out = io.StringIO()
    with Progress(10, enabled=True, label="x", stream=out) as bar:
        for _ in range(10):
            bar.update(1)
    assert out.getvalue().rstrip().endswith("10/10") and out.getvalue().endswith("\n")


def test_a_disabled_bar_writes_nothing() -> None:
    quiet = io.StringIO()
    with Progress(10, enabled=False, stream=quiet) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""


def test_the_automatic_bar_stays_quiet_off_a_terminal() -> None:
    assert should_show(None, io.StringIO()) is False    # not a terminal, not a notebook
    auto = io.StringIO()
    with Progress(10, enabled=None, stream=auto) as bar:
        bar.update(10)
    assert auto.getvalue() == ""
