"""CPython's own figures for parlab bench: the same Collatz lengths, one
thread, two threading.Threads, and ProcessPoolExecutor(2).
usage: python3 gil_bench.py SIZE TASKS   -> one JSON object on stdout"""
import json
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor


def collatz_len(n):
    length = 1
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        length += 1
    return length


def chunk(bounds):
    a, b = bounds
    return sum(collatz_len(n) for n in range(a, b + 1))


def main():
    size, tasks = int(sys.argv[1]), int(sys.argv[2])
    ranges = [(1 + size * i // tasks, size * (i + 1) // tasks) for i in range(tasks)]

    t = time.perf_counter()
    total = sum(chunk(r) for r in ranges)
    one = time.perf_counter() - t

    results = []
    lock = threading.Lock()

    def worker(share):
        s = sum(chunk(r) for r in share)
        with lock:
            results.append(s)

    t = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(ranges[i::2],)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    two_threads = time.perf_counter() - t
    assert sum(results) == total

    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(chunk, ranges)) == total
    two_processes = time.perf_counter() - t

    print(json.dumps({
        "sum_len": total,
        "one_thread_s": one,
        "two_threads_s": two_threads,
        "process_pool_2_s": two_processes,
        "threads_speedup": one / two_threads,
        "processes_speedup": one / two_processes,
    }))


if __name__ == "__main__":
    main()
