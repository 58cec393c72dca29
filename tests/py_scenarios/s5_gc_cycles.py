"""Field scenario 5: reference cycles with __del__ while the cyclic GC is off.

A service disabled the cyclic garbage collector "to avoid latency spikes"
(gc.disable()). Each request builds a small document tree whose nodes point
to their parent and their children (a reference cycle), and whose class has a
__del__ that releases the node's resources. Reference counting alone cannot
free a cycle, the collector is off, so every document ever built stays in
memory (and its __del__ never runs).

Leaking line: the one marked "# LEAK" in handle_request(): build_document()
creates the whole tree (nodes, attribute dicts, child lists, names, payload
buffers) under it.

Prints "ready PID", then handles one request every PERIOD seconds until
killed. Standard library only; runs on CPython 3.8 to 3.13.
"""

import gc
import os
import sys
import time

PERIOD = 0.02
SECTIONS = 6

_released = [0]


class Node:
    def __init__(self, name, parent=None, payload_size=200):
        self.name = name
        self.parent = parent
        self.children = []
        self.payload = bytearray(payload_size)
        if parent is not None:
            parent.children.append(self)

    def __del__(self):
        _released[0] += 1  # "release" the node's resources


def build_document(i):
    doc = Node("document-%d" % i, payload_size=400)
    for s in range(SECTIONS):
        section = Node("section-%d.%d" % (i, s), doc)
        Node("paragraph-%d.%d.0" % (i, s), section, payload_size=120)
    return doc


def render(node, depth=0):
    out = ["  " * depth + node.name]
    for child in node.children:
        out.extend(render(child, depth + 1))
    return out


def handle_request(i):
    doc = build_document(i)  # LEAK
    return len("\n".join(render(doc)))


def main():
    gc.disable()
    print("ready", os.getpid(), flush=True)
    i = 0
    while True:
        handle_request(i)
        i += 1
        time.sleep(PERIOD)


if __name__ == "__main__":
    sys.exit(main())
