"""Field scenario 7: a C library used through ctypes mallocs on every call and
the Python side never frees.

librecord (compiled at start from LIB_SOURCE below, with cc) parses a buffer
into a malloc'ed struct record; callers must give it back with rec_free().
The Python wrapper forgets to: every parsed record stays allocated. ctypes
releases the GIL around the call, so the malloc happens while this thread
does NOT hold the GIL (the main thread is busy running Python code in the
meantime): a tracer must take the Python stack of the calling thread, not of
the GIL holder.

With --libc, the same loop calls libc's malloc directly through
ctypes.CDLL(None) (no compiler needed).

Leaking line: the one marked "# LEAK" in worker(): the parse call whose
record is never freed (the malloc happens in native code under it).

Usage: s7_ctypes_malloc.py [--lib-dir DIR | --libc]
  --lib-dir DIR  write librecord.c into DIR and build DIR/librecord.so there
                 (default: a temporary directory)
Prints "ready PID" once the library is loaded and the threads run, then
works until killed. Standard library only; runs on CPython 3.8 to 3.13.
"""

import ctypes
import os
import subprocess
import sys
import tempfile
import threading
import time

PERIOD = 0.02
CALLS_PER_TICK = 4

LIB_SOURCE = r"""
#include <stdlib.h>
#include <string.h>

struct record {
	size_t len;
	unsigned checksum;
	char data[];
};

/* Caller owns the result: free it with rec_free(). */
struct record *rec_parse(const char *buf, size_t len)
{
	struct record *r = malloc(sizeof(*r) + len);
	if (!r)
		return NULL;
	r->len = len;
	r->checksum = 0;
	for (size_t i = 0; i < len; i++)
		r->checksum = r->checksum * 31 + (unsigned char)buf[i];
	memcpy(r->data, buf, len);
	return r;
}

unsigned rec_checksum(const struct record *r)
{
	return r ? r->checksum : 0;
}

void rec_free(struct record *r)
{
	free(r);
}
"""


def build_library(directory):
    src = os.path.join(directory, "librecord.c")
    out = os.path.join(directory, "librecord.so")
    with open(src, "w") as f:
        f.write(LIB_SOURCE)
    subprocess.check_call(["cc", "-shared", "-fPIC", "-O1", "-g", "-o", out, src])
    return out


class RecordLib:
    """ctypes binding of librecord (or of libc malloc, with --libc)."""

    def __init__(self, path):
        if path is None:
            libc = ctypes.CDLL(None)
            self._malloc = libc.malloc
            self._malloc.restype = ctypes.c_void_p
            self._malloc.argtypes = [ctypes.c_size_t]
            self.parse = self._libc_parse
            self.checksum = lambda rec: 0
            return
        lib = ctypes.CDLL(path)
        lib.rec_parse.restype = ctypes.c_void_p
        lib.rec_parse.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.rec_checksum.restype = ctypes.c_uint
        lib.rec_checksum.argtypes = [ctypes.c_void_p]
        lib.rec_free.restype = None
        lib.rec_free.argtypes = [ctypes.c_void_p]
        self.parse = lambda buf: lib.rec_parse(buf, len(buf))
        self.checksum = lib.rec_checksum
        self.free = lib.rec_free

    def _libc_parse(self, buf):
        rec = self._malloc(16 + len(buf))
        ctypes.memmove(rec + 16, buf, len(buf))
        return rec


def worker(records):
    n = 0
    total = 0
    while True:
        for _ in range(CALLS_PER_TICK):
            data = b"%d|sensor-%d|" % (n, n % 97) + b"v" * (600 + n % 400)
            rec = records.parse(data)  # LEAK
            total += records.checksum(rec)  # the rec_free(rec) call is missing
            n += 1
        time.sleep(PERIOD)


def busy_main_thread():
    """Keep the GIL busy with Python work while the worker is in C."""
    while True:
        words = ["w%d" % i for i in range(200)]
        index = {w: len(w) for w in words}
        sum(index.values())
        time.sleep(0.001)


def main(argv):
    path = None
    if "--libc" not in argv:
        if "--lib-dir" in argv:
            directory = argv[argv.index("--lib-dir") + 1]
        else:
            directory = tempfile.mkdtemp(prefix="librecord-")
        path = build_library(directory)
    records = RecordLib(path)
    threading.Thread(target=worker, args=(records,), daemon=True, name="worker").start()
    print("ready", os.getpid(), flush=True)
    busy_main_thread()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
