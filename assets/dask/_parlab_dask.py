"""parlab's Dask attachment: a client on parlab's machine that watches a
running Dask cluster and prints what happens in it, one JSON object a line.

    python3 _parlab_dask.py tcp://HOST:8786

Nothing is installed on the cluster: this client registers two plugins
(they travel pickled by value, as any client's functions do), which send
what they see on a topic this client subscribes to:

- on the scheduler, every task that ends (its worker, its thread and its
  ``startstops``: compute, transfer, disk) and every worker that joins or
  leaves;
- on each worker, every task that starts executing.

Every time printed is this machine's ``time.time()`` (seconds): the
scheduler's clock is moved onto it by a measured offset, and a worker's
times are already on the scheduler's clock (Dask moves them there).

parlab reads standard output; it ends this client by closing standard
input (or SIGTERM), which takes the plugins off the cluster again.
Needs ``distributed`` (``pip install "dask[distributed]"``).
"""

import json
import os
import signal
import sys
import threading
import time

TOPIC = "parlab-%d" % os.getpid()
NAME = "parlab-%d" % os.getpid()
PERIOD_S = 0.25

_out = threading.Lock()


def say(kind, **fields):
    """One line to parlab, whole (the handler and the poller both write)."""
    fields["k"] = kind
    line = json.dumps(fields, default=str)
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def fail(kind, text):
    say(kind, text=text)
    sys.exit(3)


try:
    import distributed
    from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin
except ImportError as e:
    fail("missing", "%s (%s)" % (e, sys.executable))


def _now_on_scheduler(dask_worker=None):
    return time.time() + (dask_worker.scheduler_delay if dask_worker else 0.0)


class Ends(SchedulerPlugin):
    """On the scheduler: tasks that end, workers that come and go."""

    name = NAME

    def __init__(self, topic):
        self.topic = topic
        self.scheduler = None

    async def start(self, scheduler):
        self.scheduler = scheduler

    async def before_close(self):
        # The scheduler is closing (a program ending its LocalCluster): no
        # more events, none written to a connection that is going away.
        self.scheduler = None

    def _send(self, msg):
        if self.scheduler is not None:
            self.scheduler.log_event(self.topic, msg)

    def transition(self, key, start, finish, *args, **kwargs):
        if start != "processing" or finish not in ("memory", "erred"):
            return
        stops = [
            (s.get("action"), s.get("start"), s.get("stop"))
            for s in kwargs.get("startstops") or ()
        ]
        self._send(
            {
                "k": "end",
                "key": str(key),
                "ok": finish == "memory",
                "worker": kwargs.get("worker"),
                "thread": kwargs.get("thread"),
                "stops": stops,
            }
        )

    def add_worker(self, scheduler, worker):
        ws = scheduler.workers.get(worker)
        self._send(
            {
                "k": "join",
                "t": time.time(),
                "worker": worker,
                "host": getattr(ws, "host", None),
                "nthreads": getattr(ws, "nthreads", 1),
                "name": str(getattr(ws, "name", "")),
                "pid": getattr(ws, "pid", None),
            }
        )

    def remove_worker(self, scheduler, worker, **kwargs):
        self._send({"k": "leave", "t": time.time(), "worker": worker})


class Starts(WorkerPlugin):
    """On each worker: tasks as they start executing, and on which thread."""

    name = NAME
    TRIES = 50  # a millisecond apart: the executor thread takes the task soon

    def __init__(self, topic):
        self.topic = topic
        self.worker = None

    def setup(self, worker):
        self.worker = worker

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and self.worker is not None:
            self._find(key, _now_on_scheduler(self.worker), 0)

    def _find(self, key, t, tries):
        """Send the start once its thread is known (the worker notes which
        thread runs which task as the thread begins it); a task that ended
        first is left to its end, which says it all."""
        w = self.worker
        # The worker's guess at the scheduler's clock (its last heartbeat's),
        # which its task times carry: the watcher takes it off again where
        # the worker shares parlab's clock.
        msg = {
            "k": "start",
            "t": t,
            "key": str(key),
            "worker": w.address,
            "delay": w.scheduler_delay,
        }
        for ident, k in list(w.active_threads.items()):
            if k == key:
                msg["thread"] = ident
                w.log_event(self.topic, msg)
                return
        ts = w.state.tasks.get(key)
        if ts is None or ts.state != "executing":
            return
        if tries < self.TRIES:
            w.loop.call_later(0.001, self._find, key, t, tries + 1)
        else:
            w.log_event(self.topic, msg)


def census(dask_scheduler):
    """On the scheduler: its clock, its tasks by state and its workers."""
    states = {}
    for ts in dask_scheduler.tasks.values():
        states[ts.state] = states.get(ts.state, 0) + 1
    workers = []
    for addr, ws in dask_scheduler.workers.items():
        metrics = ws.metrics or {}
        workers.append(
            {
                "worker": addr,
                "host": ws.host,
                "nthreads": ws.nthreads,
                "name": str(ws.name),
                "pid": getattr(ws, "pid", None),
                "cpu": metrics.get("cpu"),
                "memory": metrics.get("memory"),
            }
        )
    return {"clock": time.time(), "states": states, "workers": workers}


def scheduler_clock(dask_scheduler):
    """On the scheduler: its clock, and nothing else to slow the reply."""
    return time.time()


def clock_offset(client, tries=7):
    """The scheduler's clock against ours: the midpoint of the quickest of
    a few round trips (a slow one lands its midpoint off by up to half its
    length, which would bias every latency measured against it)."""
    best = None
    for _ in range(tries):
        before = time.time()
        theirs = client.run_on_scheduler(scheduler_clock)
        after = time.time()
        if best is None or after - before < best[1]:
            best = ((before + after) / 2 - theirs, after - before)
    return best


def local_end(msg, delays):
    """A task's compute end on its worker's own clock (`local_stop`), where
    that clock is ours: a worker on this machine. Dask moves a worker's
    times onto the scheduler's by the worker's last heartbeat, which is off
    by tens of ms on a busy machine; the latency from a task's end to parlab
    is measured against the end as the worker saw it."""
    worker = msg.get("worker") or ""
    host = worker.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    loopback = host.startswith("127.") or host in ("localhost", "::1")
    stops = [e for _, _, e in msg.get("stops") or () if e is not None]
    if loopback and stops and worker in delays:
        msg["local_stop"] = max(stops) - delays[worker]


def main(address):
    from distributed import Client

    try:
        client = Client(address, timeout="3s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        fail("unreachable", "%s: %s" % (address, e))
    first = client.run_on_scheduler(census)
    offset, round_trip = clock_offset(client)

    delays = {}

    def on_event(event):
        _, msg = event
        if not isinstance(msg, dict):
            return
        if "delay" in msg:
            delays[msg["worker"]] = msg.pop("delay")
        local_end(msg, delays)
        if "t" in msg:
            msg["t"] = msg["t"] + offset
        if "stops" in msg:
            msg["stops"] = [(a, s + offset, e + offset) for a, s, e in msg["stops"]]
        say(msg.pop("k", "unknown"), **msg)

    client.subscribe_topic(TOPIC, on_event)
    client.register_plugin(Ends(TOPIC), name=NAME)
    client.register_plugin(Starts(TOPIC), name=NAME)
    say(
        "hello",
        scheduler=client.scheduler.address,
        version=distributed.__version__,
        python=sys.version.split()[0],
        offset_ms=offset * 1000,
        round_trip_ms=round_trip * 1000,
        workers=first["workers"],
        states=first["states"],
    )
    done = threading.Event()

    def poll():
        while not done.wait(PERIOD_S):
            try:
                c = client.run_on_scheduler(census)
            except Exception as e:  # the scheduler went away
                say("lost", text=str(e))
                done.set()
                os.kill(os.getpid(), signal.SIGTERM)
                return
            say("census", t=c["clock"] + offset, states=c["states"], workers=c["workers"])

    threading.Thread(target=poll, daemon=True).start()
    try:
        sys.stdin.read()  # parlab closes it to end the watch
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        done.set()
        for unregister in (client.unregister_scheduler_plugin, client.unregister_worker_plugin):
            try:
                unregister(NAME)
            except Exception:
                pass
        client.close(timeout=2)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    if len(sys.argv) != 2:
        fail("usage", "usage: _parlab_dask.py tcp://HOST:PORT")
    main(sys.argv[1])
