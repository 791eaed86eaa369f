"""Synchronisation, one demo at a time: Lock, RLock, Semaphore, Event,
Condition, Barrier and Timer from `threading`, a queue.Queue's put and get,
and a deadlock from two locks taken in opposite orders (each thread gives up
after --timeout and says so). One thread (--threads 1) shows what a lock or
a queue costs when no other thread wants it.
The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import queue
import threading
import time

DEMOS = ["lock", "rlock", "semaphore", "event", "condition", "barrier", "timer", "queue", "deadlock"]


def lock_demo(threads, rounds, _timeout):
    """Increments under a Lock: none lost."""
    lock, box = threading.Lock(), [0]

    def work():
        for _ in range(rounds):
            with lock:
                box[0] += 1

    run_all([threading.Thread(target=work) for _ in range(threads)])
    return {"expected": threads * rounds, "counter": box[0]}


def rlock_demo(threads, rounds, _timeout):
    """A function that takes the lock and calls another that takes it again."""
    lock, box = threading.RLock(), [0]

    def inner():
        with lock:
            box[0] += 1

    def outer():
        for _ in range(rounds):
            with lock:
                inner()

    run_all([threading.Thread(target=outer) for _ in range(threads)])
    return {"expected": threads * rounds, "counter": box[0]}


def queue_demo(threads, rounds, _timeout):
    """Each thread puts --rounds items into one queue.Queue, then gets as many."""
    q, got = queue.Queue(), [0] * threads

    def work(i):
        for n in range(rounds):
            q.put(n)
        for _ in range(rounds):
            q.get()
            got[i] += 1

    run_all([threading.Thread(target=work, args=(i,)) for i in range(threads)])
    return {"expected": threads * rounds, "got": sum(got), "left": q.qsize()}


def semaphore_demo(threads, _rounds, _timeout):
    """At most 2 of the threads inside at once."""
    sem, lock, inside, most = threading.Semaphore(2), threading.Lock(), [0], [0]

    def work():
        with sem:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    run_all([threading.Thread(target=work) for _ in range(threads)])
    return {"limit": 2, "most_inside": most[0]}


def event_demo(threads, _rounds, _timeout):
    """Waiters block until one thread sets the event."""
    ev, woke = threading.Event(), []

    def wait():
        ev.wait()
        woke.append(threading.current_thread().name)

    waiters = [threading.Thread(target=wait) for _ in range(threads)]
    for t in waiters:
        t.start()
    time.sleep(0.05)
    before = len(woke)
    ev.set()
    for t in waiters:
        t.join()
    return {"woken_before_set": before, "woken_after_set": len(woke)}


def condition_demo(threads, rounds, _timeout):
    """Consumers wait on a Condition until a producer adds items."""
    cond, items, taken = threading.Condition(), [], []
    total = threads * rounds

    def consume():
        for _ in range(rounds):
            with cond:
                cond.wait_for(lambda: items)
                taken.append(items.pop())

    consumers = [threading.Thread(target=consume) for _ in range(threads)]
    for t in consumers:
        t.start()
    for i in range(total):
        with cond:
            items.append(i)
            cond.notify()
        time.sleep(0.001)
    for t in consumers:
        t.join()
    return {"produced": total, "taken": len(taken), "checksum": sum(taken)}


def barrier_demo(threads, rounds, _timeout):
    """Every thread waits at the barrier until all have arrived, each round."""
    barrier, order = threading.Barrier(threads), []

    def work(k):
        for r in range(rounds):
            time.sleep(0.001 * k)
            order.append(r)
            barrier.wait()

    run_all([threading.Thread(target=work, args=(k,)) for k in range(threads)])
    # Round r never begins before every thread finished round r-1.
    in_order = all(order[i] <= order[i + 1] for i in range(len(order) - 1))
    return {"rounds": rounds, "arrivals": len(order), "rounds_in_order": in_order}


def timer_demo(_threads, _rounds, _timeout):
    """A Timer runs a function after a delay; a cancelled one never does."""
    fired, start = [], time.perf_counter()
    t1 = threading.Timer(0.05, lambda: fired.append(round((time.perf_counter() - start) * 1000, 1)))
    t2 = threading.Timer(0.05, lambda: fired.append("cancelled one ran"))
    t1.start()
    t2.start()
    t2.cancel()
    t1.join()
    t2.join()
    return {"fired": fired}


def deadlock_demo(_threads, _rounds, timeout):
    """Two threads, two locks, opposite orders: each holds one and waits for
    the other. acquire(timeout) ends the wait so the program can say so."""
    a, b = threading.Lock(), threading.Lock()
    both_hold = threading.Barrier(2)
    stuck = []

    def take(first, second, name):
        with first:
            both_hold.wait()  # each now holds its first lock
            if second.acquire(timeout=timeout):
                second.release()
            else:
                stuck.append(name)

    run_all([
        threading.Thread(target=take, args=(a, b, "a-then-b"), name="a-then-b"),
        threading.Thread(target=take, args=(b, a, "b-then-a"), name="b-then-a"),
    ])
    # Both held one lock and waited for the other: whichever gave up first
    # released its lock, which let the other through.
    return {"deadlocked": bool(stuck), "timed_out": sorted(stuck), "timeout_s": timeout}


def run_all(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", choices=DEMOS, default="lock", help="which demo [default: lock]")
    ap.add_argument("--threads", type=int, default=4, help="threads [default: 4]")
    ap.add_argument("--rounds", type=int, default=1000, help="rounds per thread [default: 1000]")
    ap.add_argument("--timeout", type=float, default=1.0, help="deadlock: seconds before a thread gives up [default: 1]")
    args = ap.parse_args()
    if args.threads < 1 or args.rounds < 1 or args.timeout <= 0:
        ap.error("--threads must be at least 1, --rounds at least 1, --timeout above 0")
    start = time.perf_counter()
    out = globals()[f"{args.demo}_demo"](args.threads, args.rounds, args.timeout)
    out = {"demo": args.demo, **out, "wall_ms": round((time.perf_counter() - start) * 1000, 3)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
