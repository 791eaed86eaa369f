"""CPU-bound work under the GIL: Collatz sequence lengths (pure Python: one
thread at a time holds the GIL, so threads do not scale, processes do), or
SHA-256 over large buffers (C code that releases the GIL: threads do scale).

`--work collatz` gives the same `sum_len`, `max_len` and `argmax` over
1..=size as parlab's native `collatz`. In `threads` and `processes` modes
exactly N workers start, worker k taking chunks k, k+N, k+2N...
The last line of stdout is the result as one JSON object.
"""
import argparse
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

MODES = ["sequential", "threads", "processes", "thread-pool", "process-pool", "pool"]
MIB = 1 << 20


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


def hash_chunk(i, mib):
    """SHA-256 of `mib` MiB of bytes that depend on the chunk's index."""
    block = bytes((i + k) % 256 for k in range(256)) * (MIB // 256)
    h = hashlib.sha256()
    for _ in range(mib):
        h.update(block)  # large updates release the GIL
    return h.hexdigest()


def chunks(size, tasks):
    """Task i's inclusive range of 1..=size, as parlab's native collatz splits it."""
    return [(1 + size * i // tasks, size * (i + 1) // tasks) for i in range(tasks)]


def do(work, task):
    i, (a, b), mib = task
    return collatz_chunk(a, b) if work == "collatz" else hash_chunk(i, mib)


def share(work, tasks, k, n, out):
    """Worker k of n: chunks k, k+n, k+2n... into a dict (threads share
    memory) or, from a process, as (index, result) down a pipe."""
    for t in tasks[k::n]:
        if isinstance(out, dict):
            out[t[0]] = do(work, t)
        else:
            out.put((t[0], do(work, t)))


def run(mode, work, tasks, workers, ctx):
    if mode == "sequential":
        return [do(work, t) for t in tasks]
    if mode == "threads":
        out = {}
        threads = [threading.Thread(target=share, args=(work, tasks, k, workers, out)) for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [out[i] for i in range(len(tasks))]
    if mode == "processes":
        # Processes share no memory: results come back down one pipe (a
        # SimpleQueue: no feeder thread, no manager process), read before
        # the join so no worker blocks on a full pipe.
        out = ctx.SimpleQueue()
        procs = [ctx.Process(target=share, args=(work, tasks, k, workers, out)) for k in range(workers)]
        for p in procs:
            p.start()
        results, running = {}, {p.sentinel for p in procs}
        while len(results) < len(tasks) and (running or not out.empty()):
            for ready in multiprocessing.connection.wait([out._reader, *running]):
                if ready in running:
                    running.discard(ready)  # a worker ended; its results are in the pipe
            while not out.empty():
                i, r = out.get()
                results[i] = r
        for p in procs:
            p.join()
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed or len(results) < len(tasks):
            raise SystemExit(f"a worker process failed: exit codes {failed}")
        return [tuple(results[i]) if work == "collatz" else results[i] for i in range(len(tasks))]
    args = ([work] * len(tasks), tasks)
    if mode == "thread-pool":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(do, *args))
    if mode == "process-pool":
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            return list(pool.map(do, *args))
    with ctx.Pool(processes=workers) as pool:
        return pool.starmap(do, zip(*args))


def result(work, size, outs):
    if work == "collatz":
        total = sum(o[0] for o in outs)
        best = max(o[1] for o in outs)
        argmax = next(o[2] for o in outs if o[1] == best)
        return {"sum_len": total, "max_len": best, "argmax": argmax}
    combined = hashlib.sha256("".join(outs).encode()).hexdigest()
    return {"digests": len(outs), "combined": combined}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", choices=["collatz", "hash"], default="collatz", help="what to compute [default: collatz]")
    ap.add_argument("--mode", choices=MODES, default="sequential", help="how to run it [default: sequential]")
    ap.add_argument("--workers", type=int, default=2, help="threads or processes [default: 2]")
    ap.add_argument("--tasks", type=int, default=None, help="chunks of work [default: 2 x workers]")
    ap.add_argument("--size", type=int, default=None,
                    help="collatz: lengths over 1..=SIZE [default: 300000]; hash: MiB hashed per chunk [default: 64]")
    ap.add_argument("--start-method", choices=multiprocessing.get_all_start_methods(), default=None,
                    help="how processes start [default: the platform's]")
    args = ap.parse_args()
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    tasks_n = args.tasks if args.tasks is not None else 2 * args.workers
    if tasks_n < 1:
        ap.error("--tasks must be at least 1")
    size = args.size if args.size is not None else (300_000 if args.work == "collatz" else 64)
    if size < 1 or (args.work == "collatz" and size < tasks_n):
        ap.error("--size must be at least 1, and for collatz at least --tasks")
    ctx = multiprocessing.get_context(args.start_method)
    tasks = [(i, r, size) for i, r in enumerate(chunks(size, tasks_n))]
    start = time.perf_counter()
    outs = run(args.mode, args.work, tasks, args.workers, ctx)
    wall_ms = (time.perf_counter() - start) * 1000
    out = {"work": args.work, "mode": args.mode, "workers": args.workers, "tasks": tasks_n, "size": size}
    out.update(result(args.work, size, outs))
    if args.mode in ("processes", "process-pool", "pool"):
        out["start_method"] = ctx.get_start_method()
    out["pid"] = os.getpid()
    out["wall_ms"] = round(wall_ms, 3)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
