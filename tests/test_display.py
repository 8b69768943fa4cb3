"""The notebook display: pure HTML builders and matplotlib plots."""

from __future__ import annotations

import dataclasses
import html
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import kneebayes  # noqa: E402
from kneebayes.care import split_care  # noqa: E402
from kneebayes.display import (  # noqa: E402
    diagnosis_html,
    model_html,
    plot_network,
    plot_posterior,
    plot_tornado,
    sensitivity_html,
)
from kneebayes.display.html import kinds_in_order, layer_kinds  # noqa: E402
from kneebayes.modelfile.schema import NoisyOr  # noqa: E402

SCRIPT = "<script>alert('x')</script> & co"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _with_label(spec, node_id: str, label: str):  # type: ignore[no-untyped-def]
    nodes = tuple(dataclasses.replace(n, label=label) if n.id == node_id else n for n in spec.nodes)
    return dataclasses.replace(spec, nodes=nodes)


@pytest.fixture(scope="module")
def tingling(knee_model: kneebayes.Model) -> kneebayes.Diagnosis:
    return knee_model.diagnose({"tingling_or_numbness": "yes"})


@pytest.fixture(scope="module")
def hostile_model(knee_model: kneebayes.Model) -> kneebayes.Model:
    """The knee model with markup in a cause's label and in a red flag's text."""
    spec = _with_label(knee_model.spec, "bakers_cyst", SCRIPT)
    flags = tuple(dataclasses.replace(f, text=f"<b>{f.text}</b> & more") for f in spec.red_flags)
    return kneebayes.Model(dataclasses.replace(spec, red_flags=flags))


def _frame(rows: int = 3, base: float | None = 0.4) -> pd.DataFrame:
    addresses = ["bakers_cyst.weight[meniscal_injury]", "nerve_irritation.leak", "poor_warmup.prior",
                 "tendonitis.weight[knee_valgus]", "limping.leak"][:rows]
    frame = pd.DataFrame({
        "address": addresses,
        "value": [0.5, 0.05, 0.3, 0.2, 0.02][:rows],
        "low": [0.3, 0.02, 0.2, 0.1, 0.01][:rows],
        "high": [0.7, 0.1, 0.4, 0.3, 0.05][:rows],
        "posterior_at_low": [0.25, 0.45, 0.38, 0.395, 0.399][:rows],
        "posterior_at_high": [0.55, 0.33, 0.43, 0.41, 0.401][:rows],
    })
    frame["swing"] = frame["posterior_at_high"] - frame["posterior_at_low"]
    if base is not None:
        frame.attrs["posterior"] = base
        frame.attrs["cause"] = "bakers_cyst"
    return frame


def _top_to_bottom(ax) -> list[str]:  # type: ignore[no-untyped-def]
    """The y tick labels from the top of the axes down."""
    ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda t: -t[0])
    return [label.get_text() for _, label in ticks]


def _saves_png(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG_MAGIC


# -- model_html ----------------------------------------------------------------------------------
def test_model_html_names_every_node_by_kind_with_counts(knee_model: kneebayes.Model) -> None:
    text = model_html(knee_model)
    for node in knee_model.nodes:
        assert f"<code>{node.id}</code>" in text
    for cause in knee_model.causes:
        assert cause in text
    r, c, f = (len(knee_model.nodes_of_kind(k)) for k in ("risk_factor", "cause", "finding"))
    assert r + c + f == len(knee_model.nodes)
    assert f"{len(knee_model.nodes)} nodes: {r} risk factors, {c} causes, {f} findings" in text
    titles = (f"Risk factors ({r})", f"Causes ({c})", f"Findings ({f})")
    for title in titles:
        assert title in text
    # groups come in layer order: risk factors, causes, findings
    assert text.index(titles[0]) < text.index(titles[1]) < text.index(titles[2])


def test_model_html_shows_identity_source_and_claims(knee_model: kneebayes.Model) -> None:
    text = model_html(knee_model)
    assert knee_model.content_hash[:12] in text
    assert html.escape(knee_model.spec.title) in text
    assert f"<code>{knee_model.name}</code>" in text and f"<code>{knee_model.version}</code>" in text
    assert html.escape(knee_model.spec.source_document or "") in text
    report = knee_model.check_claims()
    assert f"{sum(r.held for r in report)} of {len(report)} claims hold" in text


def test_model_html_lists_parents(knee_model: kneebayes.Model) -> None:
    text = model_html(knee_model)
    bakers = knee_model.node("bakers_cyst")
    assert ", ".join(bakers.parents) in text


def test_model_html_escapes_labels(hostile_model: kneebayes.Model) -> None:
    text = model_html(hostile_model)
    assert "<script>" not in text
    assert html.escape(SCRIPT) in text


def test_model_to_html_and_repr_delegate(knee_model: kneebayes.Model) -> None:
    assert knee_model.to_html() == knee_model._repr_html_() == model_html(knee_model)


def test_model_html_is_deterministic(knee_model: kneebayes.Model) -> None:
    assert model_html(knee_model) == model_html(kneebayes.load_model())


def test_kinds_in_order_puts_known_kinds_first() -> None:
    assert kinds_in_order(["finding", "modifier", "cause", "risk_factor", "modifier"]) == [
        "risk_factor", "cause", "finding", "modifier"]


# -- diagnosis_html --------------------------------------------------------------------------------
def _after(text: str, title: str) -> str:
    """The HTML from a section's title on."""
    assert title in text, title
    return text[text.index(title):]


def test_diagnosis_html_shows_each_cause_with_its_percentage_in_order(tingling: kneebayes.Diagnosis,
                                                                       knee_model: kneebayes.Model) -> None:
    bars = _after(diagnosis_html(tingling), "How likely each cause is present")
    positions = []
    for cause, p in tingling.ranked_causes:
        label = html.escape(knee_model.node(cause).label)
        assert label in bars
        assert f"{p * 100:.1f}%" in bars
        assert f"width:{p * 100:.1f}%" in bars   # the bar
        positions.append(bars.index(label))
    assert positions == sorted(positions)


def test_diagnosis_html_leads_with_what_your_answers_point_to(tingling: kneebayes.Diagnosis) -> None:
    text = diagnosis_html(tingling)
    order = ["What your answers point to", "How likely each cause is present", "Most probable combinations",
             "answers (1)", "triage:", "next question", "care:"]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    assert text.index("What your answers point to") < text.index(";height:100%")   # before the first bar


def test_diagnosis_html_explaining_table_has_phrase_factor_and_probabilities(tingling: kneebayes.Diagnosis,
                                                                            knee_model: kneebayes.Model) -> None:
    from kneebayes.display.words import explaining, percent

    section = _after(diagnosis_html(tingling), "What your answers point to").split("How likely each cause")[0]
    rows = section.split("<tr")[2:]   # after the header row
    assert len(rows) == len(knee_model.causes)
    for row, expected in zip(rows, explaining(tingling)):
        assert f"title='{expected.cause}=yes'" in row
        assert html.escape(expected.name) in row and html.escape(expected.words.phrase) in row
        assert f"{expected.words.factor:.3g} " in row
        assert f">{percent(expected.now)}<" in row and f">{percent(expected.before)}<" in row
    assert "Nerve irritation" in rows[0] and "your answers multiply its odds by" in rows[0]


def test_diagnosis_html_says_once_that_the_factor_multiplies_the_odds(tingling: kneebayes.Diagnosis) -> None:
    from kneebayes.display.words import ODDS_NOTE

    assert diagnosis_html(tingling).count(html.escape(ODDS_NOTE)) == 1


def test_diagnosis_html_without_answers_says_nothing_yet(knee_model: kneebayes.Model) -> None:
    text = diagnosis_html(knee_model.diagnose({}))
    assert "What your answers point to</span>: nothing yet, no question answered." in text
    assert "its odds by" not in text


def test_diagnosis_html_lists_the_most_probable_combinations(tingling: kneebayes.Diagnosis,
                                                             knee_model: kneebayes.Model) -> None:
    from kneebayes.display.words import percent

    section = _after(diagnosis_html(tingling), "Most probable combinations")
    for combo in tingling.most_probable_combinations(3):
        name = " + ".join(knee_model.node(c).label for c in combo.present) or "none of the causes"
        assert f"<li>{html.escape(name)}: {percent(combo.probability)}</li>" in section


def test_diagnosis_html_says_why_combinations_are_not_listed(knee_model: kneebayes.Model) -> None:
    small = kneebayes.Model(knee_model.spec, joint_limit=8)
    text = diagnosis_html(small.diagnose({"tingling_or_numbness": "yes"}))
    assert "Most probable combinations</span>: not listed: the causes have too many joint states" in text


def test_diagnosis_html_shows_triage_reasons_next_question_care_and_model(tingling: kneebayes.Diagnosis) -> None:
    text = diagnosis_html(tingling)
    assert tingling.triage.level in text
    for reason in tingling.triage.reasons:
        assert html.escape(reason.text) in text
    q = tingling.next_question
    assert q is not None
    assert html.escape(q.text) in text
    assert f"expected gain {q.expected_information_gain:.3f} bits" in text
    shown, hidden = split_care(tingling.care_plan, limit=3)   # the items that fit the answers
    for item in shown:
        assert html.escape(item.title) in text
    assert html.escape(hidden[0].title) not in text
    assert tingling.model.content_hash[:12] in text and tingling.model.name in text


def test_diagnosis_html_care_count(tingling: kneebayes.Diagnosis) -> None:
    text = diagnosis_html(tingling, care=1)
    assert html.escape(tingling.care_plan[0].title) in text
    assert html.escape(tingling.care_plan[1].title) not in text


def test_diagnosis_html_shows_the_short_care_plan_and_counts_the_rest(knee_model: kneebayes.Model) -> None:
    from kneebayes.care import split_care

    dx = knee_model.diagnose({"instability": "yes"})
    first, rest = split_care(dx.care_plan, limit=3)
    text = diagnosis_html(dx, care=3)
    assert "A brace if the knee is unstable" in text   # its condition is met: it fits the answers
    assert all(html.escape(a.title) in text for a in first)
    assert not any(f"<b>{html.escape(a.title)}</b>" in text for a in rest)
    assert f"and {len(rest)} more in <code>care_plan</code>" in text


def test_diagnosis_html_self_care_only_after_the_whole_screen(knee_model: kneebayes.Model) -> None:
    clear = {n: "no" for n in knee_model.red_flag_nodes}
    dx = knee_model.diagnose(clear)
    text = diagnosis_html(dx)
    assert dx.triage.level == "self_care" and "Self-care</span>" in text
    assert html.escape(dx.triage.reasons[0].text) in text


def test_diagnosis_html_with_nothing_answered_says_the_screen_is_not_complete(knee_model: kneebayes.Model) -> None:
    text = diagnosis_html(knee_model.diagnose({}))
    assert "Safety screen not complete</span> <code>incomplete</code>" in text
    assert "Self-care" not in text


def test_diagnosis_html_of_a_model_without_triage_rules_is_not_assessed(child: kneebayes.Model) -> None:
    text = diagnosis_html(child.diagnose({}))
    assert "Not assessed</span> <code>not_assessed</code>" in text and "Self-care" not in text


def test_diagnosis_html_ends_with_the_disclaimer(knee_model: kneebayes.Model, child: kneebayes.Model) -> None:
    from kneebayes.display.words import disclaimer

    for model in (knee_model, child):
        text = diagnosis_html(model.diagnose({}))
        assert "<div class='kneebayes-disclaimer'" in text
        assert text.index(html.escape(disclaimer(model), quote=True)) > text.index("hash <code")
        assert "not a medical diagnosis" in disclaimer(model).lower()


def test_diagnosis_html_escapes_a_hostile_label_in_what_your_answers_point_to(hostile_model: kneebayes.Model) -> None:
    dx = hostile_model.diagnose({"swelling_behind_knee": "yes", "fullness_behind_knee": "yes"})
    assert dx.explaining_causes[0][0] == "bakers_cyst"   # the hostile label leads the table
    text = diagnosis_html(dx)
    section = _after(text, "What your answers point to").split("How likely each cause")[0]
    assert html.escape(SCRIPT) in section
    assert "<script>" not in text


def test_diagnosis_html_escapes_reasons_and_labels(hostile_model: kneebayes.Model) -> None:
    dx = hostile_model.diagnose({"locking_or_catching": "yes"})
    text = diagnosis_html(dx)
    assert "<script>" not in text and "<b>Your" not in text
    assert html.escape(SCRIPT) in text
    flags = [r for r in dx.triage.reasons if r.kind == "red_flag"]
    assert flags and all(r.text.startswith("<b>") for r in flags)
    for reason in dx.triage.reasons:
        assert html.escape(reason.text) in text


def test_diagnosis_html_shows_the_stop_reason_and_the_question_to_go_on(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes"}, confidence=0.6, screen_red_flags=False)
    assert dx.should_stop and dx.stop_reason is not None and dx.next_question is not None
    text = diagnosis_html(dx)
    assert "could stop" in text and dx.stop_reason.value in text
    assert html.escape(dx.next_question.text) in text


def test_diagnosis_html_is_deterministic(knee_model: kneebayes.Model) -> None:
    ev = {"locking_or_catching": "yes", "swelling_behind_knee": "no"}
    assert diagnosis_html(knee_model.diagnose(ev)) == diagnosis_html(kneebayes.load_model().diagnose(ev))


@pytest.fixture(scope="module")
def child() -> kneebayes.Model:
    """An imported network with a six-state target."""
    pgmpy = pytest.importorskip("pgmpy")
    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / "child.bif.gz"
    if not path.exists():
        pytest.skip("pgmpy's bundled CHILD network is missing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        return kneebayes.load_bif(path, targets=["Disease"])


def test_diagnosis_html_multi_state_targets(child: kneebayes.Model) -> None:
    dx = child.diagnose({})
    text = diagnosis_html(dx)
    for state, p in dx.distributions["Disease"].items():
        assert html.escape(state) in text and f"{p * 100:.1f}%" in text
    assert "1 cause, 19 findings" in model_html(child)


def test_diagnosis_html_names_a_multi_state_target_by_its_state(tmp_path: Path) -> None:
    from graded import write_graded

    path = write_graded(tmp_path / "graded.yaml", title="Graded", damage=(0.9, 0.08, 0.02),
                        findings={"swelling": (0.02, 0.9, 0.95)}, kind=(0.5, 0.3, 0.2))
    dx = kneebayes.load_model(path).diagnose({"swelling": "yes"})
    text = diagnosis_html(dx)
    state = dx.explaining_states["damage"]
    section = _after(text, "What your answers point to").split("How likely each state")[0]
    assert f"title='damage={state}'><td style" in section and f"Damage = {state}" in section
    assert "How likely each state of each cause is" in text
    assert f"<li>Damage = {state} + Kind = a: " in text


# -- sensitivity_html -----------------------------------------------------------------------------
def test_sensitivity_html_rows_in_order_with_numbers() -> None:
    frame = _frame(3)
    text = sensitivity_html(frame)
    positions = [text.index(html.escape(a)) for a in frame["address"]]
    assert positions == sorted(positions)
    assert "0.3 &ndash; 0.7" in text         # the first row's range
    assert "25.0%" in text and "55.0%" in text  # its posteriors at low and high
    assert "+30.00 pp" in text and "-12.00 pp" in text
    assert "base posterior 40.0%" in text and "P(bakers_cyst)" in text
    assert "width:100.0%" in text             # the largest swing fills its bar
    assert "3 parameters" in text


def test_sensitivity_html_names_a_state_other_than_yes() -> None:
    frame = _frame(2)
    frame.attrs["state"] = "no"
    assert "one-way sensitivity of P(bakers_cyst = no)" in sensitivity_html(frame)


def test_sensitivity_html_top_limits_rows() -> None:
    frame = _frame(5)
    text = sensitivity_html(frame, top=2)
    assert html.escape(frame["address"][1]) in text
    assert html.escape(frame["address"][2]) not in text
    assert "2 of 5 parameters" in text
    assert all(html.escape(a) in sensitivity_html(frame, top=None) for a in frame["address"])


def test_sensitivity_html_escapes_and_needs_its_columns() -> None:
    frame = _frame(1)
    frame.loc[0, "address"] = SCRIPT
    text = sensitivity_html(frame)
    assert "<script>" not in text and html.escape(SCRIPT) in text
    with pytest.raises(kneebayes.SettingError, match="missing: swing"):
        sensitivity_html(frame.drop(columns=["swing"]))
    assert "value" not in sensitivity_html(_frame(2).drop(columns=["value"])).split("<tr>")[1]


# -- plots -----------------------------------------------------------------------------------------
def test_plot_posterior_has_a_bar_per_cause(tingling: kneebayes.Diagnosis, knee_model: kneebayes.Model,
                                            tmp_path: Path) -> None:
    fig = plot_posterior(tingling)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == len(knee_model.causes)
    widths = sorted((p.get_width() for p in ax.patches), reverse=True)
    assert widths == pytest.approx([p for _, p in tingling.ranked_causes])
    assert _top_to_bottom(ax) == [knee_model.node(c).label for c, _ in tingling.ranked_causes]
    assert [t.get_text() for t in ax.texts] == [f"{p * 100:.1f}%" for _, p in tingling.ranked_causes]
    _saves_png(fig, tmp_path / "posterior.png")


def test_plot_posterior_on_given_axes(tingling: kneebayes.Diagnosis) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_posterior(tingling, ax=ax) is fig


def test_plot_posterior_multi_state(child: kneebayes.Model, tmp_path: Path) -> None:
    fig = plot_posterior(child.diagnose({}))
    assert len(fig.axes[0].patches) == len(child.node("Disease").states)
    _saves_png(fig, tmp_path / "child.png")


def test_plot_tornado_two_bars_per_row_around_the_base(tmp_path: Path) -> None:
    frame = _frame(5)
    fig = plot_tornado(frame, top=4)
    ax = fig.axes[0]
    assert len(ax.patches) == 8
    labels = [label.split("  ")[0] for label in _top_to_bottom(ax)]
    assert labels == list(frame["address"][:4])   # largest swing at the top
    assert _top_to_bottom(ax)[0].endswith("[0.3, 0.7]")   # with its range
    assert all(p.get_x() == pytest.approx(0.4) for p in ax.patches)   # bars start at the base posterior
    ends = sorted(p.get_x() + p.get_width() for p in ax.patches)
    assert ends == pytest.approx(sorted([*frame["posterior_at_low"][:4], *frame["posterior_at_high"][:4]]))
    assert [line.get_xdata()[0] for line in ax.lines] == [pytest.approx(0.4)]
    _saves_png(fig, tmp_path / "tornado.png")


def test_plot_tornado_names_a_state_other_than_yes() -> None:
    frame = _frame(2)
    frame.attrs["state"] = "no"
    ax = plot_tornado(frame).axes[0]
    assert ax.get_xlabel() == "P(bakers_cyst = no | evidence)"
    assert ax.get_title(loc="left") == "one-way sensitivity of P(bakers_cyst = no)"


def test_plot_tornado_without_a_base_spans_low_to_high(tmp_path: Path) -> None:
    fig = plot_tornado(_frame(3, base=None))
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert ax.patches[0].get_x() == pytest.approx(0.25) and ax.patches[0].get_width() == pytest.approx(0.30)
    _saves_png(fig, tmp_path / "tornado_nobase.png")
    with pytest.raises(kneebayes.SettingError, match="missing: posterior_at_low"):
        plot_tornado(_frame(2).drop(columns=["posterior_at_low"]))


def test_plot_network_draws_every_node_and_edge_in_layers(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    fig = plot_network(knee_model)
    ax = fig.axes[0]
    texts = {t.get_text().replace("\n", " "): t.get_position() for t in ax.texts}
    assert set(texts) == {n.label for n in knee_model.nodes}
    edges = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges) == 1
    assert len(edges[0].get_segments()) == sum(len(n.parents) for n in knee_model.nodes)
    y = {n.id: texts[n.label][1] for n in knee_model.nodes}
    lowest_risk = min(y[n] for n in knee_model.nodes_of_kind("risk_factor"))
    highest_cause = max(y[n] for n in knee_model.nodes_of_kind("cause"))
    lowest_cause = min(y[n] for n in knee_model.nodes_of_kind("cause"))
    highest_finding = max(y[n] for n in knee_model.nodes_of_kind("finding"))
    assert lowest_risk > highest_cause and lowest_cause > highest_finding
    # every edge points down the page, even meniscal injury -> Baker's cyst within the causes
    for node in knee_model.nodes:
        for parent in node.parents:
            assert y[parent] > y[node.id]
    _saves_png(fig, tmp_path / "network.png")


def test_plot_network_edge_width_follows_noisy_or_weight(knee_model: kneebayes.Model) -> None:
    weights = [w.value for n in knee_model.spec.nodes if isinstance(n.parameters, NoisyOr)
               for _, w in n.parameters.weights]
    edges = next(c for c in plot_network(knee_model).axes[0].collections if isinstance(c, LineCollection))
    widths = list(edges.get_linewidths())
    order = sorted(range(len(weights)), key=weights.__getitem__)
    assert [widths[i] for i in order] == sorted(widths)
    assert max(widths) > min(widths)
    plain = next(c for c in plot_network(knee_model, weights=False).axes[0].collections
                 if isinstance(c, LineCollection))
    assert len(set(plain.get_linewidths())) == 1


def _with_kinds(model: kneebayes.Model, kinds: dict[str, str]) -> kneebayes.Model:
    spec = model.spec
    nodes = tuple(dataclasses.replace(n, kind=kinds.get(n.id, n.kind)) for n in spec.nodes)
    return kneebayes.Model(dataclasses.replace(spec, nodes=nodes))


def test_other_kinds_get_layers_by_depth(knee_model: kneebayes.Model) -> None:
    model = _with_kinds(knee_model, {"previous_injury": "history", "knee_trauma": "history",
                                     "instability": "sign", "limping": "sign"})
    # roots go below the risk factors; children of causes alone above the findings, which lie deeper on average
    assert layer_kinds(model) == ["risk_factor", "history", "cause", "sign", "finding"]
    text = model_html(model)
    r, c, f = (len(knee_model.nodes_of_kind(k)) for k in ("risk_factor", "cause", "finding"))
    assert f"{len(model.nodes)} nodes: {r - 2} risk factors, 2 history, {c} causes, 2 sign, {f - 2} findings" in text
    assert text.index("History (2)") < text.index("Causes (6)") < text.index("Sign (2)") < text.index("Findings")


def test_plot_network_other_kinds_get_their_own_layer(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    model = _with_kinds(knee_model, {"previous_injury": "history", "knee_trauma": "history"})
    fig = plot_network(model)
    ax = fig.axes[0]
    y = {t.get_text().replace("\n", " "): t.get_position()[1] for t in ax.texts}
    history = y[model.node("previous_injury").label]
    assert min(y[model.node(r).label] for r in model.nodes_of_kind("risk_factor")) > history
    assert history > max(y[model.node(c).label] for c in model.nodes_of_kind("cause"))
    assert "History" in [t.get_text() for t in ax.get_legend().get_texts()]
    _saves_png(fig, tmp_path / "network_history.png")


def test_plot_network_imported(child: kneebayes.Model, tmp_path: Path) -> None:
    fig = plot_network(child)
    assert len(fig.axes[0].texts) == len(child.nodes)
    _saves_png(fig, tmp_path / "child_network.png")
