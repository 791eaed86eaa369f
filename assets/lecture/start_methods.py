"""What starting a process costs, by start method: fork (a copy of this
process: fast, Unix only), spawn (a fresh interpreter that re-imports the
main module: slow, everywhere) and forkserver (a fork of a small server
process, Unix only). Each start is timed from start() to the child's first
line of code, and the run to its join.
The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import multiprocessing
import time


def child(started_at, queue):
    queue.put(time.perf_counter() - started_at)


def measure(method, processes):
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    first_line, whole = [], []
    for _ in range(processes):
        t = time.perf_counter()
        p = ctx.Process(target=child, args=(t, queue))
        p.start()
        first_line.append(queue.get() * 1000)
        p.join()
        whole.append((time.perf_counter() - t) * 1000)
    first_line.sort()
    whole.sort()
    return {
        "processes": processes,
        "to_first_line_ms_median": round(first_line[len(first_line) // 2], 3),
        "start_to_join_ms_median": round(whole[len(whole) // 2], 3),
    }


def main():
    methods = multiprocessing.get_all_start_methods()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(methods),
                    help=f"comma-separated, of {', '.join(methods)} [default: all of them]")
    ap.add_argument("--processes", type=int, default=5, help="processes started per method [default: 5]")
    args = ap.parse_args()
    chosen = [m for m in args.methods.split(",") if m]
    bad = [m for m in chosen if m not in methods]
    if bad or not chosen:
        ap.error(f"--methods: {', '.join(bad) or 'none given'}: this platform has {', '.join(methods)}")
    if args.processes < 1:
        ap.error("--processes must be at least 1")
    out = {"default": multiprocessing.get_start_method()}
    for m in chosen:
        out[m] = measure(m, args.processes)
        print(f"{m:<11} {out[m]['to_first_line_ms_median']:8.2f} ms to the child's first line", flush=True)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
