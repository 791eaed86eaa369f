"""Producer/consumer: producers put numbered items into a bounded queue
(queue.Queue, LifoQueue or PriorityQueue) at a rate, consumers take them
and work on each. A full queue blocks the producers (put), an empty one the
consumers (get); a None per consumer tells it to stop.
The last line of stdout is the result as one JSON object.
"""
import argparse
import json
import logging
import queue
import threading
import time

logging.basicConfig(
    format="[%(asctime)s.%(msecs)03d] %(levelname)s:%(threadName)s: %(message)s",
    datefmt="%H:%M:%S",
    level=logging.INFO,
)

KINDS = {"fifo": queue.Queue, "lifo": queue.LifoQueue, "priority": queue.PriorityQueue}
STOP = (float("inf"), None)  # sorts last in a PriorityQueue; a sentinel in the others


def producer(q, first, count, rate, produced):
    for item in range(first, first + count):
        if rate > 0:
            time.sleep(1 / rate)
        q.put((item, item * item))
        produced.append(item)
    logging.info("produced %d items", count)


def consumer(q, work_ms, consumed, lock):
    done = 0
    while True:
        entry = q.get()
        if entry == STOP:
            q.task_done()
            break
        item, square = entry
        time.sleep(work_ms / 1000)  # the work on one item, I/O-like
        with lock:
            consumed.append((item, square))
        done += 1
        q.task_done()
    logging.info("consumed %d items", done)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queue", choices=sorted(KINDS), default="fifo", help="queue kind [default: fifo]")
    ap.add_argument("--producers", type=int, default=1, help="producer threads [default: 1]")
    ap.add_argument("--consumers", type=int, default=2, help="consumer threads [default: 2]")
    ap.add_argument("--maxsize", type=int, default=4, help="queue bound; 0 is unbounded [default: 4]")
    ap.add_argument("--rate", type=float, default=100.0, help="items per second per producer; 0: as fast as it can [default: 100]")
    ap.add_argument("--items", type=int, default=40, help="items per producer [default: 40]")
    ap.add_argument("--work-ms", type=float, default=20.0, help="a consumer's work on one item [default: 20]")
    args = ap.parse_args()
    for name in ("producers", "consumers", "items"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if args.maxsize < 0 or args.rate < 0 or args.work_ms < 0:
        ap.error("--maxsize, --rate and --work-ms must not be negative")
    q = KINDS[args.queue](maxsize=args.maxsize)
    produced, consumed, lock = [], [], threading.Lock()
    start = time.perf_counter()
    producers = [
        threading.Thread(target=producer, name=f"producer-{i + 1}",
                         args=(q, i * args.items, args.items, args.rate, produced))
        for i in range(args.producers)
    ]
    consumers = [
        threading.Thread(target=consumer, name=f"consumer-{i + 1}", args=(q, args.work_ms, consumed, lock))
        for i in range(args.consumers)
    ]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    # Every item taken and worked on before the stops go in (a LIFO queue
    # would hand a stop out before the items under it).
    q.join()
    for _ in consumers:
        q.put(STOP)
    for t in consumers:
        t.join()
    wall_ms = (time.perf_counter() - start) * 1000
    total = args.producers * args.items
    print(json.dumps({
        "queue": args.queue,
        "maxsize": args.maxsize,
        "producers": args.producers,
        "consumers": args.consumers,
        "produced": len(produced),
        "consumed": len(consumed),
        "checksum": sum(s for _, s in consumed),
        "expected_checksum": sum(i * i for i in range(total)),
        "wall_ms": round(wall_ms, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
