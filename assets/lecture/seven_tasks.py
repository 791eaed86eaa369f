"""The lecture's seven tasks: Happy, Sleepy, Grumpy, Dopey, Doc, Bashful and
Sneezy each sleep 1-10 time units, run one after another, on threads, on
processes, on pools, or as asyncio tasks. I/O-bound work: threads and
processes finish in the longest task's time, not the sum.

The units come from the same seeded SplitMix64 generator as parlab's native
`sleep` workload, so with the same seed the model and the real run sleep alike.
The last line of stdout is the result as one JSON object.
"""
import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

NAMES = ["Happy", "Sleepy", "Grumpy", "Dopey", "Doc", "Bashful", "Sneezy"]
MASK = (1 << 64) - 1
MODES = ["sequential", "threads", "processes", "thread-pool", "process-pool", "asyncio"]

# At import, so that spawned worker processes log in the same format.
logging.basicConfig(
    format="[%(asctime)s.%(msecs)03d] %(levelname)s:%(funcName)s: %(message)s",
    datefmt="%H:%M:%S",
    level=logging.INFO,
)


class SplitMix64:
    """The generator parlab's native workloads use (same seed, same numbers)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def range(self, lo, hi):
        return lo + self.next_u64() % (hi - lo + 1)


def seven_tasks(seed):
    """(name, units) for each of the seven, drawn in order."""
    rng = SplitMix64(seed)
    return [(name, rng.range(1, 10)) for name in NAMES]


def execute_task(name, units, unit_ms, slept=False):
    """Sleep `units` time units, then log it in the lecture's words."""
    if not slept:
        time.sleep(units * unit_ms / 1000)
    thread = threading.current_thread()
    logging.info(
        "%s (thread %s/%d, pid %d) completed in %d units",
        name, thread.name, threading.get_native_id(), os.getpid(), units,
    )
    return {"name": name, "units": units}


async def execute_task_async(name, units, unit_ms):
    await asyncio.sleep(units * unit_ms / 1000)
    return execute_task(name, units, unit_ms, slept=True)


def run(mode, tasks, unit_ms):
    if mode == "sequential":
        return [execute_task(n, u, unit_ms) for n, u in tasks]
    if mode == "threads":
        results = [None] * len(tasks)

        def one(i, n, u):
            results[i] = execute_task(n, u, unit_ms)

        # Python's own thread names: Thread-1 (one), Thread-2 (one), ...
        threads = [threading.Thread(target=one, args=(i, n, u)) for i, (n, u) in enumerate(tasks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results
    if mode == "processes":
        # Results come back down one pipe (no manager process), read as they come.
        out = multiprocessing.SimpleQueue()
        procs = [
            multiprocessing.Process(target=_into, args=(out, i, n, u, unit_ms))
            for i, (n, u) in enumerate(tasks)
        ]
        for p in procs:
            p.start()
        results = dict(out.get() for _ in tasks)
        for p in procs:
            p.join()
        return [results[i] for i in range(len(tasks))]
    if mode == "thread-pool":
        with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
            return list(pool.map(execute_task, *zip(*tasks), [unit_ms] * len(tasks)))
    if mode == "process-pool":
        with ProcessPoolExecutor(max_workers=len(tasks)) as pool:
            return list(pool.map(execute_task, *zip(*tasks), [unit_ms] * len(tasks)))

    async def gather():
        return await asyncio.gather(*(execute_task_async(n, u, unit_ms) for n, u in tasks))

    return list(asyncio.run(gather()))


def _into(out, i, name, units, unit_ms):
    out.put((i, execute_task(name, units, unit_ms)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unit-ms", type=int, default=100, help="milliseconds in one time unit [default: 100]")
    ap.add_argument("--seed", type=int, default=42, help="seed of the seven tasks' units [default: 42]")
    ap.add_argument("--mode", choices=MODES, default="threads", help="how to run them [default: threads]")
    args = ap.parse_args()
    if args.unit_ms < 1:
        ap.error("--unit-ms must be at least 1")
    tasks = seven_tasks(args.seed)
    start = time.perf_counter()
    results = run(args.mode, tasks, args.unit_ms)
    wall_ms = (time.perf_counter() - start) * 1000
    print(json.dumps({
        "tasks": results,
        "unit_ms": args.unit_ms,
        "seed": args.seed,
        "mode": args.mode,
        "sum_units": sum(u for _, u in tasks),
        "longest_units": max(u for _, u in tasks),
        "wall_ms": round(wall_ms, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
