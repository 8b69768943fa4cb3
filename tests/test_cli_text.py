"""kneebayes.cli.text and kneebayes.cli.answers: wrapping, the width, and the words typed as answers."""

from __future__ import annotations

import pytest

from kneebayes.cli.answers import state_for, words_for
from kneebayes.cli.text import MAX_WIDTH, MIN_WIDTH, terminal_width, wrap

LONG = "  1. Hamstring tightness or strain + Hamstring or popliteal tendonitis + Nerve irritation: 10%"


def test_a_short_line_is_left_alone() -> None:
    assert wrap("Triage: See a doctor", 80) == ["Triage: See a doctor"]


@pytest.mark.parametrize("width", [40, 50, 80])
def test_a_wrapped_line_fits_and_keeps_every_word_in_order(width: int) -> None:
    lines = wrap(LONG, width)
    assert len(lines) > 1 and all(len(line) <= width for line in lines)
    assert " ".join(" ".join(lines).split()) == " ".join(LONG.split())


def test_a_list_item_continues_under_its_text() -> None:
    first, *rest = wrap(LONG, 40)
    assert first.startswith("  1. Hamstring")
    assert all(line.startswith("     ") and line[5] != " " for line in rest)


def test_a_plain_indented_line_continues_two_spaces_deeper() -> None:
    lines = wrap("  (answer " + "word " * 30, 40)
    assert all(line.startswith("    ") and line[4] != " " for line in lines[1:])


def test_a_why_line_continues_under_its_reason() -> None:
    lines = wrap("  Why: " + "word " * 30, 40)
    assert all(line.startswith(" " * 7) and line[7] != " " for line in lines[1:])


def test_a_word_longer_than_the_width_is_never_broken() -> None:
    word = "x" * 70
    assert [line.strip() for line in wrap(f"see {word} here", 40)] == ["see", word, "here"]


def test_columns_sets_the_width_and_a_tiny_one_is_raised_to_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert terminal_width() == 132
    monkeypatch.setenv("COLUMNS", "10")
    assert terminal_width() == MIN_WIDTH


def test_without_columns_or_a_terminal_the_width_is_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_width() == 80   # pytest captures stdout: not a terminal
    assert MIN_WIDTH <= 80 <= MAX_WIDTH


@pytest.mark.parametrize("word,state", [("yes", "yes"), ("y", "yes"), ("Y", "yes"), ("true", "yes"),
                                        ("True", "yes"), ("TRUE", "yes"), ("no", "no"), ("n", "no"),
                                        ("False", "no"), (" No ", "no")])
def test_yes_and_no_words_in_any_case_answer_a_yes_no_question(word: str, state: str) -> None:
    assert state_for(("yes", "no"), word) == state


def test_yes_no_words_do_not_answer_a_question_with_other_states() -> None:
    assert state_for(("low", "high"), "y") is None
    assert state_for(("low", "high"), "High") == "high"


def test_an_unknown_word_is_no_state_and_the_valid_words_are_listed() -> None:
    assert state_for(("yes", "no"), "maybe") is None
    assert words_for(("yes", "no")) == "yes or no (y / n, true / false)"
    assert words_for(("low", "mid", "high")) == "low, mid, high"


def test_a_table_row_continues_under_its_column() -> None:
    lines = wrap("  tendonitis    Hamstring or popliteal tendonitis [yes/no] (warning sign)", 40, hang=16)
    assert len(lines) > 1 and all(line.startswith(" " * 16) and line[16] != " " for line in lines[1:])
