"""An allocation-heavy Python "request loop", the target of bench.py.

Each request builds what a small JSON API handler builds: a parsed request
dict, a list of model objects (with attribute dicts), their dict form,
strings, a JSON response, and keeps a bounded response cache (no leak: the
cache holds at most CACHE_SIZE entries).

With --leak-every N, every Nth request also keeps a small record forever
(LEAKED), a leak of about 200 bytes per N requests.

Usage: reqloop.py --mode MODE [--seconds S] [--warmup S] [--leak-every N]
  plain    untraced
  tm1      under tracemalloc.start(1)   (in-process, 1 frame)
  tm25     under tracemalloc.start(25)  (in-process, 25 frames)
  wait     untraced by us, for an external tracer: prints "ready PID",
           waits for a line on stdin, then measures
Prints one JSON line on stdout: {"mode", "requests", "seconds", "rps", ...}.
Standard library only; runs on CPython 3.8 to 3.13.
"""

import json
import os
import sys
import time
import tracemalloc

CACHE_SIZE = 2000
LEAKED = []
LEAK_EVERY = 0


class Item:
    def __init__(self, item_id, name, price, tags):
        self.item_id = item_id
        self.name = name
        self.price = price
        self.tags = tags

    def as_dict(self):
        return {"id": self.item_id, "name": self.name, "price": round(self.price, 2),
                "tags": list(self.tags)}


def handle(i, cache):
    req = {
        "id": i,
        "user": "user-%d" % (i % 1000),
        "path": "/api/items/%d" % (i % 5000),
        "headers": {"accept": "application/json", "x-request-id": str(i)},
        "query": {"page": i % 10, "size": 20},
    }
    if LEAK_EVERY and i % LEAK_EVERY == 0:
        LEAKED.append({"id": i, "user": req["user"], "seen": i * 0.5})
    key = (req["path"], req["query"]["page"])
    hit = cache.get(key)
    if hit is not None and i % 3:
        return len(hit)
    items = [Item(j, "item-%d-%d" % (i % 97, j), j * 1.25 + i % 7, ("a", "b%d" % (j % 5)))
             for j in range(req["query"]["size"])]
    body = {"items": [it.as_dict() for it in items],
            "total": sum(it.price for it in items),
            "user": req["user"]}
    text = json.dumps(body)
    cache[key] = text[:256]
    if len(cache) > CACHE_SIZE:
        del cache[next(iter(cache))]
    return len(text.split(","))


def loop(seconds, cache, start_i=0):
    i = start_i
    end = time.perf_counter() + seconds
    while True:
        for _ in range(50):
            handle(i, cache)
            i += 1
        if time.perf_counter() >= end:
            return i - start_i


def main(argv):
    mode = argv[argv.index("--mode") + 1] if "--mode" in argv else "plain"
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 5.0
    warmup = float(argv[argv.index("--warmup") + 1]) if "--warmup" in argv else 0.5
    global LEAK_EVERY
    LEAK_EVERY = int(argv[argv.index("--leak-every") + 1]) if "--leak-every" in argv else 0
    cache = {}
    n0 = loop(warmup, cache)  # fills the cache, warms specialisation
    if mode == "wait":
        print("ready", os.getpid(), flush=True)
        sys.stdin.readline()
    elif mode in ("tm1", "tm25"):
        tracemalloc.start(1 if mode == "tm1" else 25)
    elif mode != "plain":
        sys.exit("unknown mode " + mode)
    cpu0, t0 = time.process_time(), time.perf_counter()
    n = loop(seconds, cache, n0)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    out = {"mode": mode, "python": sys.version.split()[0], "requests": n,
           "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3),
           "rps": round(n / elapsed, 1)}
    if tracemalloc.is_tracing():
        out["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps(out), flush=True)
    if mode == "wait":
        sys.stdin.readline()  # stay alive until the tracer has detached


if __name__ == "__main__":
    main(sys.argv[1:])
