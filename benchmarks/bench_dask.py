"""Rows per second of ``model.diagnose_frame`` on a Dask DataFrame: one process beside a LocalCluster.

    python benchmarks/bench_dask.py                           # 5,000,000 cases; 1 and 2 workers
    python benchmarks/bench_dask.py --cases 1000000 --workers 1,2 --json out.json

The cases: complete cases forward-sampled from the knee model's own tables
(seeded), each revealing a random 3 to 8 of its askable findings and risk
factors; the rest is missing (not asked). Each partition of
``--partition-rows`` rows is drawn from its own seed, as categorical
columns (one byte a cell: how a cohort read from Parquet arrives). The
single process gets the same rows, concatenated.

What is timed, all through public calls:

* one process: ``model.diagnose_frame(frame)`` on the whole pandas frame
  (it runs its chunks on up to ``kneebayes.batch.WORKERS`` threads);
* for each worker count in ``--workers``, a ``LocalCluster`` with that many
  worker processes of one thread each: the cases are made on the workers
  and held there (``persist``, not timed, as a cohort already loaded);
  then (a) ``client.persist(model.diagnose_frame(ddf))`` until done, the
  results left on the workers, and (b) ``client.compute(...).result()``,
  the whole result gathered into one pandas DataFrame on the client. Each
  is run twice: the first run also sends the model to each worker, which
  compiles it there.

Agreement is asserted, not only printed: the gathered result equals the
single process's, exactly. Nothing here is a test: timings move with the
machine and its load (the first line prints the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import dask
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd

import kneebayes
from kneebayes.research.sampling import sample_states


def cases(model: kneebayes.Model, n: int, seed: int, start: int = 0, low: int = 3, high: int = 8) -> pd.DataFrame:
    """``n`` runners' answers (a random 3-8 of the askable nodes of a sampled case), categorical, index from ``start``."""
    rng = np.random.default_rng(seed)
    net = model.network
    askable = [node.id for node in model.nodes if node.askable]
    full = sample_states(model, n, rng)[:, [net.index[a] for a in askable]]
    k = rng.integers(low, min(high, len(askable)) + 1, size=n)
    shown = np.argsort(rng.random((n, len(askable))), axis=1).argsort(axis=1) < k[:, None]
    data = {}
    for j, a in enumerate(askable):
        states = list(net.states[net.index[a]])
        data[a] = pd.Categorical.from_codes(np.where(shown[:, j], full[:, j], -1), categories=states)
    return pd.DataFrame(data, index=pd.RangeIndex(start, start + n))


def pieces(total: int, size: int) -> list[tuple[int, int]]:
    """(start, rows) of each partition."""
    return [(s, min(size, total - s)) for s in range(0, total, size)]


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def held_tasks(client: distributed.Client) -> int:
    """How many tasks the scheduler knows of."""
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def forget(client: distributed.Client, baseline: int) -> None:
    """Wait until the scheduler has forgotten a run's results (dropped by the caller), so the next run starts afresh."""
    while held_tasks(client) > baseline:
        time.sleep(0.05)


def on_cluster(model: kneebayes.Model, parts: list[tuple[int, int]], seed: int, workers: int,
               reference: pd.DataFrame, environ: dict[str, object]) -> dict[str, list[float]]:
    """Time the cluster runs with ``workers`` worker processes; the gathered result must equal ``reference``."""
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)
    with distributed.Client(cluster) as client:
        meta = cases(model, 0, seed)
        ddf = dd.from_map(lambda p: cases(model, p[1], seed + p[0], start=p[0]), parts, meta=meta,
                          divisions=[s for s, _ in parts] + [parts[-1][0] + parts[-1][1] - 1])
        ddf = client.persist(ddf)
        distributed.wait(ddf)
        baseline = held_tasks(client)
        lazy = model.diagnose_frame(ddf)
        held: list[float] = []
        for _ in range(2):
            t0 = time.perf_counter()
            done = client.persist(lazy)
            distributed.wait(done)
            held.append(time.perf_counter() - t0)
            del done
            forget(client, baseline)
        gathered: list[float] = []
        for _ in range(2):
            t0 = time.perf_counter()
            future = client.compute(lazy)
            out = future.result()
            gathered.append(time.perf_counter() - t0)
            del future
            forget(client, baseline)
        pd.testing.assert_frame_equal(out, reference)
        del out
    cluster.close()
    return {"held_s": held, "gathered_s": gathered}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5_000_000, help="rows (default 5,000,000)")
    parser.add_argument("--workers", default="1,2", help="worker counts to try, comma-separated (default 1,2)")
    parser.add_argument("--partition-rows", type=int, default=250_000, help="rows per partition (default 250,000)")
    parser.add_argument("--environ", choices=["tuned", "dask", "both"], default="both",
                        help="the workers' environment: Dask's default, without MALLOC_TRIM_THRESHOLD_, or both")
    parser.add_argument("--seed", type=int, default=20261203, help="seed for sampling the cases")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.2f}; "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"dask {dask.__version__}, distributed {distributed.__version__}")
    model = kneebayes.load_model()
    parts = pieces(args.cases, args.partition_rows)
    t0 = time.perf_counter()
    frame = pd.concat([cases(model, n, args.seed + s, start=s) for s, n in parts])
    print(f"{len(frame):,} cases in {len(parts)} partitions of up to {args.partition_rows:,} "
          f"({time.perf_counter() - t0:.1f} s to sample), {frame.notna().sum(axis=1).mean():.2f} answers per row")

    model.diagnose_frame(frame.iloc[:1000])   # the process's one-off costs (lazy imports, the fast plan)
    single: list[float] = []
    for _ in range(2):
        t0 = time.perf_counter()
        reference = model.diagnose_frame(frame)
        single.append(time.perf_counter() - t0)
    del frame

    results: dict[str, object] = {"cases": args.cases, "partition_rows": args.partition_rows,
                                  "partitions": len(parts), "single_s": single, "load": load, "clusters": {}}
    rows = [("one process, diagnose_frame(frame)", single)]
    default = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environs = {"tuned": {k: v for k, v in default.items() if k != "MALLOC_TRIM_THRESHOLD_"}, "dask": default}
    for name in ["tuned", "dask"] if args.environ == "both" else [args.environ]:
        for w in (int(x) for x in args.workers.split(",")):
            found = on_cluster(model, parts, args.seed, w, reference, environs[name])
            results["clusters"][f"{name}:{w}"] = found   # type: ignore[index]
            rows.append((f"{w} worker(s), {name}, results left on the workers", found["held_s"]))
            rows.append((f"{w} worker(s), {name}, gathered into one pandas frame", found["gathered_s"]))

    print()
    print(f"{'what':<56} {'first s':>8} {'second s':>9} {'rows/s (second)':>16}")
    for name, (first, second) in rows:
        print(f"{name:<56} {first:>8.2f} {second:>9.2f} {args.cases / second:>16,.0f}")
    print("agreement: every gathered result equals the single process's exactly")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
