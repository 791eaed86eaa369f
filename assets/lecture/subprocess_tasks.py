"""Subprocesses from a thread pool: shell tasks run with subprocess.run on a
ThreadPoolExecutor(4). Each thread only waits for its child, so three 1 s
tasks take about 1 s on the pool, where five in a row take about 5 s.
The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def command(seconds, i):
    """A shell task where there is a shell; the interpreter itself elsewhere."""
    if shutil.which("sh"):
        return ["sh", "-c", f"sleep {seconds}; echo task {i} done in pid $$"]
    code = f"import os, time; time.sleep({seconds}); print('task {i} done in pid', os.getpid())"
    return [sys.executable, "-c", code]


def run_task(i, seconds):
    start = time.perf_counter()
    done = subprocess.run(command(seconds, i), capture_output=True, text=True, check=False)
    took = (time.perf_counter() - start) * 1000
    line = done.stdout.strip()
    print(f"{threading.current_thread().name}: {line} (exit {done.returncode}, {took:.0f} ms)", flush=True)
    return {"task": i, "exit": done.returncode, "ms": round(took, 1), "output": line}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=3, help="shell tasks [default: 3]")
    ap.add_argument("--seconds", type=float, default=1.0, help="each task's sleep [default: 1]")
    ap.add_argument("--workers", type=int, default=4, help="pool threads; 1 runs them in a row [default: 4]")
    args = ap.parse_args()
    if args.tasks < 1 or args.workers < 1 or args.seconds < 0:
        ap.error("--tasks and --workers must be at least 1, --seconds not negative")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run_task, range(1, args.tasks + 1), [args.seconds] * args.tasks))
    wall_ms = (time.perf_counter() - start) * 1000
    print(json.dumps({
        "tasks": results,
        "workers": args.workers,
        "seconds": args.seconds,
        "failed": sum(1 for r in results if r["exit"] != 0),
        "pid": os.getpid(),
        "wall_ms": round(wall_ms, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
