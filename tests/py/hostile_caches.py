"""A target hostile to a tracer's caches (issue 10, item 3), for
tests/test_bounded_caches.py: TABLES code objects sharing one 1 MiB line
table, then NAMES functions with unique 500-byte qualnames, each called once
(a block above 512 bytes, seen in every mode) and kept alive, so that their
code objects can be read.

usage: hostile_caches.py [TABLES [NAMES]]   (default 4096 150000)
Prints "ready PID", waits for a line, does both, prints "done", waits for
stdin to close."""
import os, sys
TABLES = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
NAMES = int(sys.argv[2]) if len(sys.argv) > 2 else 150000

def seed():
    return bytearray(600)  # above 512 bytes: a libc block, in every mode

def make(code, **kw):
    return type(seed)(code.replace(**kw), globals())

print("ready", os.getpid(), flush=True)
sys.stdin.readline()
table = bytes(1 << 20)
kept = []
for i in range(TABLES):
    f = make(seed.__code__, co_linetable=table, co_qualname="shared_table_%d" % i)
    f()
    kept.append(f)  # all alive: 4096 code objects, one line table
for i in range(NAMES):
    name = "unique_qualname_%07d_" % i + "x" * 480
    f = make(seed.__code__, co_qualname=name)
    f()
    kept.append(f)  # alive until leakbpf read its name
print("done", flush=True)
sys.stdin.read()
