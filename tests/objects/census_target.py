"""Target programs for tests/test_objects.py (any CPython 3.8+).

usage: census_target.py SCENARIO TRUTHFILE [STEP_SECONDS]

Sets SCENARIO up, prints "ready PID" and then runs it until killed, one step
every STEP_SECONDS (default 0.25). After every step it appends to TRUTHFILE
one line of what the program itself knows of its heap at that moment:

    <time.time()> key=value key=value ...

(len(_REGISTRY), how many cycles it dropped with the collector disabled...),
so that a census taken between two lines can be checked against the lines
around it. Nothing here knows leakbpf.
"""
import collections
import ctypes
import gc
import io
import logging
import os
import queue
import sys
import threading
import time

TRUTH = None


def truth(**values):
    line = "%.6f %s\n" % (time.time(), " ".join("%s=%d" % kv for kv in sorted(values.items())))
    with open(TRUTH, "a") as f:
        f.write(line)


def run(step, seconds):
    while True:
        step()
        time.sleep(seconds)


# --- a module-level registry of connection objects ---


class Connection:
    def __init__(self, i):
        self.id = i
        self.peer = "10.1.%d.%d" % (i // 256 % 256, i % 256)
        self.opened = time.time()
        self.pending = [i]


_REGISTRY = {}


def scenario_registry(seconds):
    n = [0]

    def step():
        for _ in range(200):
            _REGISTRY[n[0]] = Connection(n[0])
            n[0] += 1
        truth(registry=len(_REGISTRY),
              conn_bytes=sum(sys.getsizeof(c) for c in _REGISTRY.values()))

    step()
    ready()
    run(step, seconds)


def scenario_subinterp(seconds):
    """The registry, in a process that also runs a subinterpreter (created
    after the main one: first in the runtime's list of interpreters)."""
    try:
        import _interpreters as interpreters
    except ImportError:
        import _xxsubinterpreters as interpreters
    sub = interpreters.create()
    KEEP.append(sub)
    scenario_registry(seconds)


# --- one named logger per connection ---


def scenario_loggers(seconds):
    n = [0]

    def step():
        for _ in range(100):
            logging.getLogger("svc.conn.%d" % n[0]).setLevel(logging.INFO)
            n[0] += 1
        known = logging.Logger.manager.loggerDict
        loggers = [v for v in known.values() if type(v) is logging.Logger]
        truth(logger_dict=len(known), loggers=len(loggers))
        del known, loggers

    step()
    ready()
    run(step, seconds)


# --- a handler added to the root logger on every job run ---


def run_job(i):
    log = logging.getLogger()
    log.addHandler(logging.StreamHandler(io.StringIO()))
    log.warning("job %d", i)


def scenario_handlers(seconds):
    n = [0]

    def step():
        for _ in range(5):
            run_job(n[0])
            n[0] += 1
        truth(handlers=len(logging.root.handlers))

    step()
    ready()
    run(step, seconds)


# --- a queue whose producers outpace the consumer ---


def main_queue(seconds):
    q = queue.Queue()
    produced = [0]

    def producer():
        while True:
            for _ in range(200):
                q.put((produced[0], time.time(), "event-%d" % produced[0]))
                produced[0] += 1
            time.sleep(seconds)

    def consumer():
        while True:
            for _ in range(50):
                q.get()
            time.sleep(seconds)

    for fn in (producer, consumer):
        threading.Thread(target=fn, daemon=True).start()
    ready()
    while True:
        truth(qsize=q.qsize())
        time.sleep(seconds / 2)


# --- parent/child cycles with __del__ while the collector is disabled ---


class Parent:
    def __init__(self):
        self.children = [Child(self) for _ in range(3)]

    def __del__(self):
        pass


class Child:
    def __init__(self, parent):
        self.parent = parent


def scenario_cycles(seconds):
    gc.collect()
    gc.disable()
    n = [0]

    def step():
        for _ in range(50):
            Parent()  # dropped at once: only the cycle keeps it
            n[0] += 1
        truth(parents=n[0], children=3 * n[0], gc_enabled=gc.isenabled())

    step()
    ready()
    run(step, seconds)


# --- a ctypes library that leaks malloc'd buffers ---


def scenario_ctypes(seconds):
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    leaked = [0]
    size = 256 * 1024

    def step():
        for _ in range(8):
            p = libc.malloc(size)
            libc.memset(p, 1, size)  # touched: it is in the RSS
            leaked[0] += size
        truth(leaked=leaked[0])

    step()
    ready()
    run(step, seconds)


# --- a control: churn and a bounded cache, nothing grows ---


class Request:
    def __init__(self, i):
        self.i = i
        self.headers = {"id": str(i), "path": "/item/%d" % (i % 97)}
        self.body = [i] * 8


def scenario_control(seconds):
    cache = collections.OrderedDict()
    n = [0]

    def step():
        for _ in range(300):
            r = Request(n[0])
            key = r.headers["path"]
            cache[key] = r.body
            cache.move_to_end(key)
            while len(cache) > 64:
                cache.popitem(last=False)
            n[0] += 1
        truth(cache=len(cache))

    for _ in range(3):
        step()
    ready()
    run(step, seconds)


# --- containers mutated as fast as the interpreter can ---


def scenario_mutate(seconds):
    shared = {"list": [], "dict": {}, "set": set(), "deque": collections.deque()}
    counts = [0] * 4

    def lists():
        lst = shared["list"]
        while True:
            for i in range(1000):
                lst.append((i, str(i)))
            del lst[:]
            counts[0] += 1

    def dicts():
        d = shared["dict"]
        while True:
            for i in range(2000):
                d[i] = [i]
            d.clear()
            counts[1] += 1

    def sets():
        s = shared["set"]
        while True:
            for i in range(1000):
                s.add(str(i))
            s.clear()
            counts[2] += 1

    def deques():
        dq = shared["deque"]
        while True:
            for i in range(1000):
                dq.append(i)
            while dq:
                dq.popleft()
            counts[3] += 1

    for fn in (lists, dicts, sets, deques):
        threading.Thread(target=fn, daemon=True).start()
    ready()
    while True:
        truth(rounds=sum(counts))
        time.sleep(seconds)


# --- a hostile program that scribbles over its own objects ---

KEEP = []


def poke(addr, value, ctype=ctypes.c_ssize_t):
    ctype.from_address(addr).value = value


def scenario_hostile(seconds):
    gc.disable()  # the collector would walk what is scribbled over
    junk = ctypes.create_string_buffer(4096)
    junk_addr = ctypes.addressof(junk)
    ctypes.memset(junk_addr, 0x41, 4096)
    KEEP.append(junk)
    # a list claiming 2**40 items that point at junk
    lst = [1, 2, 3]
    poke(id(lst) + 16, 1 << 40)
    poke(id(lst) + 32, 1 << 41)
    poke(id(lst) + 24, junk_addr)
    # a tuple of negative size
    tup = tuple(range(4))
    poke(id(tup) + 16, -5)
    # a dict whose keys point at junk
    d = {"a": 1, "b": 2}
    poke(id(d) + 32, junk_addr)
    poke(id(d) + 16, 1 << 40)
    # a set with an absurd table
    st = {1, 2, 3}
    poke(id(st) + 32, (1 << 40) - 1)
    # a str claiming 2**50 characters
    s = "x" * 100
    poke(id(s) + 16, 1 << 50)
    # a deque whose only block links to itself and claims 2**40 items
    dq = collections.deque(range(10))
    block = ctypes.c_void_p.from_address(id(dq) + 24).value
    poke(block + 8 + 8 * 64, block, ctypes.c_size_t)
    poke(id(dq) + 16, 1 << 40)
    # an object whose type is a forged type object with a hostile name
    name = ctypes.create_string_buffer(b"\x1b[2J\x1b[31mFORGED\x07\n\xe2\x80\xae")
    fake = ctypes.create_string_buffer(1024)
    fake_addr = ctypes.addressof(fake)
    poke(fake_addr + 0, 1 << 30)
    poke(fake_addr + 8, id(type))
    poke(fake_addr + 24, ctypes.addressof(name))
    poke(fake_addr + 32, 1 << 40)  # tp_basicsize
    poke(fake_addr + 168, (1 << 12) | (1 << 14))  # ready, gc
    victim = Connection(-1)
    poke(id(victim) + 8, fake_addr, ctypes.c_size_t)
    # an object whose type points at junk
    victim2 = Connection(-2)
    poke(id(victim2) + 8, junk_addr, ctypes.c_size_t)
    KEEP.extend([lst, tup, d, st, s, dq, name, fake, victim, victim2])
    # a class with a hostile name, whose instances grow
    evil = type("\x1b[2J\x1b]0;owned\x07Evil\u202eSuffix\n", (), {})
    KEEP.append(evil)
    grown = []
    KEEP.append(grown)

    def step():
        for _ in range(50):
            grown.append(evil())
        truth(evil=len(grown))

    step()
    ready()
    run(step, seconds)


# --- exact sizes: sys.getsizeof per class, for every layout ---


class Plain:
    def __init__(self, i):
        self.a = i
        self.b = str(i)


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, i):
        self.a = i
        self.b = [i]


class MyList(list):
    pass


class MyDict(dict):
    pass


class MySet(set):
    pass


class MyTuple(tuple):
    pass


class MyDeque(collections.deque):
    pass


class MyStr(str):
    pass


class MyInt(int):
    pass


class MyBytes(bytes):
    pass


SIZED = []


def scenario_sizes(seconds):
    for i in range(200):
        SIZED.append(Plain(i))
        SIZED.append(Slotted(i))
        SIZED.append(MyList(range(i % 7)))
        SIZED.append(MyDict((k, k) for k in range(i % 11)))
        SIZED.append(MySet(range(i % 13)))
        SIZED.append(MyTuple(range(i % 5)))
        SIZED.append(MyDeque(range(i % 3 * 40)))
        SIZED.append(MyStr("s" * (i % 9) + ("\u00e9" if i % 2 else "")))
        SIZED.append(MyInt(i * 10 ** (i % 30)))
        SIZED.append(MyBytes(b"b" * (i % 17)))
    # strings that own a UTF-8 copy, and dicts of each kind
    SIZED.append(["\u20ac%d" % i for i in range(50)])

    def step():
        per = collections.defaultdict(lambda: [0, 0])
        for o in SIZED:
            t = type(o).__name__
            per[t][0] += 1
            per[t][1] += sys.getsizeof(o)
        values = {}
        for t, (n, b) in per.items():
            values["n_" + t] = n
            values["b_" + t] = b
        truth(**values)

    step()
    ready()
    run(step, seconds)


def ready():
    print("ready %d" % os.getpid(), flush=True)


def main():
    global TRUTH
    scenario = sys.argv[1]
    TRUTH = sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 0.25
    if scenario == "queue":
        main_queue(seconds)  # the queue is main_queue's local "q"
    globals()["scenario_" + scenario](seconds)


if __name__ == "__main__":
    main()
