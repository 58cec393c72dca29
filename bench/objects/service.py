"""A service with a heap of about a million objects, for bench/objects/run.sh.

usage: service.py RATEFILE [SESSIONS]

Builds SESSIONS (default 50000) session objects, each an instance with a
dict of headers, a list of recent events (tuples of str, int and float) and a
few strings: about 20 objects per session. Prints "ready PID OBJECTS" and then
serves synthetic requests as fast as it can in the main thread (parse a
header dict, update a session, build a response list), appending
"<time.time()> <requests so far>" to RATEFILE every 0.1 s.
"""
import gc
import os
import sys
import time


class Session:
    def __init__(self, i):
        self.id = i
        self.user = "user-%d" % i
        self.headers = {"host": "svc-%d" % (i % 17), "agent": "bench/%d" % (i % 5),
                        "cookie": "c%08d" % i}
        self.events = [("login", i, float(i)), ("view", i + 1, i * 0.5),
                       ("click", i + 2, i * 0.25)]
        self.score = i * 1.5


SESSIONS = []


def request(n):
    s = SESSIONS[n % len(SESSIONS)]
    hdr = {"path": "/item/%d" % (n % 1000), "session": s.user}
    body = [hdr["path"], s.headers["host"], str(n)]
    s.score += len(body)
    return len("".join(body))


def main():
    ratefile = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    for i in range(count):
        SESSIONS.append(Session(i))
    gc.collect()
    print("ready %d %d" % (os.getpid(), len(gc.get_objects())), flush=True)
    n = 0
    next_mark = time.time() + 0.1
    with open(ratefile, "a") as f:
        while True:
            for _ in range(200):
                request(n)
                n += 1
            now = time.time()
            if now >= next_mark:
                f.write("%.6f %d\n" % (now, n))
                f.flush()
                next_mark = now + 0.1


main()
