"""``kneebayes.dask``: a Dask DataFrame in, the pandas call's answer out, on threads and on a two-process cluster.

The reference is always the in-process pandas call on the same rows, compared
exactly (``assert_frame_equal``, no tolerance). One ``LocalCluster`` with two
worker processes serves the whole module (it takes seconds to start).
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed: pip install 'kneebayes[dask]'")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed: pip install 'kneebayes[dask]'")

import cloudpickle  # noqa: E402 - distributed brings it; imported after the skip above
import dask  # noqa: E402

import kneebayes  # noqa: E402
from kneebayes import EvidenceError, InvalidStateError, ParameterError, UnknownNodeError  # noqa: E402
from kneebayes.dask import sweep  # noqa: E402

FLAGS = {"triage": True, "next_question": True, "explain": True}
KEEP = ["patient_id", "visit"]   # the columns of the cases that are not answers


def answers(model: kneebayes.Model, n: int, seed: int) -> pd.DataFrame:
    """``n`` cases answering a random part of the askable questions; a non-default index with repeated labels."""
    rng = np.random.default_rng(seed)
    askable = [node for node in model.nodes if node.askable]
    data = {}
    for node in askable:
        choices = np.array([*node.states, None], dtype=object)
        data[node.id] = choices[rng.choice(len(choices), size=n, p=[0.3 / len(node.states)] * len(node.states) + [0.7])]
    data["patient_id"] = [f"p{k}" for k in range(n)]
    data["visit"] = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 365, size=n), unit="D")
    return pd.DataFrame(data, index=pd.Index(rng.integers(0, n // 3, size=n), name="runner"))


@pytest.fixture(scope="module")
def cases(knee_model: kneebayes.Model) -> pd.DataFrame:
    return answers(knee_model, 3000, seed=7)


def _local_cluster():  # type: ignore[no-untyped-def]
    """Two worker processes, one thread each, and a client that is not the default."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=50)
    with distributed.Client(cluster, set_as_default=False) as found:
        yield found
    cluster.close()


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    yield from _local_cluster()


@pytest.fixture
def own_client():  # type: ignore[no-untyped-def]
    """A cluster of the test's own: a test that kills a worker, or runs after other tests changed the workers'
    state, starts from fresh workers (on a loaded machine a shared cluster's sweep after both could hang)."""
    yield from _local_cluster()


def lazy(frame: pd.DataFrame, npartitions: int = 4) -> dd.DataFrame:
    """The frame as Dask holds it; text stays the pandas dtype, so the kept columns compare exactly."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(frame, npartitions=npartitions, sort=False)


def threads(collection: dd.DataFrame) -> pd.DataFrame:
    return collection.compute(scheduler="threads")


# -- diagnose_frame on a Dask DataFrame ----------------------------------------------------------

def test_a_dask_frame_gives_a_lazy_dask_frame_with_one_partition_per_partition(knee_model, cases) -> None:
    found = knee_model.diagnose_frame(lazy(cases), keep=KEEP)
    assert isinstance(found, dd.DataFrame)
    assert found.npartitions == 4


def test_threads_give_exactly_the_pandas_call(knee_model, cases) -> None:
    keep = ["patient_id", "visit"]
    found = threads(knee_model.diagnose_frame(lazy(cases), keep=keep))
    pd.testing.assert_frame_equal(found, knee_model.diagnose_frame(cases, keep=keep))


def test_a_local_cluster_gives_exactly_the_pandas_call(knee_model, cases, client) -> None:
    keep = ["patient_id", "visit"]
    found = client.compute(knee_model.diagnose_frame(lazy(cases), keep=keep, triage=True)).result()
    pd.testing.assert_frame_equal(found, knee_model.diagnose_frame(cases, keep=keep, triage=True))


def test_the_index_is_kept_with_its_repeated_labels_and_name(knee_model, cases) -> None:
    found = threads(knee_model.diagnose_frame(lazy(cases), keep=KEEP))
    assert cases.index.has_duplicates
    pd.testing.assert_index_equal(found.index, cases.index)
    assert found["patient_id"].tolist() == cases["patient_id"].tolist()


def test_kept_columns_keep_their_values_and_dtypes(knee_model, cases) -> None:
    found = threads(knee_model.diagnose_frame(lazy(cases), keep=["visit", "patient_id"]))
    assert list(found.columns[:2]) == ["visit", "patient_id"]
    pd.testing.assert_frame_equal(found[["visit", "patient_id"]], cases[["visit", "patient_id"]])


def test_triage_next_question_and_explain_columns_equal_the_pandas_call(knee_model, cases) -> None:
    few = cases.iloc[:300]
    found = threads(knee_model.diagnose_frame(lazy(few, npartitions=3), keep=KEEP, **FLAGS))
    expected = knee_model.diagnose_frame(few, keep=KEEP, **FLAGS)
    assert {"triage", "reasons", "next_question", "explaining_cause", "bayes_factor"} <= set(found.columns)
    pd.testing.assert_frame_equal(found, expected)


def test_the_lazy_frame_announces_the_dtypes_it_computes(knee_model, cases) -> None:
    collection = knee_model.diagnose_frame(lazy(cases.iloc[:200]), keep=KEEP, **FLAGS)
    pd.testing.assert_series_equal(collection.dtypes, threads(collection).dtypes)


def test_text_that_dask_stores_as_strings_equals_the_pandas_call_on_what_dask_holds(knee_model, cases) -> None:
    converted = dd.from_pandas(cases, npartitions=3, sort=False)   # dask's default: text as its string dtype
    found = threads(knee_model.diagnose_frame(converted, keep=KEEP, triage=True))
    pd.testing.assert_frame_equal(found, knee_model.diagnose_frame(threads(converted), keep=KEEP, triage=True))


def test_an_unknown_column_fails_when_the_graph_is_built(knee_model, cases) -> None:
    with pytest.raises(UnknownNodeError, match="unknown column 'patient_id'; to carry such columns through to the "
                                               r"result, pass keep=\['patient_id', 'visit'\]"):
        knee_model.diagnose_frame(lazy(cases))


def test_a_bad_cell_raises_invalid_state_error_when_its_partition_runs(knee_model, cases) -> None:
    bad = cases.copy()
    bad.iloc[-1, 0] = "maybe"
    collection = knee_model.diagnose_frame(lazy(bad), keep=["patient_id", "visit"])   # builds: cells are not read yet
    with pytest.raises(InvalidStateError, match="'maybe'"):
        threads(collection)


@pytest.mark.parametrize("cell", [True, kneebayes.Likelihood(yes=3, no=1), kneebayes.Likelihood(yes=1, no=3, label="a bit")])
def test_a_soft_or_true_false_answer_dask_stored_as_text_is_refused_saying_how_to_keep_it(knee_model, cell) -> None:
    frame = pd.DataFrame({"limping": [cell, "no"]}, dtype=object)
    converted = dd.from_pandas(frame, npartitions=1)   # dask's default: an object column becomes text
    with pytest.raises(InvalidStateError, match=r"row 0, column 'limping': invalid state .*; Dask stored column "
                                                r"'limping' as text \(its dataframe.convert-string setting\)"):
        threads(knee_model.diagnose_frame(converted))
    kept = lazy(frame, npartitions=1)   # built as the message says: the pandas call's answer
    pd.testing.assert_frame_equal(threads(knee_model.diagnose_frame(kept)), knee_model.diagnose_frame(frame))


def test_a_dask_series_is_refused_with_its_type(knee_model, cases) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="must be a dask.dataframe.DataFrame of cases, got Series"):
        knee_model.diagnose_frame(lazy(cases)["limping"])


# -- the model in the graph ------------------------------------------------------------------------

def test_equal_models_give_the_same_token(knee_model) -> None:
    assert dask.base.tokenize(knee_model) == dask.base.tokenize(kneebayes.load_model())


def test_a_changed_model_gives_another_token(knee_model) -> None:
    changed = knee_model.with_parameters({"bakers_cyst.leak": 0.2})
    assert dask.base.tokenize(changed) != dask.base.tokenize(knee_model)


def test_equal_models_build_the_same_graph_keys(knee_model, cases) -> None:
    frame = lazy(cases)
    first = knee_model.diagnose_frame(frame, keep=["patient_id", "visit"])
    again = kneebayes.load_model().diagnose_frame(frame, keep=["patient_id", "visit"])
    assert first.__dask_keys__() == again.__dask_keys__()


class ModelCounter(cloudpickle.Pickler):
    """Pickles as Dask ships a task, counting the models met on the way (pickle asks ``persistent_id``
    about every object before it reduces it; answering None pickles it as usual)."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.models = 0

    def persistent_id(self, obj: object) -> str | None:
        if isinstance(obj, kneebayes.Model):
            self.models += 1
            return f"model {self.models}"
        return None


def models_in(task: object) -> int:
    counter = ModelCounter(io.BytesIO())
    counter.dump(task)
    return counter.models


def test_the_graph_holds_the_model_once_not_once_a_partition(knee_model, cases) -> None:
    graph = dict(knee_model.diagnose_frame(lazy(cases, npartitions=6), keep=["patient_id", "visit"]).__dask_graph__())
    assert sum(models_in(task) for task in graph.values()) == 1


def _count_model_loads() -> None:
    """On a worker: count from now on how many models are built (a pickled model loads by building
    one, which compiles its network; nothing else on a worker builds one)."""
    if not hasattr(kneebayes.Model, "built"):
        build = kneebayes.Model.__init__

        def counted(self, *args, **options):  # type: ignore[no-untyped-def]
            kneebayes.Model.built += 1   # type: ignore[attr-defined]
            build(self, *args, **options)

        kneebayes.Model.__init__ = counted   # type: ignore[method-assign]
    kneebayes.Model.built = 0   # type: ignore[attr-defined]


def _model_loads() -> int:
    return kneebayes.Model.built   # type: ignore[attr-defined]


def test_each_worker_loads_the_model_at_most_once_for_many_partitions(knee_model, cases, client) -> None:
    client.run(_count_model_loads)
    changed = knee_model.with_parameters({"bakers_cyst.leak": 0.1})   # a model no worker holds yet
    client.compute(changed.diagnose_frame(lazy(cases, npartitions=8), keep=KEEP)).result()
    loads = client.run(_model_loads)
    assert len(loads) == 2 and sum(loads.values()) >= 1
    assert max(loads.values()) == 1


def test_a_model_pickles_as_its_spec_in_kilobytes(knee_model) -> None:
    assert len(pickle.dumps(knee_model)) < 200_000


# -- a worker that dies -----------------------------------------------------------------------------

def _die_once(part: pd.DataFrame, marker: str) -> pd.DataFrame:
    """Kill this worker's process the first time any partition gets here (the marker file says it happened)."""
    try:
        with open(marker, "x"):
            pass
    except FileExistsError:
        return part
    os._exit(1)


def test_a_worker_that_dies_mid_run_is_replaced_without_a_wrong_or_missing_row(knee_model, cases, own_client,
                                                                                 tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    frame = lazy(cases, npartitions=6)
    doomed = frame.map_partitions(_die_once, marker, meta=frame)
    found = own_client.compute(knee_model.diagnose_frame(doomed, keep=KEEP), retries=2).result()
    assert os.path.exists(marker)   # a worker did die
    pd.testing.assert_frame_equal(found, knee_model.diagnose_frame(cases, keep=KEEP))


# -- sweep ---------------------------------------------------------------------------------------

CHANGES = [{}, {"bakers_cyst.leak": 0.2}, {"poor_warmup.prior": 0.3, "bakers_cyst.leak": 0.02}]


def looped(model: kneebayes.Model, changes: list[dict], frame: pd.DataFrame, **options) -> pd.DataFrame:
    """What a sweep replaces: a loop of with_parameters(...).diagnose_frame(...), one variant after another."""
    parts = []
    for k, change in enumerate(changes):
        out = model.with_parameters(change).diagnose_frame(frame, **options)
        out.insert(0, "case", out.index)
        out.insert(0, "variant", k)
        parts.append(out)
    return pd.concat(parts).reset_index(drop=True)


def test_sweep_equals_a_loop_of_with_parameters_on_threads(knee_model, cases) -> None:
    few = cases.iloc[:500]
    found = sweep(knee_model, CHANGES, few, scheduler="threads", keep=KEEP, partition_rows=200)
    pd.testing.assert_frame_equal(found, looped(knee_model, CHANGES, few, keep=KEEP))


def test_sweep_equals_a_loop_of_with_parameters_on_a_local_cluster(knee_model, cases, own_client) -> None:
    found = sweep(knee_model, CHANGES, cases, client=own_client, keep=KEEP, triage=True, explain=True, partition_rows=1000)
    pd.testing.assert_frame_equal(found, looped(knee_model, CHANGES, cases, keep=KEEP, triage=True, explain=True))


def test_sweep_takes_a_dask_frame_as_its_cases(knee_model, cases) -> None:
    few = cases.iloc[:400]
    found = sweep(knee_model, CHANGES[:2], lazy(few, npartitions=3), scheduler="threads", keep=KEEP)
    pd.testing.assert_frame_equal(found, looped(knee_model, CHANGES[:2], few, keep=KEEP))


def test_sweep_with_no_changes_gives_an_empty_table_with_the_columns(knee_model, cases) -> None:
    found = sweep(knee_model, [], cases.drop(columns=["patient_id", "visit"]))
    assert len(found) == 0
    assert list(found.columns[:3]) == ["variant", "case", knee_model.causes[0]]


def test_sweep_refuses_a_single_mapping_and_says_to_wrap_it(knee_model, cases) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"changes must be a list of parameter changes.*for one change, pass \[\{\.\.\.\}\]"):
        sweep(knee_model, {"bakers_cyst.leak": 0.2}, cases)


def test_sweep_refuses_changes_that_are_not_a_list(knee_model, cases) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="changes must be a list of parameter changes, each a dict .*got str 'abc'"):
        sweep(knee_model, "abc", cases)


def test_sweep_refuses_an_item_that_is_not_a_mapping(knee_model, cases) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="item 1 of changes is int 3"):
        sweep(knee_model, [{}, 3], cases)


def test_sweep_names_the_item_and_address_of_a_bad_parameter_before_anything_runs(knee_model, cases) -> None:
    with pytest.raises(ParameterError, match="item 2 of changes: unknown parameter address 'bakers_cyst.leek'"):
        sweep(knee_model, [{}, {}, {"bakers_cyst.leek": 0.1}], cases, keep=KEEP)


def test_sweep_refuses_a_kept_column_named_like_one_it_adds(knee_model, cases) -> None:
    with pytest.raises(EvidenceError, match="column 'case' of the result would clash"):
        sweep(knee_model, [{}], cases.rename(columns={"patient_id": "case"}), keep=["case", "visit"])


def test_sweep_refuses_partition_rows_below_one(knee_model, cases) -> None:
    with pytest.raises(kneebayes.SettingError, match="partition_rows must be from 1 to .*, got 0"):
        sweep(knee_model, [{}], cases, keep=["patient_id", "visit"], partition_rows=0)


def test_sweep_refuses_an_unknown_scheduler_before_anything_runs(knee_model, cases, monkeypatch) -> None:
    compiled = []
    monkeypatch.setattr(kneebayes.Model, "with_parameters", lambda self, change: compiled.append(change) or self)
    with pytest.raises(kneebayes.SettingError, match=r"scheduler must be one of 'threads', .* got 'bogus'"):
        sweep(knee_model, [{}], cases, keep=["patient_id", "visit"], scheduler="bogus")
    assert compiled == []


# -- staying light --------------------------------------------------------------------------------

def test_importing_kneebayes_dask_does_not_import_dask() -> None:
    code = "import sys, kneebayes.dask; print('dask' in sys.modules, 'distributed' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_without_dask_a_sweep_names_the_extra_to_install() -> None:
    code = textwrap.dedent(
        """\
        import sys
        class NoDask:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "dask":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, NoDask())
        import kneebayes, kneebayes.dask
        try:
            kneebayes.dask.sweep(kneebayes.load_model(), [{}], None)
        except kneebayes.MissingExtraError as err:
            print(err)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pip install 'kneebayes[dask]'" in result.stdout


def test_a_sweep_of_more_variants_than_its_limit_is_refused_before_any_is_compiled(knee_model, monkeypatch) -> None:
    monkeypatch.setattr(kneebayes.dask, "MAX_VARIANTS", 3)
    compiled = []
    monkeypatch.setattr(kneebayes.Model, "with_parameters", lambda self, change: compiled.append(change) or self)
    with pytest.raises(kneebayes.SettingError, match=r"the number of changes must be from 0 to 3 "
                                                     r"\(kneebayes\.dask\.MAX_VARIANTS\), got 4"):
        kneebayes.dask.sweep(knee_model, [{}] * 4, pd.DataFrame({"limping": ["yes"]}))
    assert compiled == []


def test_a_sweep_whose_result_would_pass_its_memory_limit_is_refused_before_it_runs(knee_model, monkeypatch) -> None:
    monkeypatch.setattr(kneebayes.dask, "SWEEP_MEMORY", 1000)
    with pytest.raises(kneebayes.SettingError, match=r"variants x cases=20 would need about .* the limit is 1,000 bytes "
                                                     r"\(kneebayes\.dask\.SWEEP_MEMORY\)"):
        kneebayes.dask.sweep(knee_model, [{}, {}], pd.DataFrame({"limping": ["yes"] * 10}), scheduler="synchronous")


def test_a_sweep_past_its_memory_limit_compiles_no_variant_first(knee_model, monkeypatch) -> None:
    monkeypatch.setattr(kneebayes.dask, "SWEEP_MEMORY", 1000)
    compiled = []
    monkeypatch.setattr(kneebayes.Model, "with_parameters", lambda self, change: compiled.append(change) or self)
    with pytest.raises(kneebayes.SettingError, match="SWEEP_MEMORY"):
        kneebayes.dask.sweep(knee_model, [{}, {}], pd.DataFrame({"limping": ["yes"] * 10}))
    assert compiled == []


def test_a_sweep_keeps_a_multiindex_as_tuples_in_its_case_column(knee_model) -> None:
    index = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["clinic", "visit"])
    few = pd.DataFrame({"limping": ["yes", "no", None]}, index=index)
    found = sweep(knee_model, [{}, {"bakers_cyst.leak": 0.2}], few, scheduler="threads", partition_rows=2)
    assert found["case"].tolist() == [*index, *index]
    expected = knee_model.with_parameters({"bakers_cyst.leak": 0.2}).diagnose_frame(few)
    np.testing.assert_array_equal(found["bakers_cyst"][3:].to_numpy(), expected["bakers_cyst"].to_numpy())
