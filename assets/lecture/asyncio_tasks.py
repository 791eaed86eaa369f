"""asyncio: one thread, one event loop. `gather` runs the seven tasks'
sleeps as coroutines at once (the longest one's time, not the sum);
`blocking` runs a CPU-bound coroutine that never awaits, and a ticker that
should tick every 10 ms shows how long the loop was blocked.
The last line of stdout is the result as one JSON object.
"""
import argparse
import asyncio
import json
import time

NAMES = ["Happy", "Sleepy", "Grumpy", "Dopey", "Doc", "Bashful", "Sneezy"]
UNITS = [4, 2, 9, 5, 1, 3, 6]  # the seven tasks' units at seed 42 (seven_tasks.py draws them)


async def sleeper(name, units, unit_ms):
    await asyncio.sleep(units * unit_ms / 1000)
    print(f"{name} done after {units} units", flush=True)
    return {"name": name, "units": units}


def collatz_len(n):
    length = 1
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        length += 1
    return length


async def cpu_bound(size):
    """Never awaits inside: nothing else on the loop runs meanwhile."""
    return sum(collatz_len(n) for n in range(1, size + 1))


async def ticker(period_s, gaps, stop):
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(period_s)
        now = time.perf_counter()
        gaps.append((now - last) * 1000)
        last = now


async def gather_demo(unit_ms, _size):
    results = await asyncio.gather(*(sleeper(n, u, unit_ms) for n, u in zip(NAMES, UNITS)))
    return {"tasks": list(results), "sum_units": sum(UNITS), "longest_units": max(UNITS)}


async def blocking_demo(_unit_ms, size):
    gaps, stop = [], asyncio.Event()
    tick = asyncio.create_task(ticker(0.01, gaps, stop))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    total = await cpu_bound(size)
    blocked_ms = (time.perf_counter() - start) * 1000
    await asyncio.sleep(0.05)
    stop.set()
    await tick
    return {"sum_len": total, "size": size, "blocked_ms": round(blocked_ms, 1),
            "ticker_period_ms": 10, "longest_tick_gap_ms": round(max(gaps), 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", choices=["gather", "blocking"], default="gather", help="which demo [default: gather]")
    ap.add_argument("--unit-ms", type=int, default=100, help="gather: milliseconds in one unit [default: 100]")
    ap.add_argument("--size", type=int, default=200_000, help="blocking: collatz lengths over 1..=SIZE [default: 200000]")
    args = ap.parse_args()
    if args.unit_ms < 1 or args.size < 1:
        ap.error("--unit-ms and --size must be at least 1")
    demo = gather_demo if args.demo == "gather" else blocking_demo
    start = time.perf_counter()
    out = asyncio.run(demo(args.unit_ms, args.size))
    out = {"demo": args.demo, **out, "wall_ms": round((time.perf_counter() - start) * 1000, 3)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
