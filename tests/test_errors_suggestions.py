"""The one "did you mean" wording (kneebayes.errors.did_you_mean), as every message uses it."""

from __future__ import annotations

import pytest

import kneebayes
from kneebayes.errors import FALLBACK_SHOWN, QUOTE_LIMIT, did_you_mean


def test_did_you_mean_names_the_nearest_names() -> None:
    assert did_you_mean("limpng", ["limping", "instability"]) == "; did you mean 'limping'?"


def test_did_you_mean_is_empty_when_nothing_is_near() -> None:
    assert did_you_mean("xyz", ["limping"]) == ""


def test_did_you_mean_offers_the_fallback_only_when_nothing_is_near() -> None:
    assert did_you_mean("limpng", ["limping"], fallback=["other"]) == "; did you mean 'limping'?"
    assert did_you_mean("cyst.weight[x]", ["warmup.prior"], fallback=["cyst.leak"]) == "; did you mean 'cyst.leak'?"


def test_did_you_mean_offers_at_most_a_few_of_the_fallback_and_reads_no_more() -> None:
    names = iter(f"cyst.weight[p{i}]" for i in range(100))
    hint = did_you_mean("zzz", ["warmup.prior"], fallback=names)
    assert hint.count("cyst.weight") == FALLBACK_SHOWN
    assert next(names) == f"cyst.weight[p{FALLBACK_SHOWN}]"   # the rest is left unread


def test_did_you_mean_quotes_a_long_name_bounded() -> None:
    long_name = "tingling_" + "x" * 500
    hint = did_you_mean("tingling", [long_name])
    assert hint.startswith("; did you mean 'tingling_xx") and len(hint) < 3 * QUOTE_LIMIT


def test_an_unknown_node_and_an_unknown_parameter_address_word_their_hint_alike() -> None:
    model = kneebayes.load_model()
    with pytest.raises(kneebayes.UnknownNodeError) as node:
        model.diagnose({"limpng": "yes"})
    with pytest.raises(kneebayes.ParameterError) as address:
        model.with_parameters({"bakers_cyst.lek": 0.1})
    assert str(node.value).endswith("; did you mean 'limping'?")
    assert "; did you mean 'bakers_cyst.leak'?" in str(address.value)
