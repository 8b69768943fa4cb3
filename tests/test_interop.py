"""Export to BIF / XMLBIF and import from pgmpy or BIF: the same model comes back.

Round trips are checked on posteriors (1e-12) and, where nothing was
renormalised, on the tables themselves (bit for bit). The importer's
renormalisation of pgmpy's rounded example networks is checked against an
independent count of the columns that do not sum to 1.
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import kneebayes
from kneebayes import ModelFileError, RenormalisedWarning, UnknownNodeError

TOL = 1e-12

KNEE_EVIDENCE = [
    {},
    {"locking_or_catching": "yes", "swelling_behind_knee": "yes"},
    {"tingling_or_numbness": "yes", "lack_of_flexibility": "no", "sharp_pain": "no"},
    {"knee_trauma": "yes", "instability": "yes", "limping": "no", "worn_footwear": "yes", "poor_warmup": "yes"},
    {"worse_with_activity": "no", "fullness_behind_knee": "yes", "knee_arthritis": "yes", "symptoms_over_two_weeks": "yes",
     "pain_at_night_or_rest": "no", "localized_tenderness": "yes", "limited_range_of_motion": "yes"},
]

ALARM_TARGETS = ["HYPOVOLEMIA", "LVFAILURE", "ANAPHYLAXIS", "INSUFFANESTH", "PULMEMBOLUS", "INTUBATION", "KINKEDTUBE",
                 "DISCONNECT"]


def example_path(name: str) -> Path:
    import pgmpy

    return Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models" / f"{name}.bif.gz"


def read_pgmpy(path: Path):  # type: ignore[no-untyped-def]
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    text = gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text(encoding="utf-8")
    return (XMLBIFReader if path.suffix == ".xml" else BIFReader)(string=text).get_model()


def random_evidence(model: kneebayes.Model, n: int, seed: int) -> list[dict[str, str]]:
    """Evidence sets drawn from every askable node and its states (seeded, so failures reproduce)."""
    rng = np.random.default_rng(seed)
    askable = [node for node in model.nodes if node.askable]
    out = []
    for _ in range(n):
        chosen = rng.choice(len(askable), size=int(rng.integers(1, min(6, len(askable)) + 1)), replace=False)
        out.append({askable[j].id: askable[j].states[int(rng.integers(len(askable[j].states)))] for j in chosen})
    return out


def assert_same_posteriors(a: kneebayes.Model, b: kneebayes.Model, evidence: list[dict[str, str]]) -> None:
    assert set(a.causes) == set(b.causes)   # the importer orders targets by the file's topological order
    checked = 0
    for ev in evidence:
        try:
            da = a.diagnose(ev)
        except kneebayes.ImpossibleEvidenceError:
            with pytest.raises(kneebayes.ImpossibleEvidenceError, match="has probability zero under this model"):
                b.diagnose(ev)
            continue
        db = b.diagnose(ev)
        for t in a.causes:
            for s, p in da.distributions[t].items():
                assert db.distributions[t][s] == pytest.approx(p, abs=TOL), (ev, t, s)
        assert db.log_evidence_probability == pytest.approx(da.log_evidence_probability, abs=TOL)
        checked += 1
    assert checked


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(knee_model: kneebayes.Model, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export")
    return {"bif": knee_model.to_bif(folder / "knee.bif"), "xml": knee_model.to_xmlbif(folder / "knee.xml")}


@pytest.fixture(scope="module")
def child() -> kneebayes.Model:
    return kneebayes.load_bif(example_path("child"), targets=["Disease"])


@pytest.fixture(scope="module")
def alarm_pgmpy():  # type: ignore[no-untyped-def]
    return read_pgmpy(example_path("alarm"))


# -- export -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["bif", "xml"])
def test_export_is_read_back_by_pgmpy_into_a_valid_model(exported: dict[str, Path], knee_model: kneebayes.Model,
                                                          fmt: str) -> None:
    path = exported[fmt]
    assert path.exists() and path.stat().st_size > 0
    network = read_pgmpy(path)
    assert network.check_model()
    net = knee_model.network
    assert {str(n) for n in network.nodes()} == set(net.names)
    for i, name in enumerate(net.names):
        cpd = network.get_cpds(name)
        assert tuple(cpd.state_names[name]) == net.states[i]
        assert tuple(cpd.variables[1:]) == tuple(net.names[p] for p in net.parents[i])
        # no digit lost: the writer's text reads back to the very same floats
        assert np.array_equal(cpd.get_values(), np.moveaxis(net.tables[i], -1, 0).reshape(net.cards[i], -1)), name


def test_model_methods_write_the_files_and_return_their_paths(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    bif = knee_model.to_bif(tmp_path / "a.bif")
    xml = knee_model.to_xmlbif(str(tmp_path / "a.xml"))
    assert bif == tmp_path / "a.bif" and bif.read_text(encoding="utf-8").startswith("network knee {")
    assert xml == tmp_path / "a.xml" and "<BIF VERSION=\"0.3\">" in xml.read_text(encoding="utf-8")
    assert "<NAME>knee</NAME>" in xml.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["bif", "xml"])
def test_load_bif_of_the_export_gives_the_same_posteriors(exported: dict[str, Path], knee_model: kneebayes.Model,
                                                          fmt: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RenormalisedWarning)   # exact tables: nothing to renormalise
        back = kneebayes.load_bif(exported[fmt], targets=knee_model.causes)
    assert back.import_report == ()
    assert set(back.causes) == set(knee_model.causes)
    assert all(back.node(c).states == knee_model.node(c).states for c in knee_model.causes)
    for i, name in enumerate(knee_model.network.names):
        j = back.network.index[name]
        assert back.network.states[j] == knee_model.network.states[i]
        assert np.array_equal(back.network.tables[j], knee_model.network.tables[i]), name
    assert_same_posteriors(knee_model, back, KNEE_EVIDENCE + random_evidence(knee_model, 25, seed=4))
    # the imported model is an ordinary model: sources say where it came from, everything askable but the causes
    assert all(n.askable for n in back.nodes if n.id not in knee_model.causes)
    assert back.spec.source_document == exported[fmt].name


def test_from_pgmpy_round_trip(knee_model: kneebayes.Model) -> None:
    back = kneebayes.from_pgmpy(knee_model.to_pgmpy(), targets=knee_model.causes)
    assert back.import_report == ()
    assert_same_posteriors(knee_model, back, KNEE_EVIDENCE + random_evidence(knee_model, 25, seed=5))


def test_export_of_an_imported_network_round_trips_both_formats(child: kneebayes.Model, tmp_path: Path) -> None:
    evidence = [{"LungParench": "Abnormal", "ChestXray": "Asy/Patch"}, {"LowerBodyO2": "<5", "Age": "0-3_days"},
                {"CO2Report": ">=7.5", "XrayReport": "Asy/Patchy", "CardiacMixing": "Transp."}]
    evidence += random_evidence(child, 15, seed=6)
    for path in (child.to_bif(tmp_path / "child.bif"), child.to_xmlbif(tmp_path / "child.xml")):
        back = kneebayes.load_bif(path, targets=["Disease"])
        assert back.node("ChestXray").states == child.node("ChestXray").states   # "Asy/Patch" kept, also in XMLBIF
        assert back.node("LowerBodyO2").states == ("<5", "5-12", "12+")
        assert_same_posteriors(child, back, evidence)


def test_xmlbif_keeps_state_names_that_pgmpys_writer_would_rename(child: kneebayes.Model, tmp_path: Path) -> None:
    text = child.to_xmlbif(tmp_path / "child.xml").read_text(encoding="utf-8")
    assert "<OUTCOME>Asy/Patch</OUTCOME>" in text and "<OUTCOME>&lt;5</OUTCOME>" in text
    assert "Asy_Patch" not in text


def test_bif_refuses_names_it_cannot_carry_but_xmlbif_keeps_them(tmp_path: Path) -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(
        TabularCPD("A", 2, [[0.25], [0.75]], state_names={"A": ["low, mild", "high (severe)"]}),
        TabularCPD("B", 2, [[0.1, 0.8], [0.9, 0.2]], evidence=["A"], evidence_card=[2],
                   state_names={"B": ["yes", "no"], "A": ["low, mild", "high (severe)"]}),
    )
    model = kneebayes.from_pgmpy(bn, targets=["A"])
    with pytest.raises(ModelFileError) as info:
        model.to_bif(tmp_path / "x.bif")
    assert "'low, mild'" in str(info.value) and "node 'A'" in str(info.value)
    assert not (tmp_path / "x.bif").exists()
    back = kneebayes.load_bif(model.to_xmlbif(tmp_path / "x.xml"), targets=["A"])
    assert back.node("A").states == ("low, mild", "high (severe)")
    assert back.diagnose({"B": "yes"}).distributions["A"]["low, mild"] == pytest.approx(
        model.diagnose({"B": "yes"}).distributions["A"]["low, mild"], abs=TOL)


# -- import: renormalisation, tolerance, errors -------------------------------------------------

def off_columns(network, tolerance: float = 0.0) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """(node, column number) of every column whose exact sum differs from 1 by more than ``tolerance``."""
    out = set()
    for cpd in network.get_cpds():
        values = cpd.get_values()
        for j in range(values.shape[1]):
            if abs(math.fsum(values[:, j]) - 1.0) > tolerance:
                out.add((str(cpd.variable), j))
    return out


def test_importer_renormalises_a_rounded_example_network_and_reports_it(alarm_pgmpy) -> None:  # type: ignore[no-untyped-def]
    # CHILD's published columns happen to sum to exactly 1 (see the next test); ALARM's are rounded.
    expected = off_columns(alarm_pgmpy, 1e-9)   # those off by rounding alone are rescaled but not reported
    assert expected, "ALARM is expected to have rounded columns"
    with pytest.warns(RenormalisedWarning, match="renormalised"):
        model = kneebayes.load_bif(example_path("alarm"), targets=ALARM_TARGETS)
    report = model.import_report
    assert len(report) == len(expected)
    assert {r.node for r in report} == {node for node, _ in expected}
    for r in report:
        assert 1e-9 < abs(r.total - 1.0) <= 1e-6
        assert all(isinstance(p, str) and isinstance(s, str) for p, s in r.given)
    net = model.network
    for i, table in enumerate(net.tables):  # every column now sums to 1
        sums = table.reshape(-1, net.cards[i]).sum(axis=1)
        assert np.allclose(sums, 1.0, rtol=0, atol=1e-15)
    # and pgmpy on the renormalised export agrees with kneebayes
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(model.to_pgmpy())
    for ev in random_evidence(model, 4, seed=7):
        dx = model.diagnose(ev)
        for t in ALARM_TARGETS[:3]:
            result = ve.query([t], evidence=ev, show_progress=False)
            for s, p in dx.distributions[t].items():
                assert float(result.get_value(**{t: s})) == pytest.approx(p, abs=1e-9)


def _tiny_last(tmp_path: Path, first: str, tiny: str) -> kneebayes.Model:
    path = tmp_path / "tiny.bif"
    path.write_text("network t {}\nvariable A { type discrete [ 2 ] { yes, no }; }\n"
                    "variable B { type discrete [ 2 ] { neg, pos }; }\nprobability ( A ) { table 0.5, 0.5; }\n"
                    f"probability ( B | A ) {{ (yes) {first}, {tiny}; (no) 0.5, 0.5; }}\n")
    return kneebayes.load_bif(path, targets=["A"])


def test_rescaling_a_column_keeps_its_tiny_last_entry(tmp_path: Path) -> None:
    # 0.9999999999999999 + 1e-20 is one unit in the last place short of 1: rescaled, not rewritten
    model = _tiny_last(tmp_path, "0.9999999999999999", "1e-20")
    table = model.network.tables[model.network.index["B"]]
    assert table[0, 1] == pytest.approx(1e-20, rel=1e-15, abs=0)
    posterior = model.diagnose({"B": "pos"}).distributions["A"]["yes"]
    assert posterior == pytest.approx(0.5e-20 / (0.5e-20 + 0.25), rel=1e-14, abs=0)
    assert model.diagnose({"B": "pos", "A": "yes"}).evidence_probability == pytest.approx(0.5e-20, rel=1e-14, abs=0)


def test_a_column_off_by_more_keeps_each_entry_to_its_own_precision(tmp_path: Path) -> None:
    with pytest.warns(RenormalisedWarning, match="1 imported table column"):
        model = _tiny_last(tmp_path, "0.9999999", "3.1489334506357416e-12")
    table = model.network.tables[model.network.index["B"]]
    total = math.fsum([0.9999999, 3.1489334506357416e-12])
    assert table[0, 1] == pytest.approx(3.1489334506357416e-12 / total, rel=1e-15, abs=0)
    assert [r.node for r in model.import_report] == ["B"]


def test_a_column_off_by_rounding_alone_keeps_its_numbers_through_write_and_read(tmp_path: Path) -> None:
    """This column sums to 1 + 2.2e-16: divided by its sum on every reading, its numbers moved an ulp each time a
    network was written out and read back."""
    column = [0.09120222323242, 0.48692369463444435, 0.4218740821331358]
    assert math.fsum(column) != 1.0
    path = tmp_path / "three.bif"
    path.write_text("network t {}\nvariable A { type discrete [ 3 ] { a, b, c }; }\n"
                    f"probability ( A ) {{ table {', '.join(map(repr, column))}; }}\n")
    model = kneebayes.load_bif(path, targets=["A"])
    for _ in range(2):
        assert model.network.tables[0].tolist() == column
        model = kneebayes.load_network(model.to_bif(tmp_path / "again.bif"), targets=["A"])


def test_a_column_off_by_rounding_alone_is_not_reported(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RenormalisedWarning)
        model = _tiny_last(tmp_path, "0.9999999999999999", "1e-20")
    assert model.import_report == ()


def test_the_renormalised_warning_points_at_the_line_that_loaded_the_network(tmp_path: Path) -> None:
    path = tmp_path / "rain.bif"
    path.write_text("network rain {}\nvariable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.79999999; }\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kneebayes.load_network(path, targets=["Rain"])
    assert [(w.category, Path(w.filename).name) for w in caught] == [(RenormalisedWarning, Path(__file__).name)]


def test_from_pgmpy_keeps_a_tiny_entry_of_a_numpy_normalised_column() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    raw = np.array([0.0635678391959799, 0.9494321608040202, 1e-17])
    col = raw / raw.sum()                       # sums to 1 - 1.1e-16, as such columns often do
    assert math.fsum(col) != 1.0
    bn = DiscreteBayesianNetwork([("T", "F")])
    bn.add_cpds(TabularCPD("T", 2, [[0.5], [0.5]], state_names={"T": ["yes", "no"]}),
                TabularCPD("F", 3, np.column_stack([col, np.full(3, 1 / 3)]).tolist(), evidence=["T"],
                           evidence_card=[2], state_names={"F": ["f0", "f1", "f2"], "T": ["yes", "no"]}))
    model = kneebayes.from_pgmpy(bn, targets=["T"])
    posterior = model.diagnose({"F": "f2"}).distributions["T"]["yes"]
    assert posterior == pytest.approx(0.5 * col[2] / (0.5 * col[2] + 0.5 / 3), rel=1e-14, abs=0)


def test_child_imports_exactly(child: kneebayes.Model) -> None:
    assert child.import_report == ()
    assert child.causes == ("Disease",)
    assert child.node("Disease").kind == "cause"
    assert child.spec.source_document == "child.bif.gz"
    assert all(n.askable for n in child.nodes if n.id != "Disease")


def test_a_column_beyond_the_tolerance_is_an_error_naming_node_and_column(alarm_pgmpy) -> None:  # type: ignore[no-untyped-def]
    expected = off_columns(alarm_pgmpy, tolerance=1e-12)
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(alarm_pgmpy, targets=ALARM_TARGETS, tolerance=1e-12)
    problems = info.value.problems
    assert len(problems) == len(expected)
    assert {p.node for p in problems} == {node for node, _ in expected}
    assert all(p.field == "table" and "sums to" in p.message for p in problems)


def test_a_bad_column_in_a_pgmpy_model_is_an_error() -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(
        TabularCPD("A", 2, [[0.3], [0.7]], state_names={"A": ["on", "off"]}),
        TabularCPD("B", 2, [[0.5, 0.2], [0.5, 0.7]], evidence=["A"], evidence_card=[2],   # column A=off sums to 0.9
                   state_names={"B": ["yes", "no"], "A": ["on", "off"]}),
    )
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    text = str(info.value)
    assert "node 'B'" in text and "{A=off} sums to 0.8999" in text
    assert "{A=on}" not in text


def test_unknown_target_is_an_unknown_node_error_with_suggestions() -> None:
    with pytest.raises(UnknownNodeError) as info:
        kneebayes.load_bif(example_path("child"), targets=["Diseas"])
    assert "Disease" in info.value.suggestions
    assert "target" in str(info.value)


def test_imported_state_names_work_as_evidence(child: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    assert child.node("ChestXray").states[-1] == "Asy/Patch"
    assert child.node("CO2Report").states == ("<7.5", ">=7.5")
    assert child.node("DuctFlow").states[1] == "None"        # a state named "None" is a state, not a missing value
    evidence = {"ChestXray": "Asy/Patch", "LowerBodyO2": "12+", "Age": "11-30_days", "DuctFlow": "None",
                "CardiacMixing": "Transp."}
    dx = child.diagnose(evidence)
    ve = VariableElimination(read_pgmpy(example_path("child")))
    result = ve.query(["Disease"], evidence=evidence, show_progress=False)
    for s, p in dx.distributions["Disease"].items():
        assert float(result.get_value(Disease=s)) == pytest.approx(p, abs=1e-9)
    with pytest.raises(kneebayes.InvalidStateError) as info:
        child.diagnose({"ChestXray": "Asy_Patch"})
    assert "Asy/Patch" in str(info.value)
    frame = child.diagnose_frame([evidence, {"ChestXray": "Asy/Patch"}])
    assert frame.loc[0, "Disease=Lung"] == pytest.approx(dx.distributions["Disease"]["Lung"], abs=TOL)


# -- what a pgmpy model says besides its tables -------------------------------------------------

def _rain_wet_hail():  # type: ignore[no-untyped-def]
    """Rain -> Wet, Rain -> Hail, Hail latent: a pgmpy model."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    yes_no = ["yes", "no"]
    bn = DiscreteBayesianNetwork([("Rain", "Wet"), ("Rain", "Hail")], latents={"Hail"})
    bn.add_cpds(TabularCPD("Rain", 2, [[0.2], [0.8]], state_names={"Rain": yes_no}),
                *(TabularCPD(n, 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["Rain"], evidence_card=[2],
                             state_names={n: yes_no, "Rain": yes_no}) for n in ("Wet", "Hail")))
    return bn


def test_a_pgmpy_latent_node_is_not_asked_about_unless_askable_names_it() -> None:
    by_default = kneebayes.from_pgmpy(_rain_wet_hail(), targets=["Rain"])
    named = kneebayes.from_pgmpy(_rain_wet_hail(), targets=["Rain"], askable=["Wet", "Hail"])
    assert [n.id for n in by_default.askable_nodes] == ["Wet"]
    assert [n.id for n in named.askable_nodes] == ["Wet", "Hail"]


def test_a_pgmpy_node_description_attribute_becomes_its_description() -> None:
    bn = _rain_wet_hail()
    bn.nodes["Wet"]["description"] = "Is the grass wet?"
    assert kneebayes.from_pgmpy(bn, targets=["Rain"]).node("Wet").description == "Is the grass wet?"


def test_other_pgmpy_node_attributes_and_roles_are_named_in_one_warning() -> None:
    bn = _rain_wet_hail().with_role("exposures", ["Wet"])
    bn.nodes["Wet"]["colour"] = "blue"
    bn.nodes["Wet"]["position"] = "(10, 20)"   # layout: not named
    with pytest.warns(kneebayes.SkippedContentWarning) as caught:
        kneebayes.from_pgmpy(bn, targets=["Rain"])
    assert str(caught[0].message) == ("pgmpy model: not read, as a kneebayes model has no place for them: pgmpy role "
                                      "'exposures' (node 'Wet'), node attribute 'colour' (node 'Wet'); the nodes, "
                                      "states, parents and numbers are read in full")


# -- normal states ------------------------------------------------------------------------------

def fault_network(states: list[str]):  # type: ignore[no-untyped-def]
    """Fault (the target, with ``states``) -> Light (yes/no), as a pgmpy model."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    k = len(states)
    bn = DiscreteBayesianNetwork([("Fault", "Light")])
    bn.add_cpds(
        TabularCPD("Fault", k, [[1 / k]] * k, state_names={"Fault": states}),
        TabularCPD("Light", 2, [[0.9] + [0.2] * (k - 1), [0.1] + [0.8] * (k - 1)], evidence=["Fault"],
                   evidence_card=[k], state_names={"Light": ["yes", "no"], "Fault": states}),
    )
    return bn


def test_normal_states_sets_a_targets_normal_state() -> None:
    model = kneebayes.from_pgmpy(fault_network(["fine", "worn", "broken"]), targets=["Fault"],
                                 normal_states={"Fault": "fine"})
    assert model.normal_states == {"Fault": "fine"}
    assert model.spec.node("Fault").normal_state == "fine"


def test_normal_states_with_a_misspelt_target_suggests_the_nearest() -> None:
    with pytest.raises(UnknownNodeError) as info:
        kneebayes.from_pgmpy(fault_network(["fine", "broken"]), targets=["Fault"], normal_states={"Falt": "fine"})
    assert str(info.value) == "unknown target 'Falt' in normal_states; did you mean 'Fault'?"


def test_normal_states_on_a_node_that_is_not_a_target_names_the_targets() -> None:
    with pytest.raises(UnknownNodeError) as info:
        kneebayes.from_pgmpy(fault_network(["fine", "broken"]), targets=["Fault"], normal_states={"Light": "no"})
    assert str(info.value) == ("unknown target 'Light' in normal_states (a node of the network, but not a target; "
                               "the targets are Fault)")


def test_normal_states_with_a_state_the_target_lacks_lists_its_states() -> None:
    with pytest.raises(kneebayes.InvalidStateError) as info:
        kneebayes.from_pgmpy(fault_network(["fine", "broken"]), targets=["Fault"], normal_states={"Fault": "Fine"})
    assert str(info.value) == "invalid state 'Fine' for node 'Fault': valid states are 'fine', 'broken'"


@pytest.mark.parametrize(("states", "found"), [
    (["present", "absent"], "absent"),
    (["NORMAL", "ESOPHAGEAL", "ONESIDED"], "NORMAL"),
    (["Correct", "Incorrect"], "Correct"),
    (["Operational", "Not_Operational"], "Operational"),
])
def test_a_state_named_as_no_fault_is_found_as_the_normal_state(states: list[str], found: str) -> None:
    assert kneebayes.from_pgmpy(fault_network(states), targets=["Fault"]).normal_states == {"Fault": found}


@pytest.mark.parametrize("states", [["Yes", "No"], ["TRUE", "FALSE"], ["OK", "Normal", "Failed"], ["PFC", "TGA", "Lung"]])
def test_no_normal_state_is_guessed_from_boolean_ambiguous_or_no_names(states: list[str]) -> None:
    assert kneebayes.from_pgmpy(fault_network(states), targets=["Fault"]).normal_states == {"Fault": None}


def test_a_given_normal_state_wins_over_the_name_rule() -> None:
    model = kneebayes.from_pgmpy(fault_network(["Normal", "High"]), targets=["Fault"], normal_states={"Fault": "High"})
    assert model.normal_states == {"Fault": "High"}


def test_the_name_rule_can_be_turned_off() -> None:
    model = kneebayes.from_pgmpy(fault_network(["Normal", "High"]), targets=["Fault"], detect_normal_states=False)
    assert model.normal_states == {"Fault": None}


def test_a_yes_no_target_is_normal_when_no_without_being_told() -> None:
    model = kneebayes.from_pgmpy(fault_network(["yes", "no"]), targets=["Fault"], detect_normal_states=False)
    assert model.normal_states == {"Fault": "no"}


# -- our own writers, read back by both readers -------------------------------------------------

def _pgmpy_from_text(text: str, fmt: str):  # type: ignore[no-untyped-def]
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    return (BIFReader if fmt == "bif" else XMLBIFReader)(string=text).get_model()


@pytest.mark.parametrize("fmt", ["bif", "xml"])
@pytest.mark.parametrize(("name", "target"), [("asia", "asia"), ("child", "Disease"), ("alarm", "HYPOVOLEMIA")])
def test_our_writers_are_read_by_pgmpy_and_by_us_to_identical_tables(name: str, target: str, fmt: str,
                                                                      tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)
        model = kneebayes.load_network(example_path(name), targets=[target])
    path = (model.to_bif if fmt == "bif" else model.to_xmlbif)(tmp_path / f"{name}.{fmt}")
    theirs = _pgmpy_from_text(path.read_text(encoding="utf-8"), fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RenormalisedWarning)   # what we wrote sums to 1 exactly as it did
        ours = kneebayes.load_network(path, targets=[target])
    net = model.network
    for i, node in enumerate(net.names):
        expected = np.moveaxis(net.tables[i], -1, 0).reshape(net.cards[i], -1)
        cpd = theirs.get_cpds(node)
        assert tuple(cpd.state_names[node]) == net.states[i]
        assert tuple(cpd.variables[1:]) == tuple(net.names[p] for p in net.parents[i])
        assert np.array_equal(cpd.get_values(), expected), node
        j = ours.network.index[node]
        assert ours.network.parents[j] == tuple(ours.network.index[net.names[p]] for p in net.parents[i])
        assert np.array_equal(ours.network.tables[j], net.tables[i]), node


def test_writing_and_reading_network_files_needs_no_pgmpy(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""\
        import sys
        sys.modules["pgmpy"] = None   # as if pgmpy were not installed
        import kneebayes
        model = kneebayes.load_model()
        for suffix in (".bif", ".xml", ".xdsl", ".bif.gz"):
            path = {str(tmp_path)!r} + "/knee" + suffix
            write = model.to_bif if "bif" in suffix else model.to_xmlbif if suffix == ".xml" else None
            if write is None:
                from kneebayes.interop.files import to_xdsl
                to_xdsl(model, path)
            else:
                write(path)
            back = kneebayes.load_network(path, targets=model.causes)
            a, b = model.diagnose({{"limping": "yes"}}), back.diagnose({{"limping": "yes"}})
            print(suffix, max(abs(a.posterior[c] - b.posterior[c]) for c in model.causes) < 1e-12)
        try:
            model.to_pgmpy()
        except kneebayes.MissingExtraError as exc:
            print(exc)
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [".bif True", ".xml True", ".xdsl True", ".bif.gz True"]
    assert lines[4].endswith("pip install 'kneebayes[interop]'")


@pytest.mark.parametrize("fmt", ["bif", "xml", "xdsl"])
def test_an_export_to_a_gz_name_is_gzipped_and_loads_back(knee_model: kneebayes.Model, fmt: str,
                                                         tmp_path: Path) -> None:
    from kneebayes.interop.files import to_bif, to_xdsl, to_xmlbif

    write = {"bif": to_bif, "xml": to_xmlbif, "xdsl": to_xdsl}[fmt]
    path = write(knee_model, tmp_path / f"knee.{fmt}.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    back = kneebayes.load_network(path, targets=knee_model.causes)
    assert all(np.array_equal(back.network.tables[back.network.index[n]], knee_model.network.tables[i])
               for i, n in enumerate(knee_model.network.names))


def test_bif_refuses_node_names_that_differ_only_in_case(tmp_path: Path) -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(["Rain", "rain"])
    bn.add_cpds(TabularCPD("Rain", 2, [[0.5], [0.5]]), TabularCPD("rain", 2, [[0.5], [0.5]]))
    model = kneebayes.from_pgmpy(bn, targets=["Rain"])
    with pytest.raises(ModelFileError) as info:
        model.to_bif(tmp_path / "x.bif")
    assert "node 'rain'" in str(info.value) and "only in case" in str(info.value)
    assert not (tmp_path / "x.bif").exists()
    back = kneebayes.load_network(model.to_xmlbif(tmp_path / "x.xml"), targets=["Rain"])
    assert [n.id for n in back.nodes] == ["Rain", "rain"]


def test_bif_takes_a_comma_after_the_last_number_as_pgmpy_does(tmp_path: Path) -> None:
    from pgmpy.readwrite import BIFReader

    path = tmp_path / "rain.bif"
    path.write_text("network x {}\nvariable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "variable Wet { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.8,; }\n"
                    "probability ( Wet | Rain ) { ( yes ) 0.9, 0.1 ,; ( no ) 0.3, 0.7; }\n")
    ours = {c.variable: c.values for c in kneebayes.load_bif(path, targets=["Rain"]).to_pgmpy().get_cpds()}
    theirs = {c.variable: c.values for c in BIFReader(str(path)).get_model().get_cpds()}
    assert ours["Rain"].tolist() == theirs["Rain"].tolist() == [0.2, 0.8]
    assert np.array_equal(ours["Wet"], theirs["Wet"]) and ours["Wet"].tolist() == [[0.9, 0.3], [0.1, 0.7]]


# -- one loader for every format ------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".bif", ".xml", ".xmlbif", ".xdsl", ".bif.gz", ".xmlbif.gz", ".xdsl.gz"])
def test_load_network_reads_each_format_by_its_suffix(knee_model: kneebayes.Model, suffix: str,
                                                      tmp_path: Path) -> None:
    from kneebayes.interop.files import to_bif, to_xdsl, to_xmlbif

    write = to_bif if suffix.startswith(".bif") else to_xdsl if suffix.startswith(".xdsl") else to_xmlbif
    path = write(knee_model, tmp_path / f"knee{suffix}")
    back = kneebayes.load_network(path, targets=["meniscal_injury"], costs={"limping": 2.0},
                                  askable=["limping", "locking_or_catching"])
    assert back.causes == ("meniscal_injury",) and back.spec.node("limping").cost == 2.0
    assert {n.id for n in back.nodes if n.askable} == {"limping", "locking_or_catching"}


def test_load_network_refuses_an_unknown_suffix_listing_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "knee.yaml"
    path.write_text("network x {\n}\n", encoding="utf-8")
    with pytest.raises(kneebayes.InputFileError) as info:
        kneebayes.load_network(path, targets=["A"])
    text = str(info.value)
    assert "knee.yaml" in text and all(s in text for s in (".bif", ".xml", ".xmlbif", ".xdsl", "gzipped"))


def test_load_bif_still_reads_a_network_whatever_its_suffix(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    text = knee_model.to_bif(tmp_path / "knee.bif").read_text(encoding="utf-8")
    path = tmp_path / "knee.txt"
    path.write_text(text, encoding="utf-8")
    assert kneebayes.load_bif(path, targets=knee_model.causes).network.names == knee_model.network.names


@pytest.mark.parametrize(("path", "expected"), [
    ("alarm.bif", True), ("alarm.bif.gz", True), ("net.xml", True), ("net.XMLBIF", True), ("net.xmlbif.gz", True),
    ("printer.xdsl", True), ("printer.xdsl.gz", True), (Path("dir.bif") / "knee.yaml", False), ("knee.yml", False),
    ("notes.gz", False), ("bif", False), ("network.xdsl.bak", False),
])
def test_is_network_path_goes_by_the_suffix_alone(path: str | Path, expected: bool) -> None:
    from kneebayes.interop.importer import is_network_path

    assert is_network_path(path) is expected


@pytest.mark.parametrize(("writer", "name", "named"), [
    ("to_bif", "k.xdsl", "an XDSL"), ("to_bif", "k.xml.gz", "an XMLBIF"), ("to_xmlbif", "k.bif", "a BIF"),
    ("to_xdsl", "k.xmlbif", "an XMLBIF"),
])
def test_a_writer_refuses_a_name_whose_suffix_is_another_network_format(writer: str, name: str, named: str,
                                                                       tmp_path: Path) -> None:
    from kneebayes.errors import InputFileError

    with pytest.raises(InputFileError, match=f"has the suffix of {named} file, but this writes") as info:
        getattr(kneebayes.load_model(), writer)(tmp_path / name)
    assert name in str(info.value) and list(tmp_path.iterdir()) == []


def test_a_writer_takes_a_name_that_is_no_network_format(tmp_path: Path) -> None:
    path = kneebayes.load_model().to_bif(tmp_path / "knee.txt")
    assert path.read_text(encoding="utf-8").startswith("network")
