"""Benchmark of `leakbpf objects` (driven by bench/objects/run.sh).

One service (service.py) with a heap of about a million objects serves
requests as fast as it can, pinned to CPU 0; in one run, its request rate
is measured untraced; while a busy loop runs on CPU 1 (the control: what
any busy process on the other CPU costs it on this machine); while
`leakbpf objects` (on CPU 1) takes a census every second; while it takes
one every 10 seconds (the default); untraced again; and while `leakbpf
objects --pause` takes one every second. Census wall time, leakbpf's CPU
time and how long --pause stopped the target come from leakbpf's JSON.
Prints one JSON line of results.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def rate_between(path, t0, t1):
    """Requests per second in [t0, t1] from the service's rate file."""
    pts = []
    with open(path) as f:
        for line in f:
            try:
                t, n = line.split()
                pts.append((float(t), int(n)))
            except ValueError:
                continue
    inside = [p for p in pts if t0 <= p[0] <= t1]
    if len(inside) < 2:
        return float("nan")
    (ta, na), (tb, nb) = inside[0], inside[-1]
    return (nb - na) / (tb - ta)


def wait_ready(proc):
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        raise SystemExit("service did not start: %r" % line)
    return int(line.split()[2])


def pin(cpu):
    return ["taskset", "-c", str(cpu)] if os.cpu_count() and os.cpu_count() > 1 else []


def run_leakbpf(leakbpf, pid, seconds, extra, json_path, interval=1):
    count = max(1, int(seconds / interval))
    cmd = pin(1) + [leakbpf, "objects", "-p", str(pid), str(interval), str(count), "-q",
                    "--json", json_path] + extra
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t1 = time.time()
    if r.returncode != 0:
        raise SystemExit("leakbpf failed: %s" % r.stderr)
    with open(json_path) as f:
        return t0, t1, json.load(f)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--leakbpf", required=True)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=60000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    ratefile = os.path.join(tmp, "rate")
    svc = subprocess.Popen(pin(0) + [a.python, os.path.join(HERE, "service.py"), ratefile,
                                     str(a.sessions)], stdout=subprocess.PIPE, text=True)
    try:
        gc_objects = wait_ready(svc)
        pid = svc.pid
        time.sleep(2)  # warm up
        phases = {}
        t0 = time.time()
        time.sleep(a.seconds)
        phases["untraced"] = (t0, time.time())
        t0 = time.time()
        subprocess.run(pin(1) + ["timeout", str(a.seconds), sys.executable, "-c",
                                 "while True: pass"])
        phases["busy"] = (t0, time.time())
        c0, c1, census = run_leakbpf(a.leakbpf, pid, a.seconds, [], os.path.join(tmp, "c.json"))
        phases["census"] = (c0, c1)
        d0, d1, _ = run_leakbpf(a.leakbpf, pid, 20, [], os.path.join(tmp, "d.json"), 10)
        phases["default"] = (d0, d1)
        t0 = time.time()
        time.sleep(a.seconds)
        phases["untraced2"] = (t0, time.time())
        p0, p1, paused = run_leakbpf(a.leakbpf, pid, a.seconds, ["--pause"],
                                     os.path.join(tmp, "p.json"))
        phases["pause"] = (p0, p1)
        rates = {k: rate_between(ratefile, *v) for k, v in phases.items()}
    finally:
        svc.kill()
        svc.wait()
    base = (rates["untraced"] + rates["untraced2"]) / 2
    cs = census["censuses"]
    ps = paused["censuses"]
    row = {
        "python": census["python"],
        "objects": median([c["objects"] for c in cs]),
        "gc_objects": gc_objects,
        "wall_s": median([c["duration_s"] for c in cs]),
        "cpu_s": median([c["cpu_s"] for c in cs]),
        "reads": median([c["reads"] for c in cs]),
        "memory_mb": median([c["memory"] for c in cs]) / 2**20,
        "rate_untraced": base,
        "rate_busy": rates["busy"],
        "rate_census": rates["census"],
        "rate_default": rates["default"],
        "rate_pause": rates["pause"],
        "paused_s": median([c["paused_s"] for c in ps]),
        "paused_max_s": max(c["paused_s"] for c in ps),
        "censuses": len(cs),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
