"""Time kneebayes, pyAgrum and pgmpy on every network pgmpy ships and on two QMR-like networks, each engine in its own process.

    nice -n 10 python benchmarks/bench_scale.py --timeout 300 \\
        --markdown benchmarks/results/bench_scale.md --json benchmarks/results/bench_scale.json
    python benchmarks/bench_scale.py --quick                       # smoke run: two small BIFs, a small QMR-like
    python benchmarks/bench_scale.py --only alarm,qmr_like_300x2000 --queries 10

Networks: two QMR-like networks from ``qmr_like.py`` (bipartite noisy-OR,
300 diseases x 2,000 findings and 600 x 4,000), written as kneebayes model
files with ``noisy_or`` nodes, then every ``utils/example_models/*.bif.gz``
of pgmpy (asia ... munin, 1,041 nodes), smallest file first.

Per network, in separate child processes, each under ``RLIMIT_AS``
(``--memory-gib``, default 8) and a wall-clock ``--timeout`` (default 300 s,
per engine):

1. *prepare*: reads the network with pyAgrum (QMR-like: generates it), picks
   the targets (its roots, or the 10 roots with most descendants when there
   are more) and ``--queries`` evidence sets. BIF: each from a complete case
   forward-sampled from the tables (pyAgrum's sampler), revealing a random 3-8
   of the leaves (of the non-target nodes when there are fewer than 3 leaves);
   QMR-like: 10 findings present and 200 absent from a sampled case. So no set
   is impossible, and no set repeats (where the network allows).
2. one child per engine, each importing only what it needs:
   * kneebayes: ``load_bif(path, targets=...)`` or ``load_model(file)``, then
     ``model.diagnose(ev).distributions``;
   * pyAgrum: the network with the file's exact numbers (read by pgmpy in the
     prepare step, built through pyAgrum's API, every table normalised as a
     CPT as kneebayes renormalises the rounded published tables; handed over
     as plain names, labels and numbers, never as a pickled pyAgrum network),
     or ``addNoisyORNet``; then
     ``LazyPropagation`` with the targets set, ``setEvidence(ev)``,
     ``makeInference()``, ``posterior(target)``;
   * pgmpy: ``BIFReader`` (tables normalised), ``VariableElimination``,
     ``query(targets, evidence=ev, joint=False)`` (one query per target when
     the targets' joint passes 4,096 states); networks above
     ``--pgmpy-max-nodes`` (200) are skipped: it takes minutes there;
   * Quickscore (QMR-like only): ``qmr_like.quickscore`` in numpy, the
     inclusion-exclusion sum over the 2^10 subsets of the positive findings.

What each engine reports:

* **load s**: reading and compiling, plus one posterior with no evidence
  (pyAgrum builds its junction tree on its first inference; every engine pays
  that here rather than in the first query);
* **first ms**: each evidence set's first query, as a user diagnosing a new
  case meets it: a fresh dict never asked before in that process; median and
  p90 over the queries. kneebayes and pyAgrum then repeat the same set once
  (a fresh copy): **warm ms**, shown beside, never instead. Where each of
  their first children took at most ``ROUND_WALL_S`` (30 s), ``--rounds``
  (default 3) children each run in turn, kneebayes and pyAgrum alternating
  which goes first, and each set's time is its median over the rounds (each
  a fresh process, so each a first call): one child each, one after the
  other, let a change in the machine's speed between them move a ratio by
  up to 1.7x;
* **peak MiB**: the child's ``ru_maxrss`` (from ``wait4``, so a child that
  dies still reports it), imports included;
* **max diff**: the largest |difference| of any target state's posterior
  against pyAgrum (QMR-like: against Quickscore too), over the queries both
  answered.

Failures are rows, never a crash of the run: a child that raises (for example
``kneebayes.IntractableError`` or ``MemoryError``), dies or times out marks
its cell with the error type, and the first line of its message is listed
under the table. A timed-out child keeps the queries it finished. The JSON is
rewritten after each network, so a long run that is stopped keeps what it has.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
QMR = {"qmr_like_300x2000": (300, 2000), "qmr_like_600x4000": (600, 4000)}
QUICK_QMR = {"qmr_like_60x400": (60, 400)}
QUICK_BIF = ["asia", "child"]
QMR_POSITIVES, QMR_NEGATIVES = 10, 200
QMR_SEED = 1989
REVEAL = (3, 8)
MAX_TARGETS = 10
JOINT_LIMIT = 4096                  # pgmpy: above this many joint target states, one query per target
ENGINES = ("kneebayes", "pyagrum", "pgmpy", "quickscore")


# ==== child processes ==========================================================================
def emit(out, **event: Any) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:300]


def qmr_network(task: dict[str, Any]):
    sys.path.insert(0, str(HERE))
    import qmr_like

    return qmr_like, qmr_like.generate(task["diseases"], task["findings"], task["seed"])


def child_prepare(task: dict[str, Any], work: Path, out) -> None:
    import numpy as np

    rng = np.random.default_rng(task["seed"])
    n = task["queries"]
    if task["kind"] == "qmr":
        qmr_like, net = qmr_network(task)
        targets = net.top_diseases(MAX_TARGETS)
        (work / "model.yaml").write_text(qmr_like.model_yaml(net, targets), encoding="utf-8")
        evidence = qmr_like.sample_evidence(net, n, QMR_POSITIVES, QMR_NEGATIVES, task["seed"])
        emit(out, event="prepared", nodes=len(net.priors) + len(net.leaks), roots=len(net.priors),
             leaves=len(net.leaks), targets=targets, evidence=evidence,
             arcs=int(sum(len(p) for p in net.parents)),
             evidence_rule=f"{QMR_POSITIVES} present + {QMR_NEGATIVES} absent findings")
        return

    import pickle

    import pyagrum as gum

    with gzip.open(task["source"], "rb") as f, open(work / "net.bif", "wb") as g:
        shutil.copyfileobj(f, g)
    bn, how = pyagrum_from_bif(work / "net.bif")
    (work / "net.pyagrum.pkl").write_bytes(pickle.dumps(pyagrum_tables(bn)))
    name = {i: bn.variable(i).name() for i in bn.nodes()}
    roots = sorted(name[i] for i in bn.nodes() if not bn.parents(i))
    leaves_all = sorted(name[i] for i in bn.nodes() if not bn.children(i))

    def descendants(i: int) -> int:
        seen, stack = set(), [i]
        while stack:
            for c in bn.children(stack.pop()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        return len(seen)

    by_id = {v: k for k, v in name.items()}
    targets = roots if len(roots) <= MAX_TARGETS else sorted(
        roots, key=lambda r: (-descendants(by_id[r]), r))[:MAX_TARGETS]
    leaves = [x for x in leaves_all if x not in targets]
    if len(leaves) < REVEAL[0]:
        pool, rule = sorted(x for x in name.values() if x not in targets), "3-8 non-target nodes (fewer than 3 leaves)"
    else:
        pool, rule = leaves, "3-8 leaves"
    if task.get("soft"):
        rule += f", the first {task['soft']} (by name) answered softly"
    gum.initRandom(task["seed"])
    gen = gum.BNDatabaseGenerator(bn)
    gen.drawSamples(n * 20)
    frame = gen.to_pandas()
    evidence, seen, repeated = [], set(), 0
    for row in frame.itertuples(index=False):
        case = dict(zip(frame.columns, row))
        k = min(int(rng.integers(REVEAL[0], REVEAL[1] + 1)), len(pool))
        shown = sorted(pool[j] for j in rng.choice(len(pool), size=k, replace=False))
        ev: dict[str, Any] = {x: str(case[x]) for x in shown}
        for x in shown[: task.get("soft", 0)]:   # a soft answer: the case's state at 1, the others at random below
            labels = list(bn.variable(by_id[x]).labels())
            weights = rng.uniform(0.05, 1.0, len(labels))
            weights[labels.index(ev[x])] = 1.0
            ev[x] = dict(zip(labels, weights.round(6).tolist()))
        key = tuple(sorted((k, json.dumps(v)) for k, v in ev.items()))
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        evidence.append(ev)
        if len(evidence) == n:
            break
    emit(out, event="prepared", nodes=bn.size(), roots=len(roots), leaves=len(leaves_all), targets=targets,
         evidence=evidence, arcs=bn.sizeArcs(), evidence_rule=rule, repeats_skipped=repeated, pyagrum_read=how)


def pyagrum_from_bif(path: Path):
    """The BIF as a pyAgrum network with the file's exact numbers, every table normalised as a CPT.

    Read with pgmpy (float64) and built through pyAgrum's API: pyAgrum's own
    BIF reader keeps each number as a float32 (0.01 becomes 0.0099999998),
    which moved sachs' posteriors by 1e-8 (its numbers have 8 digits), and it
    refuses state names such as CHILD's ``Asy/Patch`` or ``<5``. The time this
    takes is the prepare step's, never pyAgrum's load time.
    """
    import warnings

    warnings.simplefilter("ignore")
    from pgmpy.readwrite import BIFReader

    sys.path.insert(0, str(HERE))
    import pyagrum_ref

    bn = pyagrum_ref.from_pgmpy(BIFReader(str(path)).get_model())
    for node in bn.nodes():
        bn.cpt(node).normalizeAsCPT()
    return bn, "pgmpy's BIF reader (float64), built through pyAgrum's API"


def pyagrum_tables(bn) -> list[tuple[str, list[str], list[str], list[float]]]:
    """The network as plain data: per node its name, its labels, its table's variables and numbers (pyAgrum's order).

    Not a pickled ``BayesNet``: pyAgrum's pickle turns a variable whose labels
    are integers into an ``IntegerVariable`` with its labels sorted while the
    table keeps its order, so MUNIN2's and MUNIN4's ``5, 4, ..., 0`` states came
    back reversed: another network, whose posteriors differed from every
    other engine's by up to 0.2.
    """
    import numpy as np

    return [(bn.variable(i).name(), list(bn.variable(i).labels()), list(bn.cpt(i).names),
             np.asarray(bn.cpt(i).toarray(), dtype=float).ravel().tolist()) for i in sorted(bn.nodes())]


def pyagrum_from_tables(tables: list[tuple[str, list[str], list[str], list[float]]]):
    """The pyAgrum network of ``pyagrum_tables``, every variable's labels and table layout checked."""
    import pyagrum as gum

    bn = gum.BayesNet()
    for name, labels, _, _ in tables:
        bn.add(gum.LabelizedVariable(name, name, labels))
    for name, _, names, _ in tables:
        for parent in names[1:]:
            bn.addArc(parent, name)
    for name, labels, names, values in tables:
        cpt = bn.cpt(name)
        if list(bn.variable(name).labels()) != labels or list(cpt.names) != names:
            raise ValueError(f"pyAgrum rebuilt {name} with other labels or another table layout")
        cpt.fillWith(values)
    return bn


def child_kneebayes(task: dict[str, Any], prep: dict[str, Any], work: Path, out) -> None:
    import warnings

    import kneebayes

    emit(out, event="imported", rss_mib=maxrss_mib(), version=kneebayes.__version__)
    budget = {"memory_budget": int(task["budget_gib"] * 2 ** 30)} if task.get("budget_gib") else {}
    targets = prep["targets"]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", getattr(kneebayes, "RenormalisedWarning", Warning))
        if task["kind"] == "qmr":
            if budget:
                from kneebayes.modelfile.load import load_spec

                model = kneebayes.Model(load_spec(work / "model.yaml"), **budget)
            else:
                model = kneebayes.load_model(work / "model.yaml")
        else:
            model = kneebayes.load_bif(work / "net.bif", targets=targets, **budget)

    def posterior(ev: dict[str, Any]) -> dict[str, dict[str, float]]:
        answers = {k: kneebayes.Likelihood(v) if isinstance(v, dict) else v for k, v in ev.items()}
        dists = model.diagnose(answers).distributions
        return {t: {s: float(p) for s, p in dists[t].items()} for t in targets}

    loaded = time.perf_counter() - t0
    posterior({})
    emit(out, event="load", load_s=time.perf_counter() - t0, read_compile_s=loaded, rss_mib=maxrss_mib())
    run_queries(out, prep["evidence"], posterior, warm=True)


def child_pyagrum(task: dict[str, Any], prep: dict[str, Any], work: Path, out) -> None:
    import pyagrum as gum

    emit(out, event="imported", rss_mib=maxrss_mib(), version=gum.__version__)
    targets = prep["targets"]
    t0 = time.perf_counter()
    if task["kind"] == "qmr":
        qmr_like, net = qmr_network(task)
        bn = qmr_like.pyagrum_network(net)
    else:
        import pickle

        bn = pyagrum_from_tables(pickle.loads((work / "net.pyagrum.pkl").read_bytes()))   # see pyagrum_tables
    loaded = time.perf_counter() - t0
    import pyagrum_ref  # the benchmarks' one LazyPropagation wrapper; its first inference is set-up, untimed

    hard_or_list = pyagrum_ref.posterior_engine(bn, targets)

    def posterior(ev: dict[str, Any]) -> dict[str, dict[str, float]]:
        return hard_or_list({k: [v[s] for s in bn.variable(k).labels()] if isinstance(v, dict) else v
                             for k, v in ev.items()})

    emit(out, event="load", load_s=time.perf_counter() - t0, read_compile_s=loaded, rss_mib=maxrss_mib())
    run_queries(out, prep["evidence"], posterior, warm=True)


def child_pgmpy(task: dict[str, Any], prep: dict[str, Any], work: Path, out) -> None:
    import math
    import warnings

    warnings.simplefilter("ignore")
    import pgmpy
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import BIFReader

    emit(out, event="imported", rss_mib=maxrss_mib(), version=pgmpy.__version__)
    targets = prep["targets"]
    t0 = time.perf_counter()
    model = BIFReader(str(work / "net.bif")).get_model()
    for cpd in model.get_cpds():
        cpd.normalize(inplace=True)
    ve = VariableElimination(model)
    loaded = time.perf_counter() - t0
    per_target = bool(math.prod(model.get_cardinality(t) for t in targets) > JOINT_LIMIT)

    def posterior(ev: dict[str, str]) -> dict[str, dict[str, float]]:
        if per_target:
            factors = {t: ve.query([t], evidence=ev, joint=False, show_progress=False)[t] for t in targets}
        else:
            factors = ve.query(targets, evidence=ev, joint=False, show_progress=False)
        return {t: dict(zip(f.state_names[t], map(float, f.values.tolist()))) for t, f in factors.items()}

    posterior({})
    emit(out, event="load", load_s=time.perf_counter() - t0, read_compile_s=loaded, rss_mib=maxrss_mib(),
         per_target_queries=per_target)
    run_queries(out, prep["evidence"], posterior, warm=False)


def child_quickscore(task: dict[str, Any], prep: dict[str, Any], work: Path, out) -> None:
    t0 = time.perf_counter()
    qmr_like, net = qmr_network(task)
    emit(out, event="load", load_s=time.perf_counter() - t0, read_compile_s=time.perf_counter() - t0,
         rss_mib=maxrss_mib())
    run_queries(out, prep["evidence"], lambda ev: qmr_like.quickscore(net, ev, prep["targets"]), warm=False)


def run_queries(out, evidence: list[dict[str, str]], posterior, warm: bool) -> None:
    clock = time.perf_counter_ns
    for i, ev in enumerate(evidence):
        fresh = dict(ev)                                  # a dict this process has never seen
        try:
            t0 = clock()
            post = posterior(fresh)
            first = (clock() - t0) / 1e6
            warm_ms = None
            if warm:
                t0 = clock()
                posterior(dict(ev))
                warm_ms = (clock() - t0) / 1e6
        except Exception as exc:                          # one failing query is a note, not the end
            emit(out, event="query_error", i=i, type=type(exc).__name__, message=first_line(exc))
            continue
        emit(out, event="query", i=i, first_ms=first, warm_ms=warm_ms, posterior=post)
    emit(out, event="done", rss_mib=maxrss_mib())


def child_main(role: str, work: Path) -> int:
    task = json.loads((work / "task.json").read_text())
    with open(work / f"{role}.jsonl", "w", encoding="utf-8") as out:
        try:
            if role == "prepare":
                child_prepare(task, work, out)
            else:
                prep = read_events(work / "prepare.jsonl")[0]
                {"kneebayes": child_kneebayes, "pyagrum": child_pyagrum, "pgmpy": child_pgmpy,
                 "quickscore": child_quickscore}[role](task, prep, work, out)
        except BaseException as exc:                      # MemoryError and friends too: report, then fail
            emit(out, event="error", type=type(exc).__name__, message=first_line(exc))
            return 1
    return 0


# ==== the parent ===============================================================================
def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:                      # a line cut by a kill
            break
    return events


def run_child(role: str, work: Path, timeout: float, memory_gib: float) -> dict[str, Any]:
    """Run one child under the memory cap and the timeout; its events, exit and peak memory."""
    limit = int(memory_gib * 2 ** 30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, PYTHONWARNINGS="ignore")
    with open(work / f"{role}.stderr", "w") as err:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", role, str(work)],
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=cap, env=env)
        start = time.monotonic()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    events = read_events(work / f"{role}.jsonl")
    code = proc.returncode
    error = next((e for e in events if e["event"] == "error"), None)
    if timed_out:
        status_text = f"timeout ({timeout:g} s)"
    elif error:
        status_text = error["type"]
    elif code < 0:
        status_text = f"killed by {signal.Signals(-code).name}"
    elif code != 0:
        status_text = f"exit {code}"
    else:
        status_text = "ok"
    message = error["message"] if error else ""
    if status_text != "ok" and not message:
        tail = [ln for ln in (work / f"{role}.stderr").read_text(errors="replace").splitlines() if ln.strip()]
        message = tail[-1][:300] if tail else ""
    return {"status": status_text, "message": message, "events": events,
            "peak_mib": usage.ru_maxrss / 1024, "wall_s": time.monotonic() - start}


#: Further rounds only where each engine's first child took at most this long (MUNIN's take minutes).
ROUND_WALL_S = 30.0


def merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One engine's rounds as one run: the first round's events and status, each query's times the median over
    the rounds that answered it (every round is a fresh process, so each is a first call), the peak the
    largest and the wall time the sum."""
    if len(runs) == 1:
        return runs[0]
    first: dict[int, list[float]] = {}
    warm: dict[int, list[float]] = {}
    for run in runs:
        for e in run["events"]:
            if e["event"] == "query":
                first.setdefault(e["i"], []).append(e["first_ms"])
                if e.get("warm_ms") is not None:
                    warm.setdefault(e["i"], []).append(e["warm_ms"])
    events = [dict(e, first_ms=pct(first[e["i"]], 50), warm_ms=pct(warm[e["i"]], 50) if e["i"] in warm else None)
              if e["event"] == "query" else e for e in runs[0]["events"]]
    failed = next((r for r in runs[1:] if r["status"] != "ok"), None)
    return dict(runs[0], events=events, peak_mib=max(r["peak_mib"] for r in runs), wall_s=sum(r["wall_s"] for r in runs),
                message=runs[0]["message"] or (f"a later round: {failed['status']}: {failed['message']}" if failed else ""))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarise(run: dict[str, Any], n_queries: int) -> dict[str, Any]:
    events = run["events"]
    load = next((e for e in events if e["event"] == "load"), None)
    imported = next((e for e in events if e["event"] == "imported"), None)
    queries = [e for e in events if e["event"] == "query"]
    qerrors = [e for e in events if e["event"] == "query_error"]
    first = [q["first_ms"] for q in queries]
    warm = [q["warm_ms"] for q in queries if q.get("warm_ms") is not None]
    out = {"status": run["status"], "message": run["message"], "peak_mib": run["peak_mib"], "wall_s": run["wall_s"],
           "version": imported.get("version") if imported else None,
           "rss_after_imports_mib": imported.get("rss_mib") if imported else None,
           "load_s": load["load_s"] if load else None,
           "read_compile_s": load.get("read_compile_s") if load else None,
           "queries_done": len(queries), "queries_asked": n_queries,
           "first_ms": {"median": pct(first, 50), "p90": pct(first, 90), "all": first} if first else None,
           "warm_ms": {"median": pct(warm, 50), "p90": pct(warm, 90)} if warm else None,
           "query_errors": [{"i": e["i"], "type": e["type"], "message": e["message"]} for e in qerrors]}
    explain_timeout(out)
    if load and load.get("per_target_queries") is not None:
        out["per_target_queries"] = load["per_target_queries"]
    if out["status"] == "ok" and qerrors:
        out["status"] = f"{len(qerrors)} queries failed"
        out["message"] = f"{qerrors[0]['type']}: {qerrors[0]['message']}"
    return out


def explain_timeout(summary: dict[str, Any]) -> None:
    """Say where a timed-out child was: still loading, or how many queries it had answered."""
    if summary["status"].startswith("timeout") and not summary.get("message"):
        summary["message"] = (
            f"stopped after {summary['queries_done']} of {summary['queries_asked']} queries"
            if summary.get("load_s") is not None else
            "stopped while still loading (reading, compiling, the posterior without evidence)")


def max_diff(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Largest |difference| over every target state of every query both runs answered."""
    pa = {e["i"]: e["posterior"] for e in a["events"] if e["event"] == "query"}
    pb = {e["i"]: e["posterior"] for e in b["events"] if e["event"] == "query"}
    worst = None
    for i in pa.keys() & pb.keys():
        for t, dist in pa[i].items():
            for s, p in dist.items():
                q = pb[i].get(t, {}).get(s)
                gap = abs(p - q) if q is not None else float("inf")
                worst = gap if worst is None else max(worst, gap)
    return worst


def run_network(name: str, kind: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{name}-"))
    task: dict[str, Any] = {"name": name, "kind": kind, "queries": args.queries, "seed": args.seed,
                            "budget_gib": args.budget_gib, "soft": args.soft if kind == "bif" else 0}
    if kind == "qmr":
        task["diseases"], task["findings"] = (QMR | QUICK_QMR)[name]
        task["seed"] = QMR_SEED
    else:
        task["source"] = str(bif_dir() / f"{name}.bif.gz")
    (work / "task.json").write_text(json.dumps(task))
    row: dict[str, Any] = {"network": name, "kind": kind, "engines": {}}
    prep_run = run_child("prepare", work, args.timeout, args.memory_gib)
    prep = next((e for e in prep_run["events"] if e["event"] == "prepared"), None)
    if prep is None:
        row["error"] = f"prepare: {prep_run['status']}: {prep_run['message']}"
        print(f"{name}: {row['error']}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
        return row
    row.update({k: prep[k] for k in ("nodes", "arcs", "roots", "leaves", "evidence_rule")},
               targets=prep["targets"], queries=len(prep["evidence"]),
               evidence_sizes=[len(ev) for ev in prep["evidence"]], repeats_skipped=prep.get("repeats_skipped", 0))
    print(f"{name}: {prep['nodes']} nodes, {len(prep['targets'])} targets, {len(prep['evidence'])} evidence sets "
          f"({prep['evidence_rule']})", flush=True)
    engines = ["kneebayes", "pyagrum"] + (["quickscore"] if kind == "qmr" else ["pgmpy"])
    runs = {}
    for engine in engines:
        if engine == "pgmpy" and prep["nodes"] > args.pgmpy_max_nodes:
            row["engines"][engine] = {"status": f"skipped (> {args.pgmpy_max_nodes} nodes)"}
            continue
        if engine == "pgmpy" and task["soft"]:
            row["engines"][engine] = {"status": "skipped (soft answers)"}
            continue
        runs[engine] = run_child(engine, work, args.timeout, args.memory_gib)
    rounds = {engine: [run] for engine, run in runs.items()}
    # More rounds of the two engines compared, in turn, where both answered quickly: a shared machine's speed
    # moves by 2x within minutes, and one child each, one after the other, put HAILFINDER at 0.8x-1.4x.
    timed = [e for e in ("kneebayes", "pyagrum") if e in runs]
    if len(timed) == 2 and all(runs[e]["status"] == "ok" and runs[e]["wall_s"] <= ROUND_WALL_S for e in timed):
        for r in range(1, args.rounds):
            for engine in timed[r % 2:] + timed[: r % 2]:     # the order alternates
                rounds[engine].append(run_child(engine, work, args.timeout, args.memory_gib))
    row["rounds"] = len(rounds["kneebayes"])
    for engine in runs:
        summary = summarise(merged(rounds[engine]), len(prep["evidence"]))
        summary["rounds"] = len(rounds[engine])
        row["engines"][engine] = summary
        fm = summary["first_ms"]
        print(f"  {engine:<10} {summary['status']:<14} load {fmt(summary['load_s'], 's')}, first "
              f"{fmt(fm['median'] if fm else None, 'ms')} (p90 {fmt(fm['p90'] if fm else None, 'ms')}, "
              f"{summary['queries_done']}/{len(prep['evidence'])} queries"
              + (f", median of {summary['rounds']} rounds" if summary["rounds"] > 1 else "")
              + f"), peak {summary['peak_mib']:.0f} MiB" + (f"  -- {summary['message']}" if summary["message"] else ""), flush=True)
    for ref in ("pyagrum", "quickscore"):
        for engine in ("kneebayes", "pgmpy"):
            if ref in runs and engine in runs:
                row["engines"][engine][f"max_diff_vs_{ref}"] = max_diff(runs[engine], runs[ref])
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        row["workdir"] = str(work)
    return row


def bif_dir() -> Path:
    spec = importlib.util.find_spec("pgmpy")
    return Path(list(spec.submodule_search_locations)[0]) / "utils" / "example_models"


def all_networks(quick: bool) -> list[tuple[str, str]]:
    if quick:
        return [(n, "bif") for n in QUICK_BIF] + [(n, "qmr") for n in QUICK_QMR]
    bifs = sorted(bif_dir().glob("*.bif.gz"), key=lambda p: (p.stat().st_size, p.name))
    return [(n, "qmr") for n in QMR] + [(p.name[: -len(".bif.gz")], "bif") for p in bifs]


# ---- report --------------------------------------------------------------------------------
def fmt(value: float | None, unit: str = "") -> str:
    if value is None or value != value:
        return "-"
    if unit == "s":
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{value:.3f}" if value >= 0.01 else f"{value:.4f}"


def cell_first(e: dict[str, Any] | None) -> str:
    if not e:
        return "-"
    if e["first_ms"] is None:
        return e["status"]
    text = f"{fmt(e['first_ms']['median'])} / {fmt(e['first_ms']['p90'])}"
    if e["queries_done"] < e["queries_asked"]:
        text += f" ({e['queries_done']}/{e['queries_asked']})"
    return text


def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """a's first-call median / b's, when each answered at least half its queries (else medians of few mislead)."""
    if not a or not b or not a.get("first_ms") or not b.get("first_ms"):
        return "-"
    if min(2 * e["queries_done"] - e["queries_asked"] for e in (a, b)) < 0:
        return "-"
    r = a["first_ms"]["median"] / b["first_ms"]["median"]
    return f"{r:.1f}x" if r >= 0.95 else f"{r:.2f}x"


def diff(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def run_line(header: dict[str, Any]) -> str:
    return (f"{header['date']}, {header['machine']}, kneebayes at {header.get('source', 'unknown')}, 1-minute load "
            f"{header['load_start']} at the start and {header.get('load_end', '?')} at the end; `{header['command']}`"
            + (f" ({header['note']})" if header.get("note") else ""))


def rounds_note(rows: list[dict[str, Any]]) -> str:
    """Which rows are medians over several rounds of kneebayes and pyAgrum children (see ``--rounds``)."""
    several = [r["network"] for r in rows if r.get("rounds", 1) > 1]
    if not several:
        return ""
    counts = sorted({r["rounds"] for r in rows if r.get("rounds", 1) > 1})
    return (f"for {', '.join(several)}, each set's time is the median over {'/'.join(map(str, counts))} rounds of "
            "kneebayes and pyAgrum children run in turn (each a fresh process); ")


def markdown(rows: list[dict[str, Any]], headers: list[dict[str, Any]]) -> str:
    notes: list[str] = []

    def status(e: dict[str, Any] | None, net: str, engine: str) -> str:
        if not e:
            return "-"
        if e["status"] == "ok":
            return ""
        if e.get("message"):
            notes.append(f"{net}, {engine}: {e['status']}: {e['message']}")
            return f" [{len(notes)}]"
        return "" if e.get("first_ms") is None else f" ({e['status']})"

    if len(headers) == 1:
        runs = run_line(headers[0]) + "."
    else:
        runs = " ".join(f"({i}) {run_line(h)}, for {', '.join(h['networks'])}." for i, h in enumerate(headers, 1))
    lines = [
        runs + " Times in ms are first calls on each new evidence set, "
        "median / p90 (a count such as 12/20 marks the queries finished before a failure or the timeout); "
        + rounds_note(rows) +
        "warm = the same set repeated at once, for comparison only.",
        "",
        "| network | nodes | targets | kneebayes load s | kneebayes first ms | warm ms | peak MiB | "
        "pyAgrum load s | pyAgrum first ms | peak MiB | pyAgrum / kneebayes | max diff | pgmpy first ms | pgmpy / kneebayes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            notes.append(f"{r['network']}: {r['error']}")
            lines.append(f"| {r['network']} | | | failed to prepare [{len(notes)}] | | | | | | | | | | |")
            continue
        kb, pa, pg = (r["engines"].get(k) for k in ("kneebayes", "pyagrum", "pgmpy"))
        s_kb, s_pa = status(kb, r["network"], "kneebayes"), status(pa, r["network"], "pyAgrum")
        s_pg = status(pg, r["network"], "pgmpy") if r["kind"] == "bif" else ""
        pg_cell = (cell_first(pg) + s_pg) if pg and pg.get("first_ms") else (
            pg["status"] if pg and pg["status"].startswith("skipped") else (s_pg.strip() or "-"))
        if r["kind"] == "qmr":
            pg_cell = "not run"
        lines.append(
            f"| {r['network']} | {r['nodes']:,} | {len(r['targets'])} | {fmt(kb.get('load_s'), 's')} | "
            f"{cell_first(kb)}{s_kb} | {fmt(kb['warm_ms']['median']) if kb.get('warm_ms') else '-'} | "
            f"{kb.get('peak_mib', 0):,.0f} | {fmt(pa.get('load_s'), 's')} | {cell_first(pa)}{s_pa} | "
            f"{pa.get('peak_mib', 0):,.0f} | {ratio(pa, kb)} | {diff(kb.get('max_diff_vs_pyagrum'))} | "
            f"{pg_cell} | {ratio(pg, kb)} |")
    qmr = [r for r in rows if r["kind"] == "qmr" and "error" not in r]
    if qmr:
        lines += ["", "QMR-like networks against a plain numpy Quickscore (Heckerman 1989) on the same evidence "
                  f"({QMR_POSITIVES} findings present, {QMR_NEGATIVES} absent):", "",
                  "| network | diseases x findings | arcs | Quickscore first ms | kneebayes first ms | "
                  "kneebayes / Quickscore | max diff kneebayes vs Quickscore |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for r in qmr:
            kb, qs = r["engines"].get("kneebayes"), r["engines"].get("quickscore")
            s_qs = status(qs, r["network"], "Quickscore")
            lines.append(f"| {r['network']} | {r['roots']} x {r['leaves']:,} | {r['arcs']:,} | {cell_first(qs)}{s_qs} | "
                         f"{cell_first(kb)} | {ratio(kb, qs)} | {diff(kb.get('max_diff_vs_quickscore'))} |")
        lines += ["", "The plain Quickscore is a float64 sum of 2^10 terms of alternating sign, which cancel: where it "
                  "differs from kneebayes by more than 1e-9, the rounding is the reference's. kneebayes's bipartite "
                  "engine estimates that rounding and returns a Quickscore answer only where it stays below "
                  "1e-10, else answers by a sum of non-negative terms (`docs/engine.md`); "
                  "`tests/test_bipartite.py` holds it to brute force in exact fractions."]
    if notes:
        lines += ["", "Failures (the first line of each message):", ""]
        lines += [f"{i}. {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def machine_line() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("kneebayes", "numpy", "pyagrum", "pgmpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def source_state() -> str:
    """The commit the engine was run at, whether src/ had changes not yet committed, and whether the children
    import an installed copy instead (``engine_source``)."""
    sys.path.insert(0, str(HERE))
    from engine_source import engine_source

    return engine_source()


def render_saved(args: argparse.Namespace) -> int:
    """The table of one or more saved runs (a run cut short, finished by another with --only)."""
    headers: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for path in args.from_json:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        runs = saved["runs"] if "runs" in saved else [dict(saved["run"], networks=[r["network"] for r in saved["networks"]])]
        for row in saved["networks"]:   # a network run again replaces its row, in place, and leaves its old run
            at = next((i for i, r in enumerate(rows) if r["network"] == row["network"]), None)
            if at is None:
                rows.append(row)
                continue
            rows[at] = row
            for h in headers:
                h["networks"] = [n for n in h["networks"] if n != row["network"]]
        headers = [h for h in headers if h["networks"]] + runs
    for row in rows:
        for summary in row.get("engines", {}).values():
            if "queries_done" in summary:
                explain_timeout(summary)
    table = markdown(rows, headers)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": headers, "networks": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1], Path(argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated network names (default: all); see --list")
    parser.add_argument("--list", action="store_true", help="print the network names and stop")
    parser.add_argument("--queries", type=int, help="evidence sets per network (default 20; 3 with --quick)")
    parser.add_argument("--timeout", type=float, help="seconds per engine child (default 300; 120 with --quick)")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="RLIMIT_AS of every child, GiB (default 8)")
    parser.add_argument("--budget-gib", type=float, help="kneebayes memory_budget, GiB (default: the engine's own)")
    parser.add_argument("--pgmpy-max-nodes", type=int, default=200, help="skip pgmpy above this many nodes (default 200)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="children per engine, kneebayes and pyAgrum in turn, where each first took at most "
                             f"{ROUND_WALL_S:g} s; each set's time is the median over them (default 3; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--soft", type=int, default=0, metavar="N",
                        help="answer the first N revealed nodes of each BIF set softly: a likelihood per state, the "
                             "case's state at 1 and the others at random in [0.05, 1) (pgmpy is then skipped)")
    parser.add_argument("--quick", action="store_true", help="smoke run: asia, child and a 60 x 400 QMR-like network")
    parser.add_argument("--keep", action="store_true", help="keep each network's work folder (events, stderr)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to this file")
    parser.add_argument("--json", metavar="FILE", help="also write every number to this file")
    parser.add_argument("--from-json", nargs="+", metavar="FILE",
                        help="run nothing: print (and --markdown, --json) the table of earlier runs' JSON files, "
                             "rows in the order given; a network in a later file replaces its earlier row")
    args = parser.parse_args(argv)
    if args.from_json:
        return render_saved(args)
    args.queries = args.queries or (3 if args.quick else 20)
    args.timeout = args.timeout or (120.0 if args.quick else 300.0)
    if args.quick:
        args.rounds = 1

    everything = all_networks(args.quick) if not args.only else all_networks(False) + [
        (n, "qmr") for n in QUICK_QMR]
    if args.list:
        print("\n".join(n for n, _ in everything))
        return 0
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        known = dict(everything)
        unknown = [w for w in wanted if w not in known]
        if unknown:
            parser.error(f"unknown network(s) {', '.join(unknown)}; known: {', '.join(known)}")
        networks = [(w, known[w]) for w in wanted]
    else:
        networks = everything

    header = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_line(),
              "versions": versions(), "source": source_state(), "load_start": round(os.getloadavg()[0], 2),
              "command": "python benchmarks/bench_scale.py " + " ".join(argv),
              "queries": args.queries, "rounds": args.rounds, "timeout_s": args.timeout, "memory_gib": args.memory_gib,
              "budget_gib": args.budget_gib, "pgmpy_max_nodes": args.pgmpy_max_nodes, "seed": args.seed}
    print(f"{header['date']}, {header['machine']}, load {header['load_start']}; "
          + ", ".join(f"{k} {v}" for k, v in header["versions"].items()), flush=True)
    rows: list[dict[str, Any]] = []
    for name, kind in networks:
        rows.append(run_network(name, kind, args))
        header["load_end"] = round(os.getloadavg()[0], 2)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"run": header, "networks": rows}, indent=1) + "\n",
                                       encoding="utf-8")
    header["load_end"] = round(os.getloadavg()[0], 2)
    table = markdown(rows, [header])
    print()
    print(table)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table, encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
