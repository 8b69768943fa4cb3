"""The Likelihood value: a soft answer's weights, checked when made, immutable, and readable."""

from __future__ import annotations

import copy
import math
import pickle

import pytest

import kneebayes
from kneebayes import Likelihood
from kneebayes.errors import EvidenceError


def test_keywords_and_a_mapping_make_the_same_likelihood() -> None:
    assert Likelihood(yes=0.8, no=0.2) == Likelihood({"yes": 0.8, "no": 0.2})
    assert hash(Likelihood(yes=0.8, no=0.2)) == hash(Likelihood({"no": 0.2, "yes": 0.8}))


def test_it_is_a_read_only_mapping_of_state_to_weight() -> None:
    soft = Likelihood(yes=3, no=1)
    assert dict(soft) == {"yes": 3.0, "no": 1.0} and len(soft) == 2 and soft["no"] == 1.0
    with pytest.raises(AttributeError, match="immutable"):
        soft.label = "probably"  # type: ignore[misc]


def test_the_label_takes_part_in_equality_but_not_in_the_weights() -> None:
    plain, labelled = Likelihood(yes=4, no=1), Likelihood(yes=4, no=1, label="probably")
    assert plain != labelled and dict(plain) == dict(labelled)
    assert plain.labelled("probably") == labelled


def test_ratio_favoured_and_hard_state_read_the_weights() -> None:
    soft = Likelihood(yes=1, no=4)
    assert soft.ratio("yes", "no") == 0.25 and soft.ratio("no", "yes") == 4.0
    assert Likelihood(yes=1, no=0).ratio("yes", "no") == math.inf
    assert soft.favoured() == "no" and Likelihood(yes=2, no=2).favoured() is None
    assert Likelihood(yes=0.3, no=0).hard_state() == "yes" and soft.hard_state() is None


def test_the_vector_follows_the_states_order_and_is_scaled_to_a_largest_weight_of_one() -> None:
    assert Likelihood(no=2, yes=8).vector(("yes", "no")) == [1.0, 0.25]
    assert Likelihood(no=2, yes=8).vector(("no", "yes")) == [0.25, 1.0]


@pytest.mark.parametrize("weights, message", [
    ({"yes": -0.1, "no": 1}, "the weight of state 'yes' must be a finite number >= 0, got -0.1"),
    ({"yes": math.nan, "no": 1}, "the weight of state 'yes' must be a finite number >= 0, got nan"),
    ({"yes": math.inf, "no": 1}, "the weight of state 'yes' must be a finite number >= 0, got inf"),
    ({"yes": "high", "no": 1}, "the weight of state 'yes' must be a number, got str 'high'"),
    ({"yes": True, "no": 1}, "the weight of state 'yes' must be a number, got bool True"),
    ({"yes": 0, "no": 0}, "at least one weight above 0"),
    ({}, "needs a weight for each state"),
    ({1: 0.5}, "states must be non-empty strings, got 1"),
])
def test_bad_weights_are_refused_naming_the_problem(weights: dict, message: str) -> None:
    with pytest.raises(EvidenceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Likelihood(weights)


def test_weights_as_a_mapping_and_keywords_at_once_are_refused() -> None:
    with pytest.raises(EvidenceError, match="either as one mapping or as keywords, not both"):
        Likelihood({"yes": 1}, no=2)


def test_repr_and_str_read_back_what_was_given() -> None:
    assert repr(Likelihood(yes=0.8, no=0.2)) == "Likelihood(yes=0.8, no=0.2)"
    assert repr(Likelihood({"Asy/Patch": 1, "no": 2})) == "Likelihood({'Asy/Patch': 1.0, 'no': 2.0})"
    assert str(Likelihood(yes=3, no=1, label="probably")) == "probably (yes:no = 3:1)"
    assert str(Likelihood(yes=3, no=1)) == "likelihood yes:no = 3:1"


def test_to_dict_and_from_dict_round_trip() -> None:
    soft = Likelihood(yes=3, no=1, label="probably")
    assert Likelihood.from_dict(soft.to_dict()) == soft


@pytest.mark.parametrize("data", [None, {"weights": {"yes": 1}}, {"likelihood": {"yes": 1}, "extra": 1}, [1, 2]])
def test_from_dict_refuses_anything_else(data: object) -> None:
    with pytest.raises(EvidenceError, match="a soft answer is written"):
        Likelihood.from_dict(data)


def test_it_pickles_and_copies_to_an_equal_value() -> None:
    soft = Likelihood(yes=3, no=1, label="probably")
    assert pickle.loads(pickle.dumps(soft)) == soft
    assert copy.deepcopy(soft) == soft


def test_it_is_a_public_name() -> None:
    assert kneebayes.Likelihood is Likelihood and "Likelihood" in kneebayes.__all__


def test_a_weight_past_the_largest_float_is_an_evidence_error_not_an_overflow() -> None:
    with pytest.raises(EvidenceError, match=r"weight of state 'yes' must be a finite number >= 0, got a number past"):
        Likelihood(yes=10**400, no=1)


def test_ratio_and_vector_of_a_state_it_does_not_name_say_which_states_it_has() -> None:
    soft = Likelihood(yes=3, no=1)
    with pytest.raises(EvidenceError, match=r"'maybe' is no state of this likelihood; its states are 'yes', 'no'"):
        soft.ratio("maybe", "no")
    with pytest.raises(EvidenceError, match="'a' is no state of this likelihood"):
        soft.vector(("a", "b"))


def test_weights_further_apart_than_a_float_holds_are_refused_not_made_a_firm_answer() -> None:
    with pytest.raises(EvidenceError, match=r"weights 1e-300 and 1e\+300 differ by more than a float can hold "
                                            r"\(a ratio past about 4.5e307\); give the small one as 0"):
        Likelihood(yes=1e-300, no=1e300)      # scaled to a largest of 1, its yes would round to 0: a firm "no"
    assert Likelihood(yes=1e-300, no=1.0).vector(("yes", "no")) == [1e-300, 1.0]


def test_a_label_holding_a_terminal_control_character_is_refused() -> None:
    with pytest.raises(kneebayes.EvidenceError, match=r"label holds the control character '\\x1b', which a terminal "
                                                      r"would act on"):
        kneebayes.Likelihood(yes=4, no=1, label="\x1b[2Jprobably")
