"""Allocation workload for tests/test_python_alloc.py (any CPython 3.8+).

    workload.py leak|churn|recycle N [--tracemalloc OUT.json]

Prints "ready PID", waits for one byte on stdin, runs, prints "done" and
sleeps until killed (or until stdin gets another byte / closes).

recycle: lines tagged RECYCLE:kind keep N dicts, lists or tuples that
CPython takes back from its free lists (churn refills them every step).
leak: every line tagged LEAK:kind (a comment) keeps N objects of one kind alive
(the holding lists are made before "ready", so those lines allocate only
their objects). churn: the same kinds, plus reference cycles left to the
cyclic GC and a bounded cache, all freed again: nothing should stay.

With --tracemalloc, tracemalloc runs during the workload and its
outstanding bytes/blocks per tagged line are written to OUT.json as
{"<kind>": {"line": L, "size": S, "count": C}}. It is a reference run:
leakbpf traces a separate run, since tracemalloc's own bookkeeping
(raw mallocs on the very same lines) would be seen by leakbpf.
"""
import gc
import os
import sys


class Inst:
    def __init__(self, i):
        self.i = i
        self.name = "x"


class Node:
    def __init__(self):
        self.other = None


def leak(n, keep):
    inst, dicts, lists, strs, byts, bigs, flts, tups, sets = keep
    for i in range(n):
        inst[i] = Inst(i)  # LEAK:instance
        dicts[i] = {"k": i, "j": 1}  # LEAK:dict
        lists[i] = [i] * 8  # LEAK:list
        strs[i] = "s-%08d" % i  # LEAK:str
        byts[i] = i.to_bytes(40, "little")  # LEAK:bytes
        bigs[i] = bytes(1000 + (i & 7))  # LEAK:big
        flts[i] = i * 0.5  # LEAK:float
        tups[i] = (i, i, i)  # LEAK:tuple
        sets[i] = {i}  # LEAK:set


def churn(n):
    cache = {}
    grow = []
    for i in range(n):
        a = Inst(i)  # CHURN:instance
        d = {"k": i, "a": a}  # CHURN:dict
        lst = [i] * (i % 40)  # CHURN:list
        s = "s-%08d" % i  # CHURN:str
        b = bytes(1000 + (i & 7))  # CHURN:big
        t = (a, d, lst, s, b)  # CHURN:tuple
        x, y = Node(), Node()  # CHURN:cycle
        x.other, y.other = y, x  # left to the cyclic GC
        grow.append(t)  # CHURN:grow
        if len(grow) > 64:
            grow = []  # CHURN:reset
        cache[i % 256] = [s, b]  # CHURN:cache (bounded)
    del a, d, lst, s, b, t, x, y, grow, cache
    gc.collect()


def recycle(n, keep):
    """Leaks made of objects CPython takes back from its free lists: every
    step frees dicts, lists and tuples (refilling the free lists) and then
    keeps one of each, which the free lists hand out again."""
    dicts, lists, tups = keep[0], keep[1], keep[2]
    for i in range(n):
        tmp = [{"t": i}, {"u": i}, [i], [i, i], (i, "a"), (i, "b")]
        del tmp
        dicts[i] = {"k": i}  # RECYCLE:dict
        lists[i] = [i, i]  # RECYCLE:list
        tups[i] = (i, "c")  # RECYCLE:tuple


def tagged_lines(prefix):
    out = {}
    with open(__file__) as f:
        for no, line in enumerate(f, 1):
            if "# " + prefix + ":" in line:
                out[line.split("# " + prefix + ":")[1].split()[0]] = no
    return out


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    tm_out = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--tracemalloc" else None
    keep = [[None] * n for _ in range(9)]
    if tm_out:
        import tracemalloc
        tracemalloc.start(1)
    print("ready", os.getpid(), flush=True)
    sys.stdin.buffer.read(1)
    if mode == "leak":
        leak(n, keep)
    elif mode == "recycle":
        recycle(n, keep)
    else:
        churn(n)
    if tm_out:
        import json
        import tracemalloc
        snap = tracemalloc.take_snapshot()
        lines = tagged_lines("LEAK" if mode == "leak" else "CHURN")
        by_line = {}
        for st in snap.statistics("lineno"):
            fr = st.traceback[0]
            if fr.filename == __file__:
                by_line[fr.lineno] = (st.size, st.count)
        res = {k: {"line": ln, "size": by_line.get(ln, (0, 0))[0],
                   "count": by_line.get(ln, (0, 0))[1]} for k, ln in lines.items()}
        with open(tm_out, "w") as f:
            json.dump(res, f)
    print("done", flush=True)
    sys.stdin.buffer.read(1)


if __name__ == "__main__":
    main()
