"""The one warning that names what a network reader skipped: bounded, pointed at the caller's line."""

from __future__ import annotations

import warnings
from pathlib import Path

import kneebayes
from kneebayes.interop.skipped import MAX_KINDS, MAX_NODES, Skipped


def test_the_warning_points_at_the_line_that_loaded_the_network(tmp_path: Path) -> None:
    path = tmp_path / "rain.bif"
    path.write_text("network rain {}\nvariable Rain { type discrete [ 2 ] { yes, no }; property colour = blue; }\n"
                    "probability ( Rain ) { table 0.2, 0.8; }\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kneebayes.load_network(path, targets=["Rain"])
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


def test_a_hostile_number_of_kinds_is_counted_not_listed() -> None:
    skipped = Skipped("net.xml")
    for i in range(10_000):
        skipped.add(f"<E{i}>", "A")
    message = skipped.message()
    assert message.count("<E") == MAX_KINDS and f"... and {10_000 - MAX_KINDS} more of other kinds" in message
    assert len(message) < 1000


def test_each_kind_names_its_first_nodes_and_counts_the_rest() -> None:
    skipped = Skipped("net.xml")
    for node in ("A", "B", "C", "D", "E"):
        skipped.add("PROPERTY 'colour'", node)
    assert MAX_NODES == 3
    assert "PROPERTY 'colour' (5 nodes: 'A', 'B', 'C', ...)" in skipped.message()


def test_a_long_node_name_is_quoted_by_a_bounded_prefix() -> None:
    skipped = Skipped("net.xml")
    skipped.add("PROPERTY 'colour'", "N" * 100_000)
    assert len(skipped.message()) < 400
