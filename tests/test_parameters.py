"""Parameters by address: list them, change them (a new model), compare two models."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
from kneebayes import ParameterError
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Parameter, Prior
from kneebayes.research.parameters import ParameterChange, diff, parameters, with_parameters

KNEE = kneebayes.load_model()
KNEE_ADDRESSES = list(KNEE.parameters)


def _inside(p: Parameter) -> float:
    """A value inside the parameter's range and different from its own (halfway to the farther end)."""
    low, high = p.range  # type: ignore[misc]
    return (p.value + high) / 2 if high - p.value >= p.value - low else (p.value + low) / 2


def _param(v: float, lo: float, hi: float) -> str:
    return f"{{value: {v}, range: [{lo}, {hi}], source: S, rationale: R}}"


# A model with a multi-state root and tables (the knee has neither).
MULTI = textwrap.dedent(f"""\
    format: kneebayes-model/1
    name: multi
    version: "0.1"
    title: A multi-state test model
    scale: {{likely: 0.7, unlikely: 0.2}}
    nodes:
      - id: activity
        label: Activity
        kind: risk_factor
        question: How much do you run?
        states: [low, mid, high]
        prior:
          low: {_param(0.5, 0.2, 0.7)}
          mid: {_param(0.3, 0.1, 0.6)}
          high: {_param(0.2, 0.05, 0.4)}
      - id: strain
        label: Strain
        kind: cause
        question: Strained?
        table:
          parents: [activity]
          columns:
            - given: {{activity: low}}
              probabilities: {{"yes": {_param(0.1, 0.05, 0.3)}, "no": {_param(0.9, 0.7, 0.95)}}}
            - given: {{activity: mid}}
              probabilities: {{"yes": {_param(0.2, 0.1, 0.3)}, "no": {_param(0.8, 0.7, 0.9)}}}
            - given: {{activity: high}}
              probabilities: {{"yes": {_param("likely", 0.5, 0.9)}, "no": {_param(0.3, 0.1, 0.5)}}}
      - id: pain
        label: Pain
        kind: finding
        question: How bad is the pain?
        states: [none, mild, severe]
        table:
          parents: [strain]
          columns:
            - given: {{strain: "yes"}}
              probabilities: {{none: {_param(0.1, 0.05, 0.3)}, mild: {_param(0.3, 0.1, 0.5)}, severe: {_param(0.6, 0.4, 0.8)}}}
            - given: {{strain: "no"}}
              probabilities: {{none: {_param(0.7, 0.5, 0.9)}, mild: {_param(0.3, 0.1, 0.5)}, severe: {_param(0.0, 0.0, 0.0)}}}
    """)


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> kneebayes.Model:
    path: Path = tmp_path_factory.mktemp("multi") / "multi.yaml"
    path.write_text(MULTI, encoding="utf-8")
    return kneebayes.load_model(path)


# -- listing ----------------------------------------------------------------------------------
def test_addresses_follow_the_documented_forms_in_node_order() -> None:
    assert KNEE_ADDRESSES[0] == "poor_warmup.prior"
    assert "bakers_cyst.leak" in KNEE.parameters
    assert "bakers_cyst.weight[meniscal_injury]" in KNEE.parameters
    nodes = [a.split(".")[0] for a in KNEE_ADDRESSES]
    assert nodes == sorted(nodes, key=[n.id for n in KNEE.nodes].index)


def test_multi_state_and_table_addresses_list_every_state(multi: kneebayes.Model) -> None:
    assert list(multi.parameters)[:5] == [
        "activity.prior[low]", "activity.prior[mid]", "activity.prior[high]",
        "strain.table[activity=low][yes]", "strain.table[activity=low][no]",
    ]
    assert "pain.table[strain=no][severe]" in multi.parameters


def test_the_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        KNEE.parameters["bakers_cyst.leak"] = KNEE.parameters["bakers_cyst.leak"]  # type: ignore[index]


def test_a_yes_no_prior_is_p_yes() -> None:
    node = KNEE.spec.node("poor_warmup")
    yes = node.parameters.probabilities[node.states.index("yes")]  # type: ignore[union-attr]
    assert KNEE.parameters["poor_warmup.prior"] == yes


# -- changing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("address", KNEE_ADDRESSES)
def test_every_knee_address_can_be_changed(address: str) -> None:
    value = _inside(KNEE.parameters[address])
    changed = KNEE.with_parameters({address: value})
    assert changed.parameters[address].value == value
    assert changed.parameters[address].term is None
    assert [c.address for c in KNEE.diff(changed)] == [address]


def test_a_yes_no_prior_change_moves_its_complement() -> None:
    changed = KNEE.with_parameters({"poor_warmup.prior": 0.6})
    node = changed.spec.node("poor_warmup")
    probs = dict(zip(node.states, (p.value for p in node.parameters.probabilities)))  # type: ignore[union-attr]
    assert probs == {"yes": 0.6, "no": 1 - 0.6}
    assert changed.marginals(nodes=["poor_warmup"])["poor_warmup"]["yes"] == pytest.approx(0.6, abs=1e-12)


def test_the_old_model_is_untouched() -> None:
    model = kneebayes.load_model()
    before_hash, before = model.content_hash, model.diagnose({"limping": "yes"}).posterior
    changed = model.with_parameters({"bakers_cyst.leak": _inside(model.parameters["bakers_cyst.leak"])})
    assert changed.content_hash != before_hash
    assert model.content_hash == before_hash
    assert model.diagnose({"limping": "yes"}).posterior == before


def test_raising_a_leak_raises_that_cause() -> None:
    leak = KNEE.parameters["bakers_cyst.leak"]
    higher = KNEE.with_parameters({"bakers_cyst.leak": leak.range[1]})  # type: ignore[index]
    assert higher.diagnose().posterior["bakers_cyst"] > KNEE.diagnose().posterior["bakers_cyst"]


def test_source_and_rationale_are_kept() -> None:
    old = KNEE.parameters["bakers_cyst.leak"]
    new = KNEE.with_parameters({"bakers_cyst.leak": _inside(old)}).parameters["bakers_cyst.leak"]
    assert (new.source, new.rationale, new.range) == (old.source, old.rationale, old.range)


def test_a_verbal_term_is_accepted_and_kept() -> None:
    address = next(a for a, p in KNEE.parameters.items() if p.range[0] <= 0.5 <= p.range[1])  # type: ignore[index]
    changed = KNEE.with_parameters({address: "fifty-fifty"}).parameters[address]
    assert (changed.value, changed.term) == (0.5, "fifty-fifty")


def test_a_value_and_range_pair_sets_both() -> None:
    changed = KNEE.with_parameters({"poor_warmup.prior": (0.9, (0.8, 0.95))}).parameters["poor_warmup.prior"]
    assert (changed.value, changed.range) == (0.9, (0.8, 0.95))


def test_a_multi_state_prior_renormalises_the_other_states_proportionally(multi: kneebayes.Model) -> None:
    changed = multi.with_parameters({"activity.prior[low]": 0.3}).parameters
    assert changed["activity.prior[low]"].value == 0.3
    assert changed["activity.prior[mid]"].value == pytest.approx(0.42, abs=1e-15)
    assert changed["activity.prior[high]"].value == pytest.approx(0.28, abs=1e-15)
    assert math.fsum(changed[f"activity.prior[{s}]"].value for s in ("low", "mid", "high")) == pytest.approx(1, abs=1e-15)


def test_a_binary_table_cell_moves_its_partner(multi: kneebayes.Model) -> None:
    changed = multi.with_parameters({"strain.table[activity=mid][yes]": 0.25}).parameters
    assert changed["strain.table[activity=mid][no]"].value == 0.75
    assert changed["strain.table[activity=low][yes]"] == multi.parameters["strain.table[activity=low][yes]"]


def test_a_rescaled_cell_drops_its_verbal_term(multi: kneebayes.Model) -> None:
    changed = multi.with_parameters({"strain.table[activity=high][no]": 0.2}).parameters
    cell = changed["strain.table[activity=high][yes]"]
    assert (cell.value, cell.term) == (0.8, None)


def test_states_of_one_column_given_together_apply_together(multi: kneebayes.Model) -> None:
    changed = multi.with_parameters({"pain.table[strain=yes][none]": 0.2, "pain.table[strain=yes][mild]": 0.2}).parameters
    assert changed["pain.table[strain=yes][severe]"].value == pytest.approx(0.6, abs=1e-15)
    assert changed["pain.table[strain=yes][none]"].value == 0.2


def test_a_column_whose_other_states_are_zero_cannot_take_the_rest(multi: kneebayes.Model) -> None:
    with pytest.raises(ParameterError, match=r"other states .*pain\.table\[strain=no\]\[severe\].* are all 0"):
        multi.with_parameters({"pain.table[strain=no][none]": 0.6, "pain.table[strain=no][mild]": 0.3})


def test_a_rescaled_state_must_stay_inside_its_range(multi: kneebayes.Model) -> None:
    with pytest.raises(ParameterError, match=r"activity\.prior\[mid\]: changing activity\.prior\[low\], activity\.prior\[high\] "
                                             r"rescales this state to 0\.05 .*outside its stated range \[0\.1, 0\.6\]"):
        multi.with_parameters({"activity.prior[low]": 0.7, "activity.prior[high]": 0.25})


def test_a_fully_given_column_must_sum_to_one(multi: kneebayes.Model) -> None:
    with pytest.raises(ParameterError, match="sum to 0.9, not 1"):
        multi.with_parameters({"strain.table[activity=low][yes]": 0.1, "strain.table[activity=low][no]": 0.8})


@given(data=st.data())
def test_renormalising_keeps_every_column_a_distribution(data: st.DataObject) -> None:
    probs = data.draw(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=5))
    total = math.fsum(probs)
    states = tuple(f"s{i}" for i in range(len(probs)))
    spec = ModelSpec("m", "0", "m", (NodeSpec("x", "x", "cause", "x?", states,
                                              Prior(tuple(Parameter(p / total, "S", "R") for p in probs)), False),))
    i = data.draw(st.integers(0, len(states) - 1))
    value = data.draw(st.floats(0.0, 1.0))
    new = [p.value for p in with_parameters(spec, {f"x.prior[s{i}]": value}).nodes[0].parameters.probabilities]  # type: ignore[union-attr]
    assert new[i] == value
    assert math.fsum(new) == pytest.approx(1.0, abs=1e-12)
    others = [j for j in range(len(states)) if j != i]
    for j in others:  # proportional to the old values
        assert new[j] == pytest.approx((probs[j] / total) * (1 - value) / (1 - probs[i] / total), abs=1e-12)


# -- errors -----------------------------------------------------------------------------------
def test_a_bad_address_suggests_the_nearest() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter address 'bakers_cyst\.weight\[meniscal\]'; "
                                             r"did you mean 'bakers_cyst\.weight\[meniscal_injury\]'"):
        KNEE.with_parameters({"bakers_cyst.weight[meniscal]": 0.5})


def test_a_bad_address_of_a_known_node_suggests_that_nodes_own_addresses(tmp_path: Path) -> None:
    """A table without parents is read as a prior: ``Rain.table[][yes]`` points at ``Rain.prior[yes]``, not at the
    nearer-looking cells of its child's table."""
    path = tmp_path / "rain.bif"
    path.write_text("network rain {}\n"
                    "variable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "variable Wet { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.8; }\n"
                    "probability ( Wet | Rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }\n")
    model = kneebayes.load_bif(path, targets=["Rain"])
    with pytest.raises(ParameterError, match=r"'Rain\.table\[\]\[yes\]'; did you mean 'Rain\.prior\[yes\]'\?"):
        model.with_parameters({"Rain.table[][yes]": 0.3})


def test_a_bad_address_with_no_close_match_describes_the_forms() -> None:
    with pytest.raises(ParameterError, match=r"addresses look like 'node\.prior'.*model\.parameters lists all"):
        KNEE.with_parameters({"zzz": 0.5})


def test_a_certain_value_outside_its_range_is_shown_the_only_range_it_takes() -> None:
    with pytest.raises(ParameterError, match=r"e\.g\. \{'bakers_cyst\.leak': \(0, \(0, 0\)\)\}$"):
        KNEE.with_parameters({"bakers_cyst.leak": 0})
    assert KNEE.with_parameters({"bakers_cyst.leak": (0, (0, 0))}).parameters["bakers_cyst.leak"].value == 0.0


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_a_value_outside_zero_one_is_refused(value: float) -> None:
    with pytest.raises(ParameterError, match=r"bakers_cyst\.leak: .* is not a probability; give a number in \[0, 1\]"):
        KNEE.with_parameters({"bakers_cyst.leak": value})


@pytest.mark.parametrize("value", [True, None, [0.1], float("nan"), float("inf"), 10**400])
def test_a_value_that_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(ParameterError, match=r"bakers_cyst\.leak: "):
        KNEE.with_parameters({"bakers_cyst.leak": value})  # type: ignore[dict-item]


def test_an_unknown_verbal_term_lists_the_scale() -> None:
    with pytest.raises(ParameterError, match=r"unknown verbal term 'likely'.*the scale has: certain \(1\), probable \(0\.85\)"):
        KNEE.with_parameters({"bakers_cyst.leak": "likely"})


def test_a_value_outside_the_stated_range_says_how_to_change_the_range() -> None:
    leak = KNEE.parameters["bakers_cyst.leak"]
    low, high = leak.range  # type: ignore[misc]
    with pytest.raises(ParameterError, match=rf"outside the stated range \[{low:g}, {high:g}\].*editing the model file.*\(value, \(low, high\)\)"):
        KNEE.with_parameters({"bakers_cyst.leak": 0.99})


@pytest.mark.parametrize("pair, message", [
    ((0.5, (0.6, 0.4)), "low above high"),
    ((0.5, (0.0, 0.6)), r"must lie inside \(0, 1\)"),
    ((0.5, (0.6, 0.7)), "does not contain the value 0.5"),
    ((1.0, (0.5, 1.0)), r"certain, so its range must be \[1, 1\]"),
    ((0.5, 0.6), r"two numbers \(low, high\)"),
])
def test_a_bad_range_in_a_pair_is_refused(pair: tuple[float, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        KNEE.with_parameters({"poor_warmup.prior": pair})  # type: ignore[dict-item]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ParameterError, match=r"2 problems with the changes:\n  - .*bakers_cyst\.lek.*\n  - .*not a probability"):
        KNEE.with_parameters({"bakers_cyst.lek": 0.1, "poor_warmup.prior": 2.0})


def test_a_parameter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        KNEE.with_parameters({"nope": 0.1})


# -- comparing --------------------------------------------------------------------------------
def test_diff_of_a_model_with_itself_is_empty() -> None:
    assert KNEE.diff(KNEE) == []
    assert KNEE.diff(kneebayes.load_model()) == []


def test_diff_lists_exactly_the_changed_numbers() -> None:
    changes = {"bakers_cyst.leak": _inside(KNEE.parameters["bakers_cyst.leak"]),
               "poor_warmup.prior": _inside(KNEE.parameters["poor_warmup.prior"])}
    changed = KNEE.with_parameters(changes)
    assert KNEE.diff(changed) == [
        ParameterChange("poor_warmup.prior", KNEE.parameters["poor_warmup.prior"].value, changes["poor_warmup.prior"]),
        ParameterChange("bakers_cyst.leak", KNEE.parameters["bakers_cyst.leak"].value, changes["bakers_cyst.leak"]),
    ]


def test_diff_lists_addresses_present_on_one_side(multi: kneebayes.Model) -> None:
    changes = diff(multi.spec, KNEE.spec)
    assert ParameterChange("activity.prior[low]", 0.5, None) in changes
    assert ParameterChange("poor_warmup.prior", None, KNEE.parameters["poor_warmup.prior"].value) in changes
    assert len(changes) == len(parameters(multi.spec)) + len(parameters(KNEE.spec))


def test_a_change_reads_plainly() -> None:
    assert str(ParameterChange("bakers_cyst.leak", 0.02, 0.04)) == "bakers_cyst.leak: 0.02 -> 0.04"
    assert str(ParameterChange("x.prior", None, 0.3)) == "x.prior: (absent) -> 0.3"
    assert ParameterChange("x.prior", 0.25, 0.5).delta == 0.25
