"""parlab's hook in the Dask clients of a program under `parlab py`: Dask
runs it as each client connects (parlab sets DASK_DISTRIBUTED__CLIENT__PRELOAD).
It names the client's scheduler in a file parlab reads, then waits (up to
10 s) until parlab says its watcher is on that cluster, so no task the
program runs is missed. Standard library only; it changes nothing in the
client."""
import asyncio
import itertools
import os
import time

WAIT_S = 10.0
_n = itertools.count()


async def dask_setup(client):
    folder = os.environ.get("PARLAB_PROBE_DIR")
    if not folder:
        return
    try:
        address = client.scheduler.address
        name = os.path.join(folder, "dask-%d-%d" % (os.getpid(), next(_n)))
        # Written whole, then renamed: parlab never reads half an address.
        with open(name + ".tmp", "w") as f:
            f.write(address)
        os.replace(name + ".tmp", name + ".addr")
        until = time.monotonic() + WAIT_S
        while not os.path.exists(name + ".ready") and time.monotonic() < until:
            await asyncio.sleep(0.01)
    except Exception:  # the program runs on whatever happens here
        pass
