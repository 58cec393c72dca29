"""Target program for tests/test_python_core.py (runs under any CPython 3.x).

usage: target.py SCENARIO [SECONDS]

Prints "ready PID", waits for one byte on stdin (sent once leakbpf is
attached), runs SCENARIO for SECONDS (default 3), prints "done ..." and
sleeps until killed. Lines marked "# LINE:<name>" are looked up by the
tests to know which source line an allocation comes from. Allocations that
the tests look for are larger than 512 bytes, so they reach libc malloc
whether or not the object allocator is probed.
"""
import os
import sys
import threading
import time

KEEP = []


def leak_here(n):
    for _ in range(n):
        KEEP.append(bytearray(4096))  # LINE:leak


def scenario_leak(seconds):
    end = time.time() + seconds
    while time.time() < end:
        leak_here(40)
        time.sleep(0.02)
    return ""


def scenario_ctypes(seconds):
    """libc malloc called through ctypes, which releases the GIL around the
    call while another thread keeps taking it: the GIL holder is not the
    allocating thread."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    stop = []

    def spin():
        x = 0
        while not stop:
            x += 1

    def ctypes_leak(n):
        for _ in range(n):
            KEEP.append(libc.malloc(3000))  # LINE:ctypes

    t = threading.Thread(target=spin)
    t.start()
    end = time.time() + seconds
    while time.time() < end:
        ctypes_leak(20)
        time.sleep(0.02)
    stop.append(1)
    t.join()
    return "mallocs=%d" % len(KEEP)


# Each generated function has the same file, first line and code shape; only
# its name and allocation size differ. Dropped functions free their code
# objects, whose addresses the next ones reuse.
GEN_SRC = "def {name}(k):\n    SLOTS[k] = bytearray({size})\n"


def gen_size(i):
    return 100000 + 1000 * (i % 50)


def scenario_reuse(seconds):
    import collections

    slots = [None] * 200000
    alive = collections.deque(maxlen=10)
    ids = set()
    end = time.time() + seconds
    i = 0
    while time.time() < end and 4 * (i + 1) <= len(slots):
        name = "gen_%d" % i
        ns = {"SLOTS": slots}
        exec(compile(GEN_SRC.format(name=name, size=gen_size(i)), "<gen>", "exec"), ns)
        fn = ns[name]
        ids.add(id(fn.__code__))
        alive.append(fn)  # keeps a few alive so most resolve before they die
        for j in range(4):
            fn(4 * i + j)
        i += 1
        if i % 10 == 0:
            time.sleep(0.01)
    KEEP.append(slots)
    return "rounds=%d code_addresses=%d" % (i, len(ids))


THREAD_SIZES = {"thread_leak_a": 5000, "thread_leak_b": 7000, "thread_leak_c": 9000}


def thread_leak_a(end):
    while time.time() < end:
        KEEP.append(bytearray(THREAD_SIZES["thread_leak_a"]))
        time.sleep(0.002)


def thread_leak_b(end):
    while time.time() < end:
        KEEP.append(bytearray(THREAD_SIZES["thread_leak_b"]))
        time.sleep(0.002)


def thread_leak_c(end):
    while time.time() < end:
        KEEP.append(bytearray(THREAD_SIZES["thread_leak_c"]))
        time.sleep(0.002)


def scenario_threads(seconds):
    end = time.time() + seconds
    ts = [threading.Thread(target=f, args=(end,))
          for f in (thread_leak_a, thread_leak_b, thread_leak_c)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return ""


def main():
    scenario = globals()["scenario_" + sys.argv[1]]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    print("ready %d" % os.getpid(), flush=True)
    sys.stdin.read(1)
    info = scenario(seconds)
    print("done %s" % info, flush=True)
    while True:
        time.sleep(100)


main()
