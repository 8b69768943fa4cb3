"""A bucket product as a greedy chain of two-operand steps (network/pair_chain)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kneebayes.network.pair_chain import plan_chain

LETTERS = "bcdefgh"


@st.composite
def products(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """An einsum of 1-5 operands over up to seven letters, each operand's letters distinct, to any output."""
    letters = LETTERS[: draw(st.integers(1, len(LETTERS)))]
    terms = draw(st.lists(st.lists(st.sampled_from(letters), min_size=0, max_size=4, unique=True).map("".join),
                          min_size=1, max_size=5))
    present = sorted(set("".join(terms)))
    output = "".join(draw(st.permutations(draw(st.lists(st.sampled_from(present), unique=True)) if present else [])))
    dims = {c: draw(st.integers(1, 4)) for c in letters}
    return ",".join(terms) + "->" + output, dims


@given(products(), st.integers(0, 2**32 - 1))
def test_a_chain_gives_what_einsum_gives_in_the_outputs_axis_order(case: tuple[str, dict[str, int]], seed: int) -> None:
    subscripts, dims = case
    rng = np.random.default_rng(seed)
    operands = [rng.random([dims[c] for c in term]) for term in subscripts.split("->")[0].split(",")]
    got = plan_chain(subscripts, dims).run(operands)
    expected = np.einsum(subscripts, *operands)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


def test_a_pair_that_sums_nothing_runs_as_a_broadcast_product() -> None:
    chain = plan_chain("bc,cd,e->bcde", {"b": 2, "c": 3, "d": 4, "e": 5})
    assert any(step.spread is not None for step in chain.steps)


def test_no_step_builds_a_table_over_a_letter_it_sums() -> None:
    """Three tables sharing ``b``, summed: each step's result drops ``b`` once no other operand holds it."""
    chain = plan_chain("bcd,bde,bef->cf", {c: 6 for c in "bcdef"})
    kept = [step.subscripts.split("->")[1] for step in chain.steps]
    assert "b" not in kept[-1] and all(len(k) <= 4 for k in kept)
