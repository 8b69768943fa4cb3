"""Compiled pairwise contractions (src/kneebayes/network/contraction.py).

A ``Program`` must compute exactly what ``np.einsum`` computes, for any
subscripts the plans can produce (a batch axis ``a`` in some operands,
axes summed on one side only, pure products, any output order), and hand
back C-contiguous arrays; ``plan_einsum`` must pick a program only where
the work says so.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import scaled

from kneebayes.network.contraction import BATCH_PATH_WORK, compile_program, einsum_of_many, plan_einsum

_AXES = "bcdefg"


@st.composite
def einsums(draw: st.DrawFn) -> tuple[str, list[np.ndarray], list[tuple[int, ...]]]:
    """Random subscripts over a batch axis and up to six others, with operands of random sizes."""
    n_ops = draw(st.integers(2, 5))
    subs = []
    for _ in range(n_ops):
        letters = draw(st.lists(st.sampled_from(_AXES), unique=True, max_size=4))
        if draw(st.booleans()):
            letters.insert(draw(st.integers(0, len(letters))), "a")
        subs.append("".join(letters))
    used = sorted(set("".join(subs)))
    out = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
    sizes = {c: draw(st.integers(1, 3)) for c in _AXES}
    sizes["a"] = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    operands = [rng.random(tuple(sizes[c] for c in s)) for s in subs]
    shapes = [tuple(1 if c == "a" else sizes[c] for c in s) for s in subs]   # what the compiler sees
    return ",".join(subs) + "->" + "".join(out), operands, shapes


@settings(max_examples=scaled(300))
@given(case=einsums())
def test_program_equals_einsum(case: tuple[str, list[np.ndarray], list[tuple[int, ...]]]) -> None:
    subscripts, operands, shapes = case
    path = [(0, 1)] * (len(operands) - 1)   # always pairwise: each result joins the end of the list
    program = compile_program(subscripts, shapes, path)
    assert program is not None
    got = program.run(operands)
    expected = np.einsum(subscripts, *operands)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert got.flags.c_contiguous


@settings(max_examples=scaled(300))
@given(case=einsums(), batch_rows=st.sampled_from([1, 10**6]))
def test_planned_einsum_equals_einsum_whichever_way_it_runs(case: tuple[str, list[np.ndarray], list[tuple[int, ...]]],
                                                            batch_rows: int) -> None:
    subscripts, operands, shapes = case
    step = plan_einsum(tuple(range(len(operands))), subscripts, 0, shapes)
    # batch_rows only steers the choice of program; the operands' own batch size is what runs
    np.testing.assert_allclose(step.run(operands, batch_rows), np.einsum(subscripts, *operands), rtol=1e-12, atol=1e-14)


@settings(max_examples=scaled(300))
@given(case=einsums(), batch_rows=st.sampled_from([1, 10**6]))
def test_planned_einsum_run_into_a_strided_slice_writes_the_einsum_there_and_nothing_else(
        case: tuple[str, list[np.ndarray], list[tuple[int, ...]]], batch_rows: int) -> None:
    subscripts, operands, shapes = case
    step = plan_einsum(tuple(range(len(operands))), subscripts, 0, shapes)
    expected = np.einsum(subscripts, *operands)
    holder = np.full((3, *expected.shape, 2), -1.0)    # the target is a strided slice of a larger array
    step.run_into(operands, batch_rows, holder[1, ..., 0])
    np.testing.assert_allclose(holder[1, ..., 0], expected, rtol=1e-12, atol=1e-14)
    assert (holder[0] == -1.0).all() and (holder[2] == -1.0).all() and (holder[1, ..., 1] == -1.0).all()


def test_a_wide_bucket_always_runs_pairwise() -> None:
    # Ten axes joined at once: the plain loop does 3^10 multiply-adds per row, pairwise far fewer.
    subscripts = "abc,acd,ade,aef,afg,agh,ahi,aij,ajk->ak"
    shapes = [(1, 3, 3)] * 9
    step = plan_einsum(tuple(range(9)), subscripts, 0, shapes)
    assert step.program is not None
    operands = [np.random.default_rng(n).random((2, 3, 3)) for n in range(9)]
    np.testing.assert_allclose(step.run(operands, 2), np.einsum(subscripts, *operands), rtol=1e-12)


def test_a_small_two_operand_product_runs_pairwise_only_for_a_large_batch() -> None:
    step = plan_einsum((0, 1), "ab,abc->ac", 0, [(1, 3), (1, 3, 4)])
    assert step.program is None
    assert step.batch_program is not None
    assert 1 * step.naive_work < BATCH_PATH_WORK <= 10**5 * step.naive_work


def test_a_broadcast_product_runs_as_one_plain_loop_at_any_batch() -> None:
    # Nothing summed: a chain would build the result in several passes, reading the large operand transposed.
    subscripts = "abcdeklhigj,ef,af->abcdfklehigj"
    shapes = [(1, 2, 2, 2, 2, 3, 3, 2, 3, 2, 2), (2, 3), (1, 3)]
    step = plan_einsum((0, 1, 2), subscripts, 3, shapes)
    assert step.program is None and step.batch_program is None and step.path is None
    rng = np.random.default_rng(3)
    for rows in (1, 64):
        operands = [rng.random((rows, *shapes[0][1:])), rng.random(shapes[1]), rng.random((rows, 3))]
        np.testing.assert_allclose(step.run(operands, rows), np.einsum(subscripts, *operands), rtol=1e-12)


def test_a_product_that_sums_an_axis_keeps_its_chain() -> None:
    step = plan_einsum((0, 1), "abcdeklhigj,ef->abcdfklhigj", 2, [(1, 2, 2, 2, 2, 3, 3, 2, 3, 2, 2), (2, 3)])
    assert step.batch_program is not None or step.program is not None


def test_a_repeated_axis_in_one_operand_stays_a_plain_einsum() -> None:
    assert compile_program("abb,ab->a", [(1, 2, 2), (1, 2)], [(0, 1)]) is None


@settings(max_examples=scaled(300))
@given(case=einsums())
def test_a_free_output_is_the_einsum_in_the_order_the_program_names_with_the_batch_axis_first(
        case: tuple[str, list[np.ndarray], list[tuple[int, ...]]]) -> None:
    subscripts, operands, shapes = case
    program = compile_program(subscripts, shapes, [(0, 1)] * (len(operands) - 1), free_output=True)
    assert program is not None
    out = subscripts.split("->")[1]
    assert sorted(program.output) == sorted(out)
    assert "a" not in out or program.output.startswith("a")
    expected = np.einsum(subscripts.split("->")[0] + "->" + program.output, *operands)
    np.testing.assert_allclose(program.run(operands), expected, rtol=1e-12, atol=1e-14)


def test_a_chain_past_numpys_memory_cap_serves_small_batches_and_greedys_order_the_rest() -> None:
    # Insurance's widest step: numpy's greedy order leaves three operands in one group, and split
    # into pairs it builds an intermediate four times the largest operand.
    subscripts = "gfdh,ag,aecdfgi,aehicfg->acdefhi"
    shapes = [(5, 2, 4, 5), (1, 5), (1, 4, 3, 4, 2, 5, 4), (1, 4, 5, 4, 3, 2, 5)]
    step = plan_einsum((0, 1, 2, 3), subscripts, 0, shapes, free_output=True)
    assert step.program is None and step.batch_program is not None
    assert step.max_rows >= 1 and step.path is not None
    assert step.subscripts == subscripts      # its result keeps the fixed order
    rng = np.random.default_rng(7)
    for rows in (1, step.max_rows, step.max_rows + 1, 40):
        operands = [rng.random(tuple(rows if c == "a" else d for c, d in zip(s, shape)))
                    for s, shape in zip(subscripts.split("->")[0].split(","), shapes)]
        np.testing.assert_allclose(step.run(operands, rows), np.einsum(subscripts, *operands), rtol=1e-12)


def test_numpys_order_becomes_pairs_whatever_groups_it_leaves() -> None:
    from kneebayes.network.contraction import path_pairs

    assert path_pairs(["einsum_path", (0, 1), (0, 1, 2)], 4) == [(0, 1), (0, 1), (0, 1)]
    assert path_pairs(["einsum_path", (1, 3), (0, 2)], 4) == [(1, 3), (0, 2)]
    # (0, 2, 3): 0 with 2, then that with 3 (now at position 1 of [1, 3, 0+2]); then numpy's (0, 1)
    assert path_pairs(["einsum_path", (0, 2, 3), (0, 1)], 4) == [(0, 2), (1, 2), (0, 1)]


@settings(max_examples=scaled(50))
@given(n=st.integers(1, 90), seed=st.integers(0, 2**32 - 1))
def test_einsum_of_many_equals_a_product_of_any_number_of_operands(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    letters = "bcde"
    terms = ["".join(sorted(rng.choice(list(letters), size=int(rng.integers(1, 4)), replace=False))) for _ in range(n)]
    dims = {c: int(rng.integers(1, 4)) for c in letters}
    ops = [rng.random(tuple(dims[c] for c in t)) + 0.5 for t in terms]
    output = "".join(sorted(set("".join(terms))))[:2]
    got = einsum_of_many(",".join(terms) + "->" + output, *ops)
    # the reference: one operand at a time, each product kept over every axis seen so far
    acc, seen = ops[0], terms[0]
    for t, op in zip(terms[1:], ops[1:]):
        union = "".join(dict.fromkeys(seen + t))
        acc, seen = np.einsum(f"{seen},{t}->{union}", acc, op), union
    np.testing.assert_allclose(got, np.einsum(f"{seen}->{output}", acc), rtol=1e-10)
