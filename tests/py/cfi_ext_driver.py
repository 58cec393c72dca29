"""Calls the C extension cfi_ext (built without frame pointers) from Python
functions: prints "ready PID", waits for a byte, leaks COUNT blocks of SIZE
bytes through handle_request -> leak_through_extension -> cfi_ext.leak,
prints "done" and waits for EOF. Usage: cfi_ext_driver.py EXTDIR COUNT SIZE"""

import os
import sys

sys.path.insert(0, sys.argv[1])
import cfi_ext  # noqa: E402

COUNT, SIZE = int(sys.argv[2]), int(sys.argv[3])


def leak_through_extension(size):
    cfi_ext.leak(size)


def handle_request(i):
    leak_through_extension(SIZE)


print("ready", os.getpid(), flush=True)
sys.stdin.read(1)
for i in range(COUNT):
    handle_request(i)
print("done", flush=True)
sys.stdin.read(1)
