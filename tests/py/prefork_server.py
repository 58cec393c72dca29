"""A pre-fork server as gunicorn makes them: a master forks workers with
os.fork; each worker serves "requests" (a byte on its pipe) in a loop.
Worker 1 leaks on every request (LEAK_EARLY); a worker forked on demand,
after leakbpf attached, leaks at another line (LEAK_LATE).

stdin of the master, one byte each:
  g  every worker serves REQUESTS requests; then "done BYTES..." per leak
  f  fork one more worker (the late, leaky one); "forked PID"
  q  workers quit, the master exits
stdout: "ready MASTER W0 W1 ...", then the lines above. Each leaking worker
counts what it keeps (sys.getsizeof) and the master prints it."""

import os
import sys

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
REQUESTS = 20
EARLY_SIZE = 10000
LATE_SIZE = 24000

kept = []


def serve(rfd, wfd, leak):
    held = 0
    while True:
        cmd = os.read(rfd, 1)
        if cmd != b"r":
            os._exit(0)
        scratch = [bytearray(3000) for _ in range(4)]  # freed: no leak
        del scratch
        if leak == "early":
            kept.append(bytearray(EARLY_SIZE))  # LEAK_EARLY
            held += sys.getsizeof(kept[-1])
        elif leak == "late":
            kept.append(bytearray(LATE_SIZE))  # LEAK_LATE
            held += sys.getsizeof(kept[-1])
        os.write(wfd, b"%d\n" % held)


workers = []  # (pid, to_worker, from_worker)


def spawn(leak):
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w1)
        os.close(r2)
        serve(r1, w2, leak)
    os.close(r1)
    os.close(w2)
    workers.append((pid, w1, os.fdopen(r2)))
    return pid


for i in range(WORKERS):
    spawn("early" if i == 1 else None)
print("ready", os.getpid(), *[w[0] for w in workers], flush=True)
while True:
    c = sys.stdin.read(1)
    if c == "g":
        held = {}
        for _ in range(REQUESTS):
            for pid, w, r in workers:
                os.write(w, b"r")
                held[pid] = int(r.readline())
        print("done", *["%d:%d" % kv for kv in held.items() if kv[1]], flush=True)
    elif c == "f":
        print("forked", spawn("late"), flush=True)
    else:
        break
for pid, w, r in workers:
    os.close(w)
for pid, w, r in workers:
    os.waitpid(pid, 0)
