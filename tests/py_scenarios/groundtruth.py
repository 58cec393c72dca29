"""Ground truth for a field scenario, from tracemalloc inside the process.

Runs a scenario program in this interpreter under tracemalloc, takes a
snapshot WARM seconds after start and another SECONDS later, and prints (one
JSON line on stderr) how much the memory traced by tracemalloc grew in
between: in total, and through the scenario's "# LEAK" line (tracebacks
with that file and line in any frame). This is what leakbpf's
"outstanding bytes" of a trace of the same window should roughly show.

tracemalloc sees what goes through Python's allocators (PyMem_*,
PyObject_*), not raw malloc from C libraries: scenario 7's leak (ctypes ->
malloc) is invisible to it.

Usage: python groundtruth.py SCENARIO.py [--seconds N] [--warm N]
                             [--frames N] [-- SCENARIO ARGS]
Not a test; a tool for checking the scenarios and the tests' expectations.
"""

import json
import os
import runpy
import sys
import threading
import time
import tracemalloc


def leak_lines(path):
    with open(path) as f:
        return [i for i, line in enumerate(f, 1) if line.rstrip().endswith("# LEAK")]


def measure(path, lines, warm, seconds):
    time.sleep(warm)
    s0 = tracemalloc.take_snapshot()
    t0 = time.monotonic()
    time.sleep(seconds)
    s1 = tracemalloc.take_snapshot()
    elapsed = time.monotonic() - t0
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, __file__)]
    s0, s1 = s0.filter_traces(ignore), s1.filter_traces(ignore)
    diffs = s1.compare_to(s0, "traceback")
    base = os.path.basename(path)
    total = leak = net = 0
    top = []
    for d in diffs:
        net += d.size_diff
        if d.size_diff <= 0:
            continue
        total += d.size_diff
        through = any(os.path.basename(fr.filename) == base and fr.lineno in lines
                      for fr in d.traceback)
        if through:
            leak += d.size_diff
        top.append((d.size_diff, through, str(d.traceback[-1]) if d.traceback else "?"))
    top.sort(reverse=True)
    out = {
        "scenario": base,
        "python": sys.version.split()[0],
        "seconds": round(elapsed, 2),
        "growth_total": total,
        "net_total": net,
        "growth_leak_line": leak,
        "leak_share": round(leak / total, 3) if total else None,
        "leak_bytes_per_s": round(leak / elapsed),
        "top": [{"bytes": b, "leak_line": t, "site": s} for b, t, s in top[:5]],
    }
    sys.stderr.write(json.dumps(out) + "\n")
    sys.stderr.flush()
    os._exit(0)


def main(argv):
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    path = os.path.abspath(argv[0])

    def opt(name, default):
        return float(argv[argv.index(name) + 1]) if name in argv else default

    seconds, warm = opt("--seconds", 10.0), opt("--warm", 1.0)
    tracemalloc.start(int(opt("--frames", 25)))
    threading.Thread(target=measure, args=(path, leak_lines(path), warm, seconds),
                     daemon=True).start()
    sys.argv = [path] + rest
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
