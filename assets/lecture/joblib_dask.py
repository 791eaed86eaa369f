"""joblib on Dask: the lecture's `Parallel(n_jobs=N)(delayed(f)(i) for i in ...)`
run on a Dask LocalCluster of --workers processes (one thread each), or on
joblib's own loky (processes) and threading backends to compare.

Needs joblib and Dask: pip install "dask[distributed]" joblib

It computes what `cpu` computes: the same `sum_len`, `max_len` and `argmax`
of Collatz lengths over 1..=size, in --tasks chunks. With the dask backend
joblib ignores n_jobs: the cluster's threads are the parallelism (the
program says so). --scheduler ADDRESS uses a running cluster instead of
making one. The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import os
import sys
import time

BACKENDS = ["dask", "loky", "threading"]
INSTALL = 'pip install "dask[distributed]" joblib'


def collatz_len(n):
    """Terms in n's sequence, n and 1 included."""
    length = 1
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        length += 1
    return length


def collatz_chunk(a, b):
    """(sum, max, smallest n with the max) of the lengths over a..=b."""
    total, best, argmax = 0, 0, a
    for n in range(a, b + 1):
        length = collatz_len(n)
        total += length
        if length > best:
            best, argmax = length, n
    return total, best, argmax


def chunks(size, tasks):
    """Task i's inclusive range of 1..=size, as `cpu` and parlab's native collatz split it."""
    return [(1 + size * i // tasks, size * (i + 1) // tasks) for i in range(tasks)]


def cluster(args):
    """A Client of the cluster: made here (N worker processes, one thread
    each) or the one at --scheduler."""
    from distributed import Client, LocalCluster

    if args.scheduler:
        return Client(args.scheduler, timeout=10), None
    local = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(local), local


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=BACKENDS, default="dask", help="joblib's backend [default: dask]")
    ap.add_argument("--workers", type=int, default=2,
                    help="Dask worker processes, or joblib's n_jobs [default: 2]")
    ap.add_argument("--tasks", type=int, default=None, help="chunks of work [default: 2 x workers]")
    ap.add_argument("--size", type=int, default=300_000, help="lengths over 1..=SIZE [default: 300000]")
    ap.add_argument("--scheduler", default=None, help="a running Dask scheduler (tcp://HOST:PORT) to use")
    args = ap.parse_args()
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    tasks_n = args.tasks if args.tasks is not None else 2 * args.workers
    if tasks_n < 1 or args.size < tasks_n:
        ap.error("--tasks must be at least 1 and --size at least --tasks")
    try:
        from joblib import Parallel, delayed, parallel_backend
        if args.backend == "dask":
            import distributed  # noqa: F401 (joblib's dask backend needs it)
    except ImportError as e:
        sys.exit(f"joblib_dask needs joblib and Dask ({e}): {INSTALL}")
    client = local = None
    if args.backend == "dask":
        client, local = cluster(args)
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        print(f"note: the dask backend ignores n_jobs={args.workers}: the cluster's "
              f"{threads} thread(s) are the parallelism", flush=True)
    work = [delayed(collatz_chunk)(a, b) for a, b in chunks(args.size, tasks_n)]
    start = time.perf_counter()
    # batch_size=1: one Dask task per chunk (joblib batches small calls otherwise).
    with parallel_backend(args.backend):
        outs = Parallel(n_jobs=args.workers, batch_size=1)(work)
    wall_ms = (time.perf_counter() - start) * 1000
    total = sum(o[0] for o in outs)
    best = max(o[1] for o in outs)
    argmax = next(o[2] for o in outs if o[1] == best)
    out = {"work": "collatz", "mode": args.backend, "backend": args.backend, "workers": args.workers,
           "tasks": tasks_n, "size": args.size, "sum_len": total, "max_len": best, "argmax": argmax}
    if client is not None:
        out["scheduler"] = client.scheduler.address
        client.close()
    if local is not None:
        local.close()
    out["pid"] = os.getpid()
    out["wall_ms"] = round(wall_ms, 3)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
