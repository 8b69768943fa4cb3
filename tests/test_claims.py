"""The article's claims kept in the model file (kneebayes.claims).

The default model keeps every claim; and every kind of claim can fail: a test
changes a number (never the claim) and shows the claim reported broken, with
the numbers that decided it.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest
import yaml

import kneebayes
from kneebayes import ClaimReport, ClaimResult, Model
from kneebayes.modelfile.load import default_model_path
from kneebayes.modelfile.schema import ModelSpec, NoisyOr, Parameter, Table, TableColumn

NUMBER = re.compile(r"\d\.\d{4}")


def _set_weight(spec: ModelSpec, child: str, parent: str, value: float) -> ModelSpec:
    """A copy of spec with one noisy-OR weight changed (the range moved along to contain it)."""
    return _replace_node_params(spec, child, lambda p: dataclasses.replace(
        p, weights=tuple((k, _with_value(w, value) if k == parent else w) for k, w in p.weights)))


def _set_leak(spec: ModelSpec, child: str, value: float) -> ModelSpec:
    return _replace_node_params(spec, child, lambda p: dataclasses.replace(p, leak=_with_value(p.leak, value)))


def _with_value(p: Parameter, value: float) -> Parameter:
    return dataclasses.replace(p, value=value, term=None, range=(value / 2, min(0.999, value * 2)))


def _replace_node_params(spec: ModelSpec, node_id: str, change) -> ModelSpec:  # type: ignore[no-untyped-def]
    nodes = tuple(dataclasses.replace(n, parameters=change(n.parameters)) if n.id == node_id else n for n in spec.nodes)
    assert any(n.id == node_id for n in spec.nodes), node_id
    return dataclasses.replace(spec, nodes=nodes)


def _result(report: ClaimReport, claim_id: str) -> ClaimResult:
    matches = [r for r in report if r.id == claim_id]
    assert len(matches) == 1, f"claim {claim_id!r} reported {len(matches)} times"
    return matches[0]


def _weight(spec: ModelSpec, child: str, parent: str) -> float:
    params = spec.node(child).parameters
    assert isinstance(params, NoisyOr)
    return dict(params.weights)[parent].value


# -- the default model ---------------------------------------------------------------------


def test_the_default_model_keeps_every_claim(knee_model: Model) -> None:
    report = knee_model.check_claims()
    assert report.all_held, str(report)
    assert report.broken == ()


def test_every_claim_of_the_file_is_checked_once(knee_model: Model) -> None:
    raw = yaml.safe_load(default_model_path().read_text(encoding="utf-8"))
    file_ids = [c["id"] for c in raw["claims"]]
    report = knee_model.check_claims()
    assert len(report) == len(file_ids) > 0
    assert [r.id for r in report] == file_ids


def test_claims_cover_every_kind_of_check(knee_model: Model) -> None:
    kinds = {c.check for c in knee_model.spec.claims}
    assert kinds == {"raises", "raises_most", "more_probable", "ranks_first", "edges_raise", "explains_first", "lifts"}


def test_each_result_carries_the_statement_source_and_numbers(knee_model: Model) -> None:
    by_id = {c.id: c for c in knee_model.spec.claims}
    for r in knee_model.check_claims():
        assert isinstance(r, ClaimResult)
        assert r.statement == by_id[r.id].statement
        assert r.source == by_id[r.id].source
        assert re.search(r"\d", r.detail), r


def test_str_of_the_report_says_how_many_claims_hold(knee_model: Model) -> None:
    report = knee_model.check_claims()
    text = str(report)
    n = len(report)
    assert text.splitlines()[0] == f"{n} of {n} claims hold"
    assert "[held] tingling_points_to_nerve_irritation" in text


def test_str_of_a_report_with_a_broken_claim_counts_it(knee_model: Model) -> None:
    spec = _set_weight(knee_model.spec, "tingling_or_numbness", "nerve_irritation", 0.001)
    report = Model(spec).check_claims()
    n = len(report)
    held = n - len(report.broken)
    assert held < n
    text = str(report)
    assert text.splitlines()[0] == f"{held} of {n} claims hold"
    assert "[BROKEN] tingling_points_to_nerve_irritation" in text


# -- each kind of claim can fail -----------------------------------------------------------


def test_raises_most_breaks_when_tingling_barely_depends_on_nerve_irritation(knee_model: Model) -> None:
    assert _weight(knee_model.spec, "tingling_or_numbness", "nerve_irritation") > 0.5
    spec = _set_weight(knee_model.spec, "tingling_or_numbness", "nerve_irritation", 0.001)
    report = Model(spec).check_claims()
    r = _result(report, "tingling_points_to_nerve_irritation")
    assert not r.held
    assert r in report.broken
    assert not report.all_held
    assert "rise of nerve_irritation" in r.detail and "largest other" in r.detail
    assert len(NUMBER.findall(r.detail)) == 2
    # only the changed number's claims break: the others still hold
    assert _result(report, "downhill_raises_popliteus").held


def test_more_probable_breaks_when_base_rates_are_swapped(knee_model: Model) -> None:
    spec = knee_model.spec
    ham = spec.node("hamstring_strain").parameters
    nerve = spec.node("nerve_irritation").parameters
    assert isinstance(ham, NoisyOr) and isinstance(nerve, NoisyOr)
    swapped = _set_leak(_set_leak(spec, "hamstring_strain", nerve.leak.value), "nerve_irritation", ham.leak.value)
    swapped = _set_leak(swapped, "nerve_irritation", 0.9)  # and make nerve irritation far more common
    r = _result(Model(swapped).check_claims(), "hamstring_more_probable_than_nerve")
    assert not r.held
    assert r.detail.startswith("hamstring_strain=") and "vs nerve_irritation=" in r.detail
    low, high = (float(x) for x in NUMBER.findall(r.detail))
    assert low < high


def test_ranks_first_breaks_when_another_cause_becomes_the_most_common(knee_model: Model) -> None:
    spec = _set_leak(knee_model.spec, "nerve_irritation", 0.95)
    r = _result(Model(spec).check_claims(), "hamstring_usual_cause")
    assert not r.held
    assert r.detail.startswith("first is nerve_irritation (")
    assert NUMBER.search(r.detail)


def test_raises_breaks_when_a_risk_factor_no_longer_feeds_the_cause(knee_model: Model) -> None:
    # weight 0 makes downhill running irrelevant to popliteus overload, so it no longer *raises* it
    assert _weight(knee_model.spec, "popliteus_overload", "downhill_or_uneven_running") > 0
    spec = _replace_node_params(knee_model.spec, "popliteus_overload", lambda p: dataclasses.replace(
        p, weights=tuple((k, dataclasses.replace(w, value=0.0, term=None, range=(0.0, 0.0)))
                         if k == "downhill_or_uneven_running" else (k, w) for k, w in p.weights)))
    r = _result(Model(spec).check_claims(), "downhill_raises_popliteus")
    assert not r.held
    assert "P(popliteus_overload|{downhill_or_uneven_running=yes})=" in r.detail
    a, b = (float(x) for x in NUMBER.findall(r.detail))
    assert a == pytest.approx(b, abs=1e-4)


def test_a_rise_within_rounding_does_not_hold_a_raises_claim(knee_model: Model) -> None:
    # a tear's weight on the cyst of 1e-12 lifts the cyst by about 9e-13: below what rounding can leave between two
    # equal posteriors, so the claim cannot tell it from none (at a weight of exactly 0 one machine saw 1.4e-17)
    model = knee_model.with_parameters({"bakers_cyst.weight[meniscal_injury]": (1e-12, (1e-12, 0.5))})
    a, b = (model.diagnose({"meniscal_injury": s}).posterior["bakers_cyst"] for s in ("yes", "no"))
    assert 0.0 < a - b < kneebayes.claims.ROUNDING
    assert not _result(model.check_claims(), "meniscal_tear_raises_bakers_cyst").held


def test_a_rise_past_rounding_holds_a_raises_claim(knee_model: Model) -> None:
    model = knee_model.with_parameters({"bakers_cyst.weight[meniscal_injury]": (1e-10, (1e-10, 0.5))})
    assert _result(model.check_claims(), "meniscal_tear_raises_bakers_cyst").held


def test_explains_first_breaks_when_locking_is_common_without_a_tear(knee_model: Model) -> None:
    # a locking knee that most runners have anyway says nothing about a tear
    spec = _set_leak(knee_model.spec, "locking_or_catching", 0.9)
    r = _result(Model(spec).check_claims(), "locking_stays_telling_after_the_screen")
    assert not r.held
    assert r.detail.startswith("first is ") and not r.detail.startswith("first is meniscal_injury")
    assert "and every other warning sign 'no'" in r.detail


def test_explains_first_after_the_screen_breaks_when_a_no_costs_the_cause_too_much(knee_model: Model) -> None:
    # the old, unsupported weight: every screened "no" to sharp pain halves a tear's odds, and more
    spec = _set_weight(knee_model.spec, "sharp_pain", "meniscal_injury", 0.95)
    r = _result(Model(spec).check_claims(), "locking_stays_telling_after_the_screen")
    assert not r.held


def test_screened_claims_answer_the_open_warning_signs_no(knee_model: Model) -> None:
    claim = next(c for c in knee_model.spec.claims if c.id == "locking_stays_telling_after_the_screen")
    assert claim.screened
    unscreened = dataclasses.replace(claim, screened=False)
    spec = dataclasses.replace(knee_model.spec, claims=(claim, unscreened))
    screened_result, told_result = Model(spec).check_claims()
    assert "every other warning sign" in screened_result.detail
    assert "every other warning sign" not in told_result.detail
    factor = re.compile(r"meniscal_injury (\S+) given")
    assert float(factor.search(told_result.detail).group(1)) > float(factor.search(screened_result.detail).group(1))


def test_lifts_breaks_when_the_posterior_does_not_reach_the_factor(knee_model: Model) -> None:
    claim = next(c for c in knee_model.spec.claims if c.id == "locking_keeps_meniscal_injury_well_above_its_base_rate")
    assert claim.by is not None and _result(knee_model.check_claims(), claim.id).held
    too_much = dataclasses.replace(claim, by=1000.0)
    spec = dataclasses.replace(knee_model.spec, claims=(too_much,))
    (r,) = Model(spec).check_claims()
    assert not r.held
    assert "x its prior" in r.detail and "(needs 1000x)" in r.detail


# -- a tiny model whose table can lower its child ------------------------------------------

TINY = textwrap.dedent(
    """\
    format: kneebayes-model/1
    name: tiny
    version: "0.1"
    title: "A table node whose parent raises it"
    nodes:
      - id: hills
        label: Hills
        kind: risk_factor
        question: "Do you run hills?"
        prior: {value: 0.3, range: [0.1, 0.5], source: "s", rationale: "r"}
      - id: strain
        label: Strain
        kind: cause
        question: "Did you strain it?"
        table:
          parents: [hills]
          source: "s"
          rationale: "r"
          columns:
            - given: {hills: "yes"}
              probabilities: {"yes": 0.6, "no": 0.4}
            - given: {hills: "no"}
              probabilities: {"yes": 0.2, "no": 0.8}
      - id: cramp
        label: Cramp
        kind: cause
        question: "Is it a cramp?"
        prior: {value: 0.1, range: [0.05, 0.2], source: "s", rationale: "r"}
    claims:
      - id: hills_raise_strain
        statement: "Hills raise strain."
        source: "s"
        check: raises
        cause: strain
        given: {hills: "yes"}
        versus: {hills: "no"}
      - id: risk_factors_raise_causes
        statement: "Every risk factor raises its causes."
        source: "s"
        check: edges_raise
        parent_kind: risk_factor
        child_kind: cause
    """
)


@pytest.fixture()
def tiny(tmp_path: Path) -> Model:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return kneebayes.load_model(path)


def _flip_table(model: Model) -> Model:
    """The tiny model with strain's table inverted: hills now *lower* strain (0.2 vs 0.6)."""
    params = model.spec.node("strain").parameters
    assert isinstance(params, Table)
    yes_col, no_col = params.columns
    flipped = dataclasses.replace(params, columns=(
        TableColumn(yes_col.given, no_col.probabilities), TableColumn(no_col.given, yes_col.probabilities)))
    return Model(_replace_node_params(model.spec, "strain", lambda _: flipped))


def test_the_tiny_model_keeps_its_claims(tiny: Model) -> None:
    report = tiny.check_claims()
    assert report.all_held, str(report)
    assert str(report).splitlines()[0] == "2 of 2 claims hold"
    assert _result(report, "risk_factors_raise_causes").detail == "1 edges checked"


def test_raises_breaks_when_the_table_lowers_the_cause(tiny: Model) -> None:
    r = _result(_flip_table(tiny).check_claims(), "hills_raise_strain")
    assert not r.held
    assert r.detail == "P(strain|{hills=yes})=0.2000 vs P(...|{hills=no})=0.6000"


def test_edges_raise_breaks_and_names_the_edge_that_lowers(tiny: Model) -> None:
    report = _flip_table(tiny).check_claims()
    r = _result(report, "risk_factors_raise_causes")
    assert not r.held
    assert r.detail == "1 edges checked; lowered: hills->strain: 0.2000 <= 0.6000"
    assert str(report).splitlines()[0] == "0 of 2 claims hold"


def test_edges_raise_with_no_matching_edge_does_not_hold(tiny: Model) -> None:
    claim = dataclasses.replace(tiny.spec.claims[1], id="findings", parent_kind="cause", child_kind="finding")
    model = Model(dataclasses.replace(tiny.spec, claims=(claim,)))
    r = _result(model.check_claims(), "findings")
    assert not r.held
    assert r.detail == "0 edges checked"


def test_the_default_model_edge_claims_check_every_edge_of_their_kinds(knee_model: Model) -> None:
    kinds = {n.id: n.kind for n in knee_model.nodes}
    report = knee_model.check_claims()
    for claim_id, (pk, ck) in {"risk_factors_raise_their_causes": ("risk_factor", "cause"),
                               "causes_raise_their_findings": ("cause", "finding")}.items():
        expected = sum(1 for n in knee_model.nodes if n.kind == ck for p in n.parents if kinds[p] == pk)
        assert _result(report, claim_id).detail == f"{expected} edges checked"



def test_lifts_on_a_multi_state_target_judges_its_leading_abnormal_state_not_the_normal_one(tmp_path: Path) -> None:
    from graded import write_graded

    from kneebayes.modelfile.schema import ClaimSpec

    # f1 = no makes 'intact' (the normal state) likelier and both damaged states less likely:
    # a lifts claim on damage must break, although the most probable state rose.
    path = write_graded(tmp_path / "graded.yaml", title="lifts on three states", damage=(0.7, 0.2, 0.1),
                        findings={"f1": (0.1, 0.8, 0.9)})
    model = kneebayes.load_model(path)
    claim = ClaimSpec(id="no_f1_lifts_damage", statement="s", source="s", check="lifts", cause="damage",
                      given=(("f1", "no"),), by=1.1)
    (r,) = Model(dataclasses.replace(model.spec, claims=(claim,))).check_claims()
    assert not r.held
    assert r.detail.startswith(("P(damage=torn)=", "P(damage=ruptured)="))


# -- edges of a finding, and evidence the numbers rule out ----------------------------------

ACHE = textwrap.indent(textwrap.dedent(
    """\
      - id: ache
        label: Ache
        kind: finding
        question: "Does it ache?"
        table:
          parents: [strain, cramp]
          source: "s"
          rationale: "r"
          columns:
            - given: {strain: "yes", cramp: "yes"}
              probabilities: {"yes": 0.9, "no": 0.1}
            - given: {strain: "yes", cramp: "no"}
              probabilities: {"yes": 0.3, "no": 0.7}
            - given: {strain: "no", cramp: "yes"}
              probabilities: {"yes": 0.7, "no": 0.3}
            - given: {strain: "no", cramp: "no"}
              probabilities: {"yes": 0.5, "no": 0.5}
    """
), "  ")
CAUSES_RAISE_FINDINGS = textwrap.indent(textwrap.dedent(
    """\
      - id: causes_raise_findings
        statement: "Every cause raises its findings."
        source: "s"
        check: edges_raise
        parent_kind: cause
        child_kind: finding
    """
), "  ")


def _tiny_with_ache(tmp_path: Path, text: str = TINY) -> Model:
    head, claims = text.split("claims:\n")
    path = tmp_path / "ache.yaml"
    path.write_text(head + ACHE + "claims:\n" + claims + CAUSES_RAISE_FINDINGS, encoding="utf-8")
    return kneebayes.load_model(path)


def test_edges_raise_on_findings_names_each_lowering_edge_with_the_models_marginals(tmp_path: Path) -> None:
    model = _tiny_with_ache(tmp_path)
    r = _result(model.check_claims(), "causes_raise_findings")
    p = {(c, s): model.marginals({c: s}, nodes=["ache"])["ache"]["yes"] for c in ("strain", "cramp") for s in ("yes", "no")}
    assert p["strain", "yes"] <= p["strain", "no"] and p["cramp", "yes"] > p["cramp", "no"]
    assert not r.held
    assert r.detail == f"2 edges checked; lowered: strain->ache: {p['strain', 'yes']:.4f} <= {p['strain', 'no']:.4f}"


def test_a_claim_whose_evidence_the_numbers_rule_out_is_reported_not_raised(tmp_path: Path) -> None:
    never = TINY.replace('prior: {value: 0.1, range: [0.05, 0.2], source: "s", rationale: "r"}',
                         'prior: {value: 0.0, range: [0.0, 0.0], source: "s", rationale: "r"}')
    report = _tiny_with_ache(tmp_path, never).check_claims()
    r = _result(report, "causes_raise_findings")
    assert not r.held
    assert r.detail == "cannot be checked: {cramp=yes} has probability zero"
    assert _result(report, "hills_raise_strain").held


def test_each_claim_checked_with_the_others_reads_as_when_checked_alone(knee_model: Model) -> None:
    together = knee_model.check_claims()
    for claim, result in zip(knee_model.spec.claims, together):
        alone = Model(dataclasses.replace(knee_model.spec, claims=(claim,))).check_claims().results[0]
        assert (alone.held, alone.detail) == (result.held, result.detail), claim.id
