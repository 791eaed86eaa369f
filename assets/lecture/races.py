"""Race conditions: threads adding to a shared counter without a lock lose
updates (read, add, write: another thread's write lands in between), and
the lecture's thread that iterates a dict while another adds to it
("dictionary changed size during iteration").
`--update plain` is a bare `counter += 1`: CPython 3.9 loses updates on it,
3.10 and later (which switch threads only at calls and backward jumps) do
not; the default puts a call between the read and the write, which loses
updates on every version.
The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import sys
import threading
import time


def plus_one(value):
    return value + 1


def counter_demo(threads, increments, locked, plain=False):
    box, lock = [0], threading.Lock()
    go = threading.Barrier(threads)

    def add():
        go.wait()  # all start together, so they overlap
        for _ in range(increments):
            if locked:
                with lock:
                    box[0] += 1
            elif plain:
                box[0] += 1  # no call: since 3.10 CPython does not switch threads inside it
            else:
                value = box[0]  # read
                value = plus_one(value)  # add: a call, where the interpreter may switch threads
                box[0] = value  # write: another thread may have written since the read

    # Switch threads often, as a busy machine would, so the race shows.
    sys.setswitchinterval(1e-6)
    ts = [threading.Thread(target=add) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    expected = threads * increments
    return {"locked": locked, "update": "plain" if plain else "call", "expected": expected,
            "counter": box[0], "lost": expected - box[0]}


def dict_demo(_threads, increments, _locked, _plain=False):
    """One thread iterates a dict while another inserts into it."""
    shared = {i: i for i in range(1000)}
    errors = []
    default_hook = threading.excepthook

    def hook(args):
        errors.append(f"{type(args.exc_value).__name__}: {args.exc_value}")
        default_hook(args)  # the traceback on stderr, as Python prints it

    threading.excepthook = hook
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            for _ in shared:  # raises once the writer changes the size mid-iteration
                pass

    def writer():
        for i in range(1000, 1000 + increments):
            shared[i] = i
            time.sleep(0)
        stop.set()

    ts = [threading.Thread(target=reader, name="reader"), threading.Thread(target=writer, name="writer")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    threading.excepthook = default_hook
    return {"size": len(shared), "thread_errors": errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", choices=["counter", "dict"], default="counter", help="which race [default: counter]")
    ap.add_argument("--threads", type=int, default=4, help="counter: threads [default: 4]")
    ap.add_argument("--increments", type=int, default=100_000, help="additions per thread (dict: insertions) [default: 100000]")
    ap.add_argument("--lock", action="store_true", help="counter: take a lock around each addition")
    ap.add_argument("--update", choices=["call", "plain"], default="call",
                    help="counter: read, call plus_one, write; or a plain += 1 [default: call]")
    args = ap.parse_args()
    if args.threads < 1 or args.increments < 1:
        ap.error("--threads and --increments must be at least 1")
    start = time.perf_counter()
    out = (counter_demo if args.demo == "counter" else dict_demo)(args.threads, args.increments, args.lock,
                                                                args.update == "plain")
    out = {"demo": args.demo, **out, "wall_ms": round((time.perf_counter() - start) * 1000, 3)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
