"""Field scenario 8 (control): heavy allocation churn and bounded caches, no
leak.

A request loop that allocates a lot per request (parsed JSON, dicts, lists,
strings, small objects) but keeps only:
  - render_item(): a functools.lru_cache of at most CACHE_SIZE entries, fed
    keys from a space much larger than the cache, so it evicts constantly;
  - SESSIONS: an OrderedDict capped at MAX_SESSIONS entries (oldest evicted).
Keys and users are drawn log-uniformly (a few hot, a long cold tail), as
real traffic is: entries live from milliseconds to many seconds, so a trace
sees cache entries that outlive -o 1s, but never more than the caches hold.
Memory in use is therefore bounded: after warm-up it stays flat however long
the process runs. A leak finder must show no growth here: outstanding memory
bounded by what the caches can hold (see MAX_RETAINED_BYTES), not growing
with the duration.

There is no "# LEAK" line in this file on purpose.

MAX_RETAINED_BYTES is a generous upper bound of what the two caches can hold
at any moment: CACHE_SIZE entries of at most ~1.6 KB (a rendered string of
<= 1.2 KB, its key and the cache's link node) plus MAX_SESSIONS sessions of
at most ~1.5 KB (dict, strings, history list), plus the caches' own tables,
times 2 for allocator rounding. tests/test_python_scenarios.py uses it.

Prints "ready PID" after warm-up (caches full), then serves BATCH requests
every PERIOD seconds until killed. Standard library only; runs on CPython 3.8
to 3.13.
"""

import collections
import functools
import json
import os
import random
import sys
import time

PERIOD = 0.01
BATCH = 10
CACHE_SIZE = 256
MAX_SESSIONS = 512
KEY_SPACE = 20000
MAX_RETAINED_BYTES = 2 * (CACHE_SIZE * 1600 + MAX_SESSIONS * 1500 + 128 * 1024)

SESSIONS = collections.OrderedDict()


class Request:
    __slots__ = ("rid", "user", "path", "params", "body")

    def __init__(self, rid, user, path, params, body):
        self.rid = rid
        self.user = user
        self.path = path
        self.params = params
        self.body = body


@functools.lru_cache(maxsize=CACHE_SIZE)
def render_item(item_id):
    fields = ["<td>%s</td>" % f for f in ("item", str(item_id), "x" * (item_id % 500))]
    return "<tr>" + "".join(fields) + "</tr>"


def touch_session(user, rid):
    s = SESSIONS.pop(user, None)
    if s is None:
        s = {"user": user, "created": time.time(), "history": []}
    s["history"].append(rid)
    del s["history"][:-8]  # keep the last 8 request ids only
    SESSIONS[user] = s
    while len(SESSIONS) > MAX_SESSIONS:
        SESSIONS.popitem(last=False)
    return s


def skewed(rng, n):
    """0 <= k < n, log-uniformly: small k are hot."""
    return int(n ** rng.random()) - 1


def handle(rng, rid):
    raw = json.dumps({
        "user": "user-%d" % skewed(rng, 8 * MAX_SESSIONS),
        "path": "/items",
        "params": {"ids": [skewed(rng, KEY_SPACE) for _ in range(12)], "page": rid % 7},
        "body": "q=" + "z" * rng.randrange(50, 900),
    })
    d = json.loads(raw)
    req = Request(rid, d["user"], d["path"], d["params"], d["body"])
    session = touch_session(req.user, rid)
    rows = [render_item(i) for i in req.params["ids"]]
    page = "<table>%s</table><!-- %s %d -->" % ("".join(rows), session["user"], len(session["history"]))
    words = {w: len(w) for w in page.split("<")}
    return len(page) + len(words)


def main():
    rng = random.Random(1234)
    rid = 0
    for _ in range(3000):  # warm-up: fill the caches
        handle(rng, rid)
        rid += 1
    print("ready", os.getpid(), flush=True)
    while True:
        for _ in range(BATCH):
            handle(rng, rid)
            rid += 1
        time.sleep(PERIOD)


if __name__ == "__main__":
    sys.exit(main())
