"""One elimination step as an einsum: the subscripts of its operands and result, written once.

The compiled network's plans (``network.compiled``) and the draw-batched
plans of posterior intervals and sensitivity (``research.draw_engine``)
emit their steps through :func:`step_subscripts`; each keeps its own slots.
An operand is a scope (the variables of its axes, in order) and whether it
carries the batch axis (evidence rows, or parameter draws), written ``a``
and always first.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_OPERANDS", "BATCH_LETTER", "step_subscripts"]

#: numpy's einsum takes at most 32 operands; a bucket with more is multiplied in chunks of this many.
MAX_OPERANDS = 24
#: The batch axis's letter.
BATCH_LETTER = "a"

Scope = tuple[tuple[int, ...], bool]   # (variables of the axes, has the batch axis)


def step_subscripts(operands: Sequence[Scope], out_vars: tuple[int, ...], letters: str) -> tuple[str, bool]:
    """The einsum subscripts of a step that multiplies ``operands`` and keeps ``out_vars``; and whether the
    result carries the batch axis (when any operand does).

    ``letters`` are the ones the caller gives variables (never the batch's
    ``a``); a step over more variables than letters is refused, which the
    planner's budget check makes unreachable.

    >>> step_subscripts([((3, 5), True), ((5,), False)], (3,), "cdef")
    ('acd,d->ac', True)
    """
    involved = sorted({v for vs, _ in operands for v in vs})
    if len(involved) > len(letters):   # pragma: no cover - the budget check refuses such a step first
        raise AssertionError(f"an elimination step joins {len(involved)} variables, past the budget check")
    letter = {v: letters[k] for k, v in enumerate(involved)}
    batched = any(b for _, b in operands)

    def sub(vs: tuple[int, ...], b: bool) -> str:
        return (BATCH_LETTER if b else "") + "".join(letter[v] for v in vs)

    return ",".join(sub(*op) for op in operands) + "->" + sub(out_vars, batched), batched
