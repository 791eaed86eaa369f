"""Memoisation: fib(k) = fib(k-1) + fib(k-2), in that order (as parlab's
native `fib`), under functools.lru_cache(maxsize). A small cache still turns
the exponential recursion linear, because fib(k-2) was used a moment ago;
`--maxsize 0` caches nothing and shows the exponential cost.
The last line of stdout is the result, cache_info() included, as one JSON object.
"""
import argparse
import functools
import json
import sys
import time


def make_fib(maxsize):
    @functools.lru_cache(maxsize=maxsize)
    def fib(k):
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    return fib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=30, help="compute fib(N) [default: 30]")
    ap.add_argument("--maxsize", default="128", help="lru_cache maxsize, or none for unbounded [default: 128]")
    args = ap.parse_args()
    if args.maxsize == "none":
        maxsize = None
    else:
        try:
            maxsize = int(args.maxsize)
        except ValueError:
            ap.error(f"--maxsize: '{args.maxsize}' is not a whole number or none")
        if maxsize < 0:
            ap.error("--maxsize must be at least 0, or none")
    if not 0 <= args.n <= 5000:
        ap.error("--n must be in 0..=5000")
    if maxsize == 0 and args.n > 32:
        ap.error("--n above 32 with --maxsize 0 takes too long: the recursion is exponential")
    sys.setrecursionlimit(max(1000, 4 * args.n + 100))
    fib = make_fib(maxsize)
    start = time.perf_counter()
    value = fib(args.n)
    wall_ms = (time.perf_counter() - start) * 1000
    info = fib.cache_info()
    print(f"fib({args.n}) = {value}")
    print(info)
    print(json.dumps({
        "n": args.n,
        "fib": value,
        "maxsize": info.maxsize,
        "hits": info.hits,
        "misses": info.misses,
        "currsize": info.currsize,
        "wall_ms": round(wall_ms, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
