"""parlab's probe: what a Python program's threads and processes do, as
fixed-size records in a ring per process, in a file parlab maps.

Writing a record is a clock read and one struct.pack_into into shared
memory: no system call, no thread of the probe's own, no trace or profile
hook. Only the few functions that matter are wrapped: a thread's run, a
task's call (threads, executors, pools, processes, asyncio), the waits
(sleep, subprocess, locks, events, conditions, semaphores, barriers,
joins, queues), queue depths and the script's own lru_caches.

Record (64 bytes, little-endian): t, tid, kind, state, a, b, text[24], seq.
`seq` (the record's index + 1) is written last, so a reader that sees it
sees the record; a slot whose seq is ahead of the reader was overwritten.
"""
import atexit
import functools
import itertools
import mmap
import os
import struct
import sys
import threading
import time

DIR = os.environ.get("PARLAB_PROBE_DIR", "")
REC = struct.Struct("<QQHHIQ24sQ")
HEADER = 64
CAP = 1 << 15
# After the records, a byte per thread (its slot, said in its THREAD_START):
# the wait it is in where the OS sees only a futex (a queue's condition).
SLOTS = 1024
MAGIC = b"PLPROBE1"
VERSION = 1

# Kinds.
HELLO, THREAD_START, THREAD_END, TASK_START, TASK_END, ENTER, LEAVE = 1, 2, 3, 4, 5, 6, 7
QUEUE_NEW, QUEUE_DEPTH, PROCESS_NAME, CACHE, QUEUE_AT, THREAD_IDENT, SWITCH_INTERVAL, WAITERS_AT = 8, 9, 10, 11, 12, 13, 14, 15
_TOTALS = struct.Struct("<QQ")
# States, numbered as parlab's.
LOCK_WAIT, IO, QUEUE_FULL, QUEUE_EMPTY = 2, 3, 4, 5

# The GIL, read from outside (parlab's `--gil-sample-hz`): each thread's
# PyThreadState address, so parlab maps the GIL's holder to a lane.
_GIL = os.environ.get("PARLAB_GIL") == "1"
# Where the OS can be asked (Linux), parlab reads from outside what the probe
# would otherwise pay for on every operation: which thread sleeps on a lock
# (the OS names the futex) and a queue's length and traffic (its deque's
# words), whether it reads the GIL or infers it. A Python frame on every
# `with lock:` alone made `races --lock` 12x slower. Elsewhere (macOS) the
# probe records them from inside.
_OUTSIDE = sys.platform.startswith("linux")
_ADDRS = struct.Struct("<QQQ")

# Python's own library: where `os` came from (as sysconfig says, without
# importing sysconfig: the probe's import is part of every run's start).
_STDLIB = os.path.normcase(os.path.dirname(os.__file__))
_current = threading.current_thread
if hasattr(time, "clock_gettime_ns"):
    _clock, _MONO = time.clock_gettime_ns, time.CLOCK_MONOTONIC

    def _now():
        return _clock(_MONO)  # parlab's clock: CLOCK_MONOTONIC

else:  # Windows: no CLOCK_MONOTONIC; parlab reads the same counter there
    _now = time.monotonic_ns


class _Ring:
    """This process's ring: a file mapped shared, records written in place."""

    def __init__(self):
        pid = os.getpid()
        path = os.path.join(DIR, f"ring-{pid}.bin")
        size = HEADER + CAP * REC.size + SLOTS
        fd = os.open(path + ".new", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, size)
            self.mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self.mm[0:28] = struct.pack("<8sIIIII", MAGIC, VERSION, pid, REC.size, CAP, SLOTS)
        os.replace(path + ".new", path)  # parlab sees a ring only once its header is in
        self.next = itertools.count().__next__  # atomic under the GIL


_ring = None
_SLOT_AT = HEADER + CAP * REC.size
_next_slot = itertools.count().__next__
_tls = threading.local()
_next_task = itertools.count(1).__next__
_caches = []
_queues = []


def _take_slot():
    """This thread's slot (+1; 0: none left), said in its THREAD_START."""
    slot = _next_slot()
    _tls.slot = slot if slot < SLOTS else None
    return slot + 1 if slot < SLOTS else 0


def emit(kind, a=0, b=0, text=b"", state=0):
    ring = _ring
    if ring is None:
        return
    i = ring.next()
    REC.pack_into(ring.mm, HEADER + (i % CAP) * REC.size, _now(), _current().native_id or 0,
                  kind, state, a, b, text, i + 1)


_prctl = None


def _name_thread(name):
    """The OS thread's name as Python's (Linux: 15 bytes; top and ps show it).
    One system call when a thread starts, never per record."""
    global _prctl
    if not sys.platform.startswith("linux"):
        return
    try:
        if _prctl is None:
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        _prctl(15, str(name).encode("utf-8", "replace")[:15], 0, 0, 0)  # PR_SET_NAME
    except Exception:
        _prctl = False if _prctl is None else _prctl


def _tstate():
    """This thread's PyThreadState address (0 unless parlab reads the GIL).
    ctypes.pythonapi keeps the GIL: no system call, about a microsecond."""
    return _thread_state() if _thread_state is not None else 0


_thread_state = None


def _interval_us():
    return int(round(sys.getswitchinterval() * 1e6))


def _interpreter():
    """Where parlab looks for the GIL: _PyRuntime (3.9-3.11 keep it there),
    this interpreter (3.12 and later); and the switch interval, in us."""
    global _thread_state
    interval = _interval_us()
    if not _GIL:
        return 0, 0, interval
    try:
        import ctypes

        api = ctypes.pythonapi
        get = api.PyThreadState_Get
        get.restype = ctypes.c_void_p
        interp = api.PyInterpreterState_Get
        interp.restype = ctypes.c_void_p
        runtime = ctypes.addressof(ctypes.c_char.in_dll(api, "_PyRuntime"))
        _thread_state = get
        return runtime, interp() or 0, interval
    except Exception:  # no ctypes, no symbol: parlab infers the GIL instead
        return 0, 0, interval


def _text(s):
    return str(s).encode("utf-8", "replace")[:24]


# JSON for the probe's own small files, without the json module (it imports
# re: 3-5 ms added to every program's start).
_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _json(v):
    if v is None or isinstance(v, bool):
        return {None: "null", True: "true", False: "false"}[v]
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return repr(float(v)) if v == v and abs(v) != float("inf") else "null"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_json(str(k))}: {_json(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_json(x) for x in v) + "]"
    return '"' + str(v).translate(_ESCAPES) + '"'


def _write_json(name, value):
    """A small file beside the ring, written whole (tmp, then rename)."""
    path = os.path.join(DIR, f"{name}-{os.getpid()}.json")
    with open(path + ".new", "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write(_json(value))
    os.replace(path + ".new", path)


def _append_failure(task, error):
    import traceback  # only where a task failed

    line = "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()[-1]
    path = os.path.join(DIR, f"failures-{os.getpid()}.jsonl")
    with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
        f.write(_json({"tid": _current().native_id, "thread": _current().name,
                       "task": task, "reason": line}) + "\n")


def _name_of(fn, args=()):
    """A task's name: the callable's, or for a pool's chunk the function it maps."""
    inner = getattr(fn, "func", None)  # functools.partial (ProcessPoolExecutor.map)
    if getattr(fn, "__name__", "") in ("mapstar", "starmapstar", "_process_chunk") and args:
        inner = args[0]
    target = inner if inner is not None and not isinstance(inner, (tuple, list)) else fn
    return getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or type(target).__name__


def caches_now():
    """The program's caches as cache_info() reads them now, summed for this
    process: hits in b, misses and currsize in the text (at task ends and exit)."""
    if not _caches:
        return
    hits = misses = size = 0
    for c in _caches:
        try:
            info = c.cache_info()
        except Exception:
            continue
        hits, misses, size = hits + info.hits, misses + info.misses, size + info.currsize
    emit(CACHE, b=hits, text=_TOTALS.pack(misses, size))


def task(fn, name=None):
    """`fn`, run as a task: its start, its end, its failure with the last traceback line."""

    @functools.wraps(fn)
    def probed(*args, **kwargs):
        label = name or _name_of(fn, args)
        tid = _next_task()
        emit(TASK_START, a=tid, text=_text(label))
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            if not isinstance(e, (SystemExit, KeyboardInterrupt)) or getattr(e, "code", 1):
                emit(TASK_END, a=tid, b=0)
                _append_failure(label, e)
            else:
                emit(TASK_END, a=tid, b=1)
            caches_now()
            raise
        emit(TASK_END, a=tid, b=1)
        caches_now()
        return result

    return probed


def waiting(state, fn):
    """`fn`, its call shown as `state` (it blocks)."""

    @functools.wraps(fn)
    def probed(*args, **kwargs):
        emit(ENTER, state=state)
        try:
            return fn(*args, **kwargs)
        finally:
            emit(LEAVE, state=state)

    return probed


def _tagged_wait(fn):
    """A condition's wait, shown as the state its owner tagged it with (a
    queue's: empty or full), else as a lock wait."""

    @functools.wraps(fn)
    def probed(self, *args, **kwargs):
        state = getattr(self, "_parlab_state", LOCK_WAIT)
        emit(ENTER, state=state)
        try:
            return fn(self, *args, **kwargs)
        finally:
            emit(LEAVE, state=state)

    return probed


def _is_stdlib(filename):
    """Python's own library (site-packages is the program's side)."""
    name = os.path.normcase(filename)
    return name.startswith(_STDLIB) and "site-packages" not in name


def _from_stdlib(depth=2):
    """Whether the caller `depth` frames up is Python's own library."""
    try:
        return _is_stdlib(sys._getframe(depth).f_code.co_filename)
    except ValueError:
        return True


# ---- threads -------------------------------------------------------------


_real_lock, _real_rlock = threading.Lock, threading.RLock


class Lock:
    """A lock the program made: its waits are shown; the lock is the real one."""

    __slots__ = ("_lock",)

    def __init__(self, inner=None):
        self._lock = inner if inner is not None else _real_lock()

    def acquire(self, blocking=True, timeout=-1):
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        emit(ENTER, state=LOCK_WAIT)
        try:
            return self._lock.acquire(True, timeout)
        finally:
            emit(LEAVE, state=LOCK_WAIT)

    __enter__ = acquire

    def __exit__(self, *exc):
        self._lock.release()

    def release(self):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()

    def __repr__(self):
        return repr(self._lock)


class RLock(Lock):
    __slots__ = ()

    def __init__(self):
        Lock.__init__(self, _real_rlock())

    def _is_owned(self):
        return self._lock._is_owned()

    def _release_save(self):
        return self._lock._release_save()

    def _acquire_restore(self, state):
        self._lock._acquire_restore(state)


# Module-level, so a program that pickles them (a manager's registry, under
# spawn) finds them again by name in its children.


def make_lock():
    return _real_lock() if _from_stdlib() else Lock()


def make_rlock(*args, **kwargs):
    return _real_rlock(*args, **kwargs) if _from_stdlib() else RLock()


def _patch_threading():
    Thread = threading.Thread
    original = Thread._bootstrap_inner

    start = Thread.start

    def probed_start(self):
        # Python's own threads (a pool's, a queue's feeder) are lanes, not tasks.
        self._parlab_own = not _from_stdlib()
        return start(self)

    Thread.start = probed_start

    def _bootstrap_inner(self):
        run = self.run
        target = getattr(self, "_target", None)
        own = getattr(self, "_parlab_own", False)

        def probed_run():
            emit(THREAD_START, a=_take_slot(), b=_tstate(), text=_text(self.name))
            emit(THREAD_IDENT, b=threading.get_ident())
            _name_thread(self.name)
            if not own or (target is None and type(self).run is Thread.run):
                return run()
            name = _name_of(target) if target is not None else type(self).__qualname__ + ".run"
            return task(run, name)()

        self.run = probed_run
        try:
            original(self)
        finally:
            emit(THREAD_END)

    Thread._bootstrap_inner = _bootstrap_inner

    join = Thread.join

    def probed_join(self, timeout=None):
        if not self.is_alive():
            return join(self, timeout)
        return waiting(LOCK_WAIT, join)(self, timeout)

    Thread.join = probed_join
    # An event's, a semaphore's, a barrier's and a queue's waits all sleep in
    # a condition's wait: a queue tags its two conditions (empty, full).
    if not _OUTSIDE:  # else a lock wait is seen from outside; a queue's are slotted
        for name in ("wait", "wait_for"):
            setattr(threading.Condition, name, _tagged_wait(getattr(threading.Condition, name)))
        threading.Lock = make_lock
        threading.RLock = make_rlock


# ---- modules patched when the program imports them ----------------------


def _patch_switch_interval():
    """parlab finds the GIL by the switch interval it holds: a program that
    sets its own (the races lesson, as it starts) says the new one."""
    real = sys.setswitchinterval

    def probed_setswitchinterval(interval):
        real(interval)
        emit(SWITCH_INTERVAL, a=_interval_us())

    sys.setswitchinterval = probed_setswitchinterval


def _patch_time(module):
    sleep = module.sleep
    probed = waiting(IO, sleep)

    @functools.wraps(sleep)
    def probed_sleep(secs):
        # sleep(0) yields the GIL and does not wait: no records (a loop of
        # them would pay two records each).
        return probed(secs) if secs > 0 else sleep(secs)

    module.sleep = probed_sleep


def _patch_select(module):
    module.select = waiting(IO, module.select)


def _patch_selectors(module):
    """A selector's wait is io (asyncio's and socketserver's loops wait
    there). Only where parlab cannot ask the OS instead: on Linux it reads
    which call a thread is blocked in, at no cost to the program."""
    for cls in {id(c): c for c in vars(module).values()}.values():  # DefaultSelector is another's name
        if (isinstance(cls, type) and issubclass(cls, module.BaseSelector)
                and "select" in vars(cls) and not getattr(cls.select, "__isabstractmethod__", False)):
            cls.select = waiting(IO, cls.select)


def _patch_subprocess(module):
    Popen = module.Popen
    Popen.wait = waiting(IO, Popen.wait)
    Popen.communicate = waiting(IO, Popen.communicate)


def _queue_id(q, watched=None):
    qid = getattr(q, "_parlab_id", None)
    if qid is None:
        qid = len(_queues) + 1
        q._parlab_id = qid
        maxsize = getattr(q, "maxsize", None)
        if maxsize is None:
            maxsize = getattr(q, "_maxsize", 0)
        _queues.append((qid, type(q).__name__, maxsize if maxsize and maxsize > 0 else 0, q, watched))
        emit(QUEUE_NEW, a=qid, b=maxsize if maxsize and maxsize > 0 else 0, text=_text(type(q).__name__))
    return qid


_DEQUE = None


def _deque_words():
    """Where a deque keeps its length and its count of changes (appends plus
    pops: a queue's puts plus gets), as byte offsets; found by watching one
    deque change, so no table per version or build. () if not found."""
    global _DEQUE
    if _DEQUE is None:
        _DEQUE = ()
        try:
            import collections
            import ctypes

            d = collections.deque()

            def words():
                return struct.unpack("<16q", ctypes.string_at(id(d), 128))

            before = words()
            for i in range(3):
                d.append(i)
            mid = words()
            d.popleft()
            after = words()
            seen = list(zip(before, mid, after))
            size = [i * 8 for i, w in enumerate(seen) if w == (0, 3, 2)]
            count = [i * 8 for i, w in enumerate(seen) if w == (0, 3, 4)]
            if len(size) == 1 and len(count) == 1:
                _DEQUE = (size[0], count[0])
        except Exception:
            pass
    return _DEQUE


def _traffic(container):
    """A watched deque's puts and gets so far, from its words."""
    import ctypes

    size_at, count_at = _DEQUE
    size = struct.unpack_from("<q", ctypes.string_at(id(container) + size_at, 8))[0]
    count = struct.unpack_from("<q", ctypes.string_at(id(container) + count_at, 8))[0]
    return (count + size) // 2, (count - size) // 2


_WAITERS = None


def _waiter_words():
    """Where parlab finds, from outside, whose futexes a condition's waiters
    sleep on: a deque's length, first block and first index, where a block's
    items begin, and where a lock keeps its semaphore (the futex), as byte
    offsets. Checked here on a deque and a lock of this interpreter, and
    tried only on the versions whose layouts were read (3.9-3.13: a lock
    keeps a semaphore); () elsewhere."""
    global _WAITERS
    if _WAITERS is None:
        _WAITERS = ()
        try:
            if sys.implementation.name == "cpython" and (3, 9) <= sys.version_info < (3, 14) and _deque_words():
                _WAITERS = _check_waiter_words()
        except Exception:
            pass
    return _WAITERS


def _check_waiter_words():
    import collections
    import ctypes

    def word(at):
        return ctypes.c_uint64.from_address(at).value

    lock = _real_lock()
    d = collections.deque([lock])
    length_at, block_at, index_at, item_at, sem_at = _DEQUE[0], 24, 40, 8, 16
    block, index = word(id(d) + block_at), word(id(d) + index_at)
    if word(id(d) + length_at) != 1 or block < 4096 or index >= 64 or word(block + item_at + 8 * index) != id(lock):
        return ()
    sem = word(id(lock) + sem_at)
    if sem < 4096 or sem % 4:
        return ()

    def count():
        return ctypes.c_uint32.from_address(sem).value

    before = count()
    lock.acquire()
    held = count()
    lock.release()
    # A semaphore counts 1 free, 0 taken: then its address is the futex.
    return (length_at, block_at, index_at, item_at, sem_at) if (before, held, count()) == (1, 0, 1) else ()


def _tag_conditions(q):
    """A wait on the queue's conditions is the queue's: empty or full. Read
    from outside, parlab is told once where each condition keeps its waiters
    (or, where their layout is not known, the wait goes in the thread's slot:
    two byte writes around each); else the condition is tagged for the
    recorded wait."""
    for name, state in (("not_empty", QUEUE_EMPTY), ("not_full", QUEUE_FULL)):
        cond = getattr(q, name, None)
        if cond is None:
            continue
        waiters = getattr(cond, "_waiters", None)
        try:
            if _OUTSIDE and _waiter_words() and type(waiters).__name__ == "deque":
                emit(WAITERS_AT, b=id(waiters), state=state, text=bytes(_waiter_words()))
            elif _OUTSIDE:
                cond.wait = _slotted(cond.wait, state)  # wait_for calls it too
            else:
                cond._parlab_state = state
        except AttributeError:
            pass


def _slotted(wait, state):
    def probed(timeout=None):
        slot, ring = getattr(_tls, "slot", None), _ring
        if slot is None or ring is None:
            return wait(timeout)
        at = _SLOT_AT + slot
        ring.mm[at] = state
        try:
            return wait(timeout)
        finally:
            ring.mm[at] = 0

    return probed


def _watch_queues(cls, words):
    """The program's deque-backed queues, read from outside: put and get stay
    CPython's own; parlab reads the deque's length and count of changes."""
    init = cls.__init__

    def probed_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._parlab_own = own = _made_by_the_program()
        container = getattr(self, "queue", None)
        if own and type(container).__name__ == "deque":
            qid = _queue_id(self, container)
            emit(QUEUE_AT, a=qid, b=id(container), state=words[0] | words[1] << 8)
        if own:
            _tag_conditions(self)

    cls.__init__ = probed_init


def _depth(q):
    try:
        return q.qsize()
    except (NotImplementedError, OSError):  # multiprocessing on macOS
        return 0


def _made_by_the_program():
    """Whether the code that made the object being initialised is the
    program's (a queue a pool makes for itself is not the lesson's)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.normcase(frame.f_code.co_filename).endswith(
            os.path.normcase(os.path.join("multiprocessing", "context.py"))):
        frame = frame.f_back  # ctx.Queue(): the caller of the context is the maker
    return frame is not None and not _is_stdlib(frame.f_code.co_filename)


def _patch_queue_class(cls):
    put, get, init = cls.put, cls.get, cls.__init__

    def probed_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._parlab_own = own = _made_by_the_program()
        if own:
            _tag_conditions(self)

    def probed_put(self, item, block=True, timeout=None):
        if not getattr(self, "_parlab_own", False):
            return put(self, item, block, timeout)
        qid = _queue_id(self)
        if block and _full(self):
            emit(ENTER, state=QUEUE_FULL)
            try:
                put(self, item, block, timeout)
            finally:
                emit(LEAVE, state=QUEUE_FULL)
        else:
            put(self, item, block, timeout)
        emit(QUEUE_DEPTH, a=qid, b=_depth(self), state=1)

    def probed_get(self, block=True, timeout=None):
        if not getattr(self, "_parlab_own", False):
            return get(self, block, timeout)
        qid = _queue_id(self)
        if block and _empty(self):
            emit(ENTER, state=QUEUE_EMPTY)
            try:
                item = get(self, block, timeout)
            finally:
                emit(LEAVE, state=QUEUE_EMPTY)
        else:
            item = get(self, block, timeout)
        emit(QUEUE_DEPTH, a=qid, b=_depth(self), state=2)
        return item

    cls.__init__, cls.put, cls.get = probed_init, probed_put, probed_get


def _full(q):
    try:
        return q.full()
    except (NotImplementedError, OSError):
        return False


def _empty(q):
    try:
        return q.empty()
    except (NotImplementedError, OSError):
        return False


def _patch_queue(module):
    words = _deque_words() if _OUTSIDE else ()
    if words:
        _watch_queues(module.Queue, words)
        for cls in (module.LifoQueue, module.PriorityQueue):
            _patch_queue_class(cls)  # a list keeps no count of changes: recorded
    else:
        _patch_queue_class(module.Queue)  # LifoQueue and PriorityQueue inherit it


def _patch_mp_queues(module):
    _patch_queue_class(module.Queue)


def _patch_futures_thread(module):
    WorkItem = module._WorkItem
    run = WorkItem.run

    def probed_run(self):
        name = _name_of(self.fn, self.args)
        tid = _next_task()
        emit(TASK_START, a=tid, text=_text(name))
        run(self)
        failed = self.future.done() and not self.future.cancelled() and self.future.exception(0) is not None
        if failed:
            _append_failure(name, self.future.exception(0))
        emit(TASK_END, a=tid, b=0 if failed else 1)
        caches_now()

    WorkItem.run = probed_run


def _patch_asyncio(module):
    Loop = module.BaseEventLoop
    create_task = Loop.create_task

    def probed_create_task(self, coro, *args, **kwargs):
        return create_task(self, _task_coro(coro), *args, **kwargs)

    Loop.create_task = probed_create_task


async def _coro_task(coro, name, own):
    tid = _next_task()
    emit(TASK_START, a=tid, text=_text(name))
    try:
        result = await coro
    except BaseException as e:
        emit(TASK_END, a=tid, b=0)
        # A library's own coroutine (Dask's writes, asyncio's) raising is
        # the library's to handle: shown failed on its lane, not a failure
        # of the program, whose unhandled errors end it.
        if own and not isinstance(e, (GeneratorExit,)) and type(e).__name__ != "CancelledError":
            _append_failure(name, e)
        raise
    emit(TASK_END, a=tid, b=1)
    caches_now()
    return result


def _task_coro(coro):
    name = getattr(coro, "__qualname__", None) or type(coro).__name__
    if not hasattr(coro, "send"):  # not a coroutine: leave it to asyncio to refuse
        return coro
    return _coro_task(coro, name, _is_own(getattr(getattr(coro, "cr_code", None), "co_filename", "")))


def _is_own(filename):
    """The program's code: neither Python's library nor an installed package."""
    name = os.path.normcase(filename)
    installed = "site-packages" in name or "dist-packages" in name
    return bool(name) and not installed and not name.startswith(_STDLIB)


class _Tasks:
    """A worker's task queue, whose tasks come out wrapped as tasks."""

    def __init__(self, inner, wrap):
        self._inner, self._wrap = inner, wrap

    def get(self, *args, **kwargs):
        return self._wrap(self._inner.get(*args, **kwargs))

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _pool_task(item):
    if item is None:
        return None
    job, i, func, args, kwds = item
    return job, i, task(func, _name_of(func, args)), args, kwds


def _executor_task(item):
    if item is not None and hasattr(item, "fn"):
        item.fn = task(item.fn, _name_of(item.fn, item.args))
    return item


def _patch_mp_process(module):
    Base = module.BaseProcess
    bootstrap, start, join = Base._bootstrap, Base.start, Base.join

    def probed_join(self, timeout=None):
        if self._popen is None or self._popen.poll() is not None:
            return join(self, timeout)
        return waiting(LOCK_WAIT, join)(self, timeout)

    Base.join = probed_join

    def probed_start(self):
        self._parlab_own = not _from_stdlib()  # travels with the object, to the child
        return start(self)

    Base.start = probed_start

    def probed_bootstrap(self, *args, **kwargs):
        emit(PROCESS_NAME, text=_text(self.name))
        _name_thread(self.name)
        target = getattr(self, "_target", None)
        where = (getattr(target, "__module__", ""), getattr(target, "__name__", ""))
        if where == ("multiprocessing.pool", "worker"):
            self._args = (_Tasks(self._args[0], _pool_task),) + tuple(self._args[1:])
        elif where == ("concurrent.futures.process", "_process_worker"):
            self._args = (_Tasks(self._args[0], _executor_task),) + tuple(self._args[1:])
        elif getattr(self, "_parlab_own", False) and (target is not None or type(self).run is not Base.run):
            run = self.run
            self.run = task(run, _name_of(target) if target is not None else type(self).__qualname__ + ".run")
        try:
            return bootstrap(self, *args, **kwargs)
        finally:
            _at_exit()

    Base._bootstrap = probed_bootstrap


def _patch_functools(module):
    original = module.lru_cache

    def lru_cache(maxsize=128, typed=False):
        def keep(wrapper):
            fn = getattr(wrapper, "__wrapped__", None)
            code = getattr(fn, "__code__", None)
            if code is not None and not _is_stdlib(code.co_filename):
                _caches.append(wrapper)  # the program's own cache
            return wrapper

        if callable(maxsize) and not isinstance(maxsize, int):
            return keep(original(maxsize))
        decorate = original(maxsize, typed)
        return lambda fn: keep(decorate(fn))

    module.lru_cache = functools.update_wrapper(lru_cache, original)


_PATCHES = {
    "queue": _patch_queue,
    "subprocess": _patch_subprocess,
    "select": _patch_select,
    "asyncio.base_events": _patch_asyncio,
    "concurrent.futures.thread": _patch_futures_thread,
    "multiprocessing.process": _patch_mp_process,
    "multiprocessing.queues": _patch_mp_queues,
}
if not sys.platform.startswith("linux"):
    _PATCHES["selectors"] = _patch_selectors


class _Finder:
    """Patches a module the moment the program imports it (nothing imported early)."""

    def find_spec(self, name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None


class _PatchingLoader:
    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.patch(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


# ---- start, fork, exit -----------------------------------------------------


def _hello(parent):
    global _ring
    _ring = _Ring()
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    _write_json("info", {
        "pid": os.getpid(),
        "ppid": parent,
        "executable": sys.executable,
        "version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "gil_enabled": bool(gil),
        "argv": sys.argv,
    })
    runtime, interp, interval = _interpreter() if gil else (0, 0, 0)
    emit(HELLO, a=parent, b=runtime, text=_ADDRS.pack(interp, interval, 1 if gil else 0))
    emit(THREAD_START, a=_take_slot(), b=_tstate(), text=_text(_current().name))
    emit(THREAD_IDENT, b=threading.get_ident())


def _after_fork():
    global _next_slot
    _next_slot = itertools.count().__next__
    _caches.clear()
    _queues.clear()
    me = _current()
    if hasattr(me, "_set_native_id"):
        me._set_native_id()  # the forked thread's id is the child's own now
    _hello(os.getppid())


def _at_exit():
    caches = []
    for c in _caches:
        try:
            info = c.cache_info()
        except Exception:
            continue
        fn = getattr(c, "__wrapped__", c)
        caches.append({"function": getattr(fn, "__qualname__", "?"), "module": getattr(fn, "__module__", "?"),
                       "hits": info.hits, "misses": info.misses, "maxsize": info.maxsize,
                       "currsize": info.currsize})
    queues = []
    for qid, kind, maxsize, q, watched in _queues:
        queue = {"id": qid, "kind": kind, "maxsize": maxsize, "depth": _depth(q)}
        if watched is not None:
            try:
                queue["produced"], queue["consumed"] = _traffic(watched)
            except Exception:
                pass
        queues.append(queue)
    try:
        mp = sys.modules.get("multiprocessing")
        method = mp.get_start_method(allow_none=True) if mp else None
    except Exception:
        method = None
    try:
        _write_json("exit", {"caches": caches, "queues": queues, "start_method": method})
    except OSError:
        pass
    caches_now()
    emit(THREAD_END)


def install():
    _hello(os.getppid())
    _patch_threading()
    if _GIL:
        _patch_switch_interval()
    _patch_time(time)
    _patch_functools(functools)
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    sys.meta_path.insert(0, _Finder())
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
    atexit.register(_at_exit)
