"""A small hand-made model with every kind of number, each with a range (or, on request, none).

Shared by the tests of the draws, the draw engine, the intervals and sensitivity.
"""

from __future__ import annotations

from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table, TableColumn


def param(value: float, low: float | None = None, high: float | None = None) -> Parameter:
    """A number with the range ``[low, high]``, or without a range when ``low`` is None."""
    rng = None if low is None else (low, high)
    return Parameter(value, "test", "test", rng)


def small_spec(with_ranges: bool = True) -> ModelSpec:
    """Two yes/no causes, a three-state risk factor, a noisy-OR finding and a table finding.

    Nodes in order: ``load`` (three-state prior), ``c1`` (table under load),
    ``c2`` (yes/no prior written as P(yes)), ``f1`` (noisy-OR of c1 and c2),
    ``f2`` (three-state table under c1 and c2).
    """
    r = (lambda v, lo, hi: param(v, lo, hi)) if with_ranges else (lambda v, lo, hi: param(v))
    load = NodeSpec("load", "load", "risk_factor", "load?", ("low", "mid", "high"),
                    Prior((r(0.5, 0.3, 0.7), r(0.3, 0.15, 0.45), r(0.2, 0.1, 0.35))), True)
    c1_cols = tuple(
        TableColumn((("load", s),), (r(py, py / 2, (1 + py) / 2), r(1 - py, (1 - py) / 2, 1 - py / 2)))
        for s, py in (("low", 0.1), ("mid", 0.3), ("high", 0.6))
    )
    c1 = NodeSpec("c1", "c1", "cause", "c1?", ("yes", "no"), Table(("load",), c1_cols), False)
    yes, no = r(0.2, 0.1, 0.35), r(0.8, 0.65, 0.9)
    c2 = NodeSpec("c2", "c2", "cause", "c2?", ("yes", "no"), Prior((yes, no), derived_last=True), False)
    f1 = NodeSpec("f1", "f1", "finding", "f1?", ("yes", "no"),
                  NoisyOr(r(0.05, 0.01, 0.2), (("c1", r(0.7, 0.5, 0.9)), ("c2", r(0.4, 0.2, 0.6)))), True)
    f2_cols = []
    for a in ("yes", "no"):
        for b in ("yes", "no"):
            base = {("yes", "yes"): (0.6, 0.3, 0.1), ("yes", "no"): (0.5, 0.3, 0.2),
                    ("no", "yes"): (0.2, 0.5, 0.3), ("no", "no"): (0.1, 0.2, 0.7)}[(a, b)]
            f2_cols.append(TableColumn((("c1", a), ("c2", b)),
                                       tuple(r(v, v / 2, min(v * 1.5, 0.95)) for v in base)))
    f2 = NodeSpec("f2", "f2", "finding", "f2?", ("mild", "moderate", "severe"), Table(("c1", "c2"), tuple(f2_cols)), True)
    return ModelSpec("small", "0", "small test model", (load, c1, c2, f1, f2))


#: Knee evidence sets from none to eight answers, causes observed too: the cases the draw engine and the
#: intervals are checked on.
KNEE_EVIDENCE = [
    {},
    {"locking_or_catching": "yes", "swelling_behind_knee": "yes"},
    {"tingling_or_numbness": "yes", "poor_warmup": "no", "sharp_pain": "no"},
    {"meniscal_injury": "yes", "limping": "no"},
    {"worse_with_activity": "yes", "sharp_pain": "yes", "localized_tenderness": "yes", "limping": "no",
     "instability": "no", "symptoms_over_two_weeks": "yes", "knee_trauma": "no", "previous_injury": "yes"},
]
