"""Posteriors near 1e-300 when P(evidence) is tiny (src/kneebayes/inference/posterior.py, node_joints.py, pruned.py).

A network ``A -> B -> E_i <- C`` with twenty findings ``E_i`` observed
"yes": each is a thousand billion times less likely with ``B = yes``, so
P(B = yes | evidence) is 1e-300 while P(evidence) is about 1e-200. Taken
absolutely, P(B = yes, evidence) is 1e-500, far below the smallest double;
the answer must still come out as 1e-300, not 0, on every engine path. The
reference enumerates the eight states of A, B and C in log space.
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path
from unittest import mock

import pytest

import kneebayes
from kneebayes.inference import node_joints
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled
from kneebayes.network.pruned_plan import Pruning

FINDINGS = 20
P_YES = {"yes": 1e-25, "no": 1e-10}          # P(E_i = yes | B)
P_B = {("yes", "yes"): 0.999999, ("yes", "no"): 1e-6, ("no", "yes"): 1e-6, ("no", "no"): 0.999999}   # (A, B)


def _bif() -> str:
    lines = ["network tiny {}"]
    for v in ["A", "B", "C", *(f"E{i}" for i in range(FINDINGS))]:
        lines.append(f"variable {v} {{ type discrete [ 2 ] {{ yes, no }}; }}")
    lines += ["probability ( A ) { table 0.5, 0.5; }", "probability ( C ) { table 0.5, 0.5; }",
              f"probability ( B | A ) {{ (yes) {P_B['yes', 'yes']!r}, {P_B['yes', 'no']!r}; "
              f"(no) {P_B['no', 'yes']!r}, {P_B['no', 'no']!r}; }}"]
    rows = " ".join(f"({b}, {c}) {P_YES[b]!r}, {1 - P_YES[b]!r};" for b in ("yes", "no") for c in ("yes", "no"))
    lines += [f"probability ( E{i} | B, C ) {{ {rows} }}" for i in range(FINDINGS)]
    return "\n".join(lines) + "\n"


def _reference() -> tuple[float, dict[str, dict[str, float]]]:
    """log P(evidence) and the posteriors of A, B and C, by enumeration in log space."""
    logs = {}
    for a, b, c in itertools.product(("yes", "no"), repeat=3):
        logs[a, b, c] = math.log(0.5) + math.log(0.5) + math.log(P_B[a, b]) + FINDINGS * math.log(P_YES[b])
    top = max(logs.values())
    total = math.fsum(math.exp(v - top) for v in logs.values())
    log_e = top + math.log(total)
    post = {}
    for k, node in enumerate("ABC"):
        post[node] = {s: math.exp(top + math.log(math.fsum(math.exp(v - top) for key, v in logs.items()
                                                           if key[k] == s)) - log_e) for s in ("yes", "no")}
    return log_e, post


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    path = Path(tmp_path_factory.mktemp("underflow")) / "tiny.bif"
    path.write_text(_bif(), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        return kneebayes.load_bif(path, targets=["A"]).spec


def _model(spec: ModelSpec, path: str) -> kneebayes.Model:
    if path == "enumerated":
        return kneebayes.Model(spec)
    if path == "not_enumerated":
        return kneebayes.Model(spec, joint_limit=1)
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        return kneebayes.Model(spec, joint_limit=1)


PATHS = pytest.mark.parametrize("path", ["enumerated", "not_enumerated", "pruned"])
EVIDENCE = {f"E{i}": "yes" for i in range(FINDINGS)}


@PATHS
def test_a_posterior_of_1e_300_is_not_rounded_to_zero(spec: ModelSpec, path: str) -> None:
    _, expected = _reference()
    assert 1e-301 < expected["B"]["yes"] < 1e-299
    model = _model(spec, path)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        got = model.marginals(EVIDENCE, nodes=["B"])["B"]["yes"]
    assert got == pytest.approx(expected["B"]["yes"], rel=1e-9, abs=0.0)


@PATHS
def test_tiny_evidence_probability_and_target_posterior_equal_log_space_enumeration(
    spec: ModelSpec, path: str
) -> None:
    log_e, expected = _reference()
    model = _model(spec, path)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        dx = model.diagnose(EVIDENCE)
        got = dx.distributions["A"]
    assert dx.log_evidence_probability == pytest.approx(log_e, rel=1e-12)
    for state, p in expected["A"].items():
        assert got[state] == pytest.approx(p, rel=1e-9, abs=0.0)


def test_the_last_resort_for_a_marginal_is_a_bucket_pass_where_one_pays(spec: ModelSpec) -> None:
    # The sweep's value (1e-200) is too small to trust with B = yes's share underflowed to zero; the last
    # resort, a pass per clamped state, is weighed against a bucket pass first (MUNIN: 100 s -> 1 s). Bucket
    # passes are declined wherever they are weighed against one run of the fixed plan, so only that one runs.
    _, expected = _reference()
    model = _model(spec, "pruned")
    real = node_joints.bucket_value
    last_resorts: list[bool] = []      # whether each bucket pass weighed against the clamps ran

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        run = real(*args, **kwargs)
        if (args[5] if len(args) > 5 else kwargs.get("than")) is not None:
            last_resorts.append(run is not None)
        return run

    with (mock.patch.object(Pruning, "worth_it", lambda self, n, work=None, than=None: than is not None),
          mock.patch.object(node_joints, "bucket_value", recording)):
        got = model.marginals(EVIDENCE, nodes=["B"])["B"]
    assert last_resorts == [True]
    for state, p in expected["B"].items():
        assert got[state] == pytest.approx(p, rel=1e-9, abs=0.0)


def _nan_prone_bif() -> str:
    """Eight yes/no nodes with table entries down to 1e-292: a clamped node's run that comes out zero meets a
    scale 735 logs above the unclamped run's (whose value lost digits in a product below the smallest double)."""
    head = ["network uf {}", *(f"variable N{i} {{ type discrete [ 2 ] {{ yes, no }}; }}" for i in range(8))]
    tables = {
        "N0": "table 0.06, 0.94;", "N1 | N0": "(yes) 1e-220, 1.0; (no) 1e-127, 1.0;",
        "N2 | N0, N1": "(yes, yes) 1e-174, 1.0; (yes, no) 1e-43, 1.0; (no, yes) 0.68, 0.32; (no, no) 1e-35, 1.0;",
        "N3 | N0": "(yes) 0.63, 0.37; (no) 0.95, 0.05;",
        "N4 | N0, N3": "(yes, yes) 1e-110, 1.0; (yes, no) 0.29, 0.71; (no, yes) 1e-252, 1.0; (no, no) 1e-57, 1.0;",
        "N5 | N1, N4": "(yes, yes) 0.9, 0.1; (yes, no) 0.09, 0.91; (no, yes) 1e-208, 1.0; (no, no) 1e-237, 1.0;",
        "N6 | N3, N4": "(yes, yes) 1e-274, 1.0; (yes, no) 1e-133, 1.0; (no, yes) 1e-42, 1.0; (no, no) 1e-274, 1.0;",
        "N7 | N2": "(yes) 1e-292, 1.0; (no) 0.96, 0.04;",
    }
    return "\n".join(head + [f"probability ( {k} ) {{ {v} }}" for k, v in tables.items()]) + "\n"


def test_a_clamp_whose_value_is_zero_gives_a_zero_joint_not_nan_whatever_its_scale(tmp_path: Path) -> None:
    path = tmp_path / "uf.bif"
    path.write_text(_nan_prone_bif(), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = kneebayes.load_bif(path, targets=["N1"])
    evidence = {"N3": "yes", "N4": "yes", "N5": "yes", "N7": "no"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no overflow, no 0 * inf on the way
        found = model.marginals(evidence)
        gains = [q.expected_information_gain for q in model.diagnose(evidence).ranked_questions]
    assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for dist in found.values() for p in dist.values()), found
    assert found["N0"]["no"] == pytest.approx(3.68e-59, abs=1e-9)    # exact by enumeration: 3.68e-59, was NaN
    assert gains and all(math.isfinite(g) for g in gains)


def _copies_of_a_coin(tmp_path: Path, target: str) -> kneebayes.Model:
    """A fair coin A and four exact copies B-E of it: ordinary tables, nothing below 0.5."""
    lines = ["network coins {}", *(f"variable {v} {{ type discrete [ 2 ] {{ s0, s1 }}; }}" for v in "ABCDE"),
             "probability ( A ) { table 0.5, 0.5; }",
             *(f"probability ( {v} | A ) {{ (s0) 1.0, 0.0; (s1) 0.0, 1.0; }}" for v in "BCDE")]
    path = tmp_path / "coins.bif"
    path.write_text("\n".join(lines) + "\n")
    return kneebayes.load_bif(path, targets=[target])


@pytest.mark.parametrize("target", ["A", "B"])
def test_answers_that_weigh_each_state_down_equally_leave_the_coin_fair(tmp_path: Path, target: str) -> None:
    """Two answers 1e-170 against heads, two against tails: P(evidence) = 1e-340, and by symmetry each state keeps
    half. Taking B as the target, the component of the rest once gave (5e-171, 0) for (5e-171, 5e-341): a posterior
    of 1 for 0.5, with no warning, though no number in the model is below 0.5."""
    soft = kneebayes.Likelihood
    evidence = {"B": soft(s0=1e-170, s1=1.0), "C": soft(s0=1e-170, s1=1.0),
                "D": soft(s0=1.0, s1=1e-170), "E": soft(s0=1.0, s1=1e-170)}
    model = _copies_of_a_coin(tmp_path, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no numpy warning on the way: the answer is exact
        warnings.simplefilter("ignore", kneebayes.PrecisionWarning)   # the soft answers' 1e-170, as it should
        dx = model.diagnose(evidence)
    assert dx.distributions[target]["s0"] == pytest.approx(0.5, abs=1e-12)
    assert dx.log_evidence_probability == pytest.approx(-340 * math.log(10), rel=1e-12)


def test_a_soft_answer_leaving_a_state_subnormal_gains_nothing_without_nan(tmp_path: Path) -> None:
    """A's middle state ends near 2.5e-310, subnormal: P(A) divided by it overflowed, and a share of 0 times that
    infinity made the gain of the sum-of-marginals measure NaN (with numpy's warnings)."""
    path = tmp_path / "two.bif"
    path.write_text("network two {}\n"
                    "variable A { type discrete [ 3 ] { s0, s1, s2 }; }\n"
                    "variable B { type discrete [ 2 ] { s0, s1 }; }\n"
                    "probability ( A ) { table 1.0, 1.0611926507477399e-94, 4.911497994788865e-90; }\n"
                    "probability ( B ) { table 0.3, 0.7; }\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        base = kneebayes.load_bif(path, targets=["A", "B"], askable=["A", "B"])
    model = kneebayes.Model(base.spec, targets=["A", "B"], joint_limit=1)   # the gain sums each target's own
    evidence = {"A": kneebayes.Likelihood(s0=1.0, s1=2.402490221380999e-216, s2=0.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", kneebayes.PrecisionWarning)   # the soft answer's 2.4e-216, as it should
        gains = {q.id: q.expected_information_gain for q in model.diagnose(evidence).ranked_questions}
    assert gains["A"] == pytest.approx(0.0, abs=1e-300)
    assert gains["B"] == pytest.approx(-(0.3 * math.log2(0.3) + 0.7 * math.log2(0.7)), abs=1e-12)


def test_target_priors_whose_product_underflows_still_weigh_in_when_evidence_is_tiny(tmp_path: Path) -> None:
    """Two target priors of 3.2e-140 and 3.7e-220 multiply to zero in the targets' constant vector; with P(e)
    about 1e-359 the joint is taken in logs, where that zero made P(A = s2 | e) 0 and P(A = s0 | e) 1, against
    1 and 5.3e-49. Enumerated by hand: the evidence leaves A = s0 (weight 1.4e-187) and A = s2 (weight 1)."""
    path = tmp_path / "priors.bif"
    p_a = (0.12277311558391148, 0.8772268844160885, 3.2428433692609166e-140)
    p_b = 3.679603525234255e-220
    path.write_text("network priors {}\n"
                    "variable A { type discrete [ 3 ] { s0, s1, s2 }; }\n"
                    "variable B { type discrete [ 2 ] { s0, s1 }; }\n"
                    f"probability ( A ) {{ table {p_a[0]!r}, {p_a[1]!r}, {p_a[2]!r}; }}\n"
                    f"probability ( B ) {{ table {p_b!r}, 1.0; }}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # RenormalisedWarning, PrecisionWarning: the case is about such numbers
        model = kneebayes.load_bif(path, targets=["A", "B"])
    weight = 1.3976413350440253e-187
    with pytest.warns(kneebayes.PrecisionWarning, match="soft answer to 'A'"):
        dx = model.diagnose({"B": "s0", "A": kneebayes.Likelihood(s0=weight, s1=0.0, s2=1.0)})
    expected_s0 = p_a[0] * weight / (p_a[0] * weight + p_a[2])
    assert dx.distributions["A"]["s0"] == pytest.approx(expected_s0, rel=1e-9)
    assert dx.distributions["A"]["s2"] == pytest.approx(1.0, abs=1e-12)
    log_pe = math.log(p_b) + math.log(p_a[0] * weight + p_a[2])
    assert dx.log_evidence_probability == pytest.approx(log_pe, rel=1e-12)


def test_soft_answers_on_the_targets_whose_product_underflows_still_weigh_in(tmp_path: Path) -> None:
    """Targets A and B (fair coins), each answered 1e-200 against s0; C and D exact ANDs of them, answered 1e-300
    against s0. Every joint state weighs 1e-400 or less, so the joint is taken in logs, where the product of the
    targets' own weights (1e-400 for both at s0) read 0: P(A = s0 | e) came out 1e-200 for 1 - 1e-200."""
    lines = ["network n {}", *(f"variable {v} {{ type discrete [ 2 ] {{ s0, s1 }}; }}" for v in "ABCD"),
             "probability ( A ) { table 0.5, 0.5; }", "probability ( B ) { table 0.5, 0.5; }",
             *(f"probability ( {v} | A, B ) {{ (s0, s0) 1.0, 0.0; (s0, s1) 0.0, 1.0; (s1, s0) 0.0, 1.0; "
               f"(s1, s1) 0.0, 1.0; }}" for v in "CD")]
    path = tmp_path / "and.bif"
    path.write_text("\n".join(lines) + "\n")
    model = kneebayes.load_bif(path, targets=["A", "B"])
    soft = kneebayes.Likelihood
    evidence = {"A": soft(s0=1e-200, s1=1.0), "B": soft(s0=1e-200, s1=1.0),
                "C": soft(s0=1.0, s1=1e-300), "D": soft(s0=1.0, s1=1e-300)}
    # by hand: (s0, s0) weighs 0.25 * 1e-400, each other joint state at most 0.25 * 1e-600
    with pytest.warns(kneebayes.PrecisionWarning, match="soft answer to"):
        dx = model.diagnose(evidence)
    assert dx.distributions["A"]["s0"] == pytest.approx(1.0, abs=1e-12)
    assert dx.log_evidence_probability == pytest.approx(math.log(0.25) - 400 * math.log(10), rel=1e-12)
