"""--children: what a traced Python worker waits for each subprocess.run(["true"])
(vfork: the child is taken and held at its exec, until `true` is traced).

Usage: sudo python3 bench/spawn.py [LEAKBPF...]  (default ./leakbpf; give
several builds to compare). Per build: the median, min and max of RUNS
calls, the worker traced with -p PID --children; first the same untraced.
"""
import signal
import subprocess
import sys
import time

RUNS = 5
WORKER = f"""
import subprocess, sys, time
print('ready', flush=True)
sys.stdin.readline()
ts = []
for _ in range({RUNS}):
    t0 = time.monotonic()
    subprocess.run(['true'])
    ts.append(time.monotonic() - t0)
ts.sort()
print('done', ts[len(ts) // 2], ts[0], ts[-1], flush=True)
sys.stdin.readline()
"""


def measure(leakbpf):
    w = subprocess.Popen(["/usr/bin/python3", "-c", WORKER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)
    w.stdout.readline()
    lb = None
    if leakbpf:
        lb = subprocess.Popen([leakbpf, "-p", str(w.pid), "--children", "-q"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while "tracing pid" not in lb.stderr.readline():
            pass
        time.sleep(1)
    w.stdin.write("g\n")
    w.stdin.flush()
    med, lo, hi = (float(x) for x in w.stdout.readline().split()[1:])
    if lb:
        lb.send_signal(signal.SIGINT)
        lb.wait()
    w.stdin.write("q\n")
    w.stdin.flush()
    w.wait()
    print(f"{leakbpf or 'untraced'}: subprocess.run(['true']) median {med * 1000:.0f} ms "
          f"({lo * 1000:.0f}..{hi * 1000:.0f}, {RUNS} calls)")


for build in [None] + (sys.argv[1:] or ["./leakbpf"]):
    measure(build)
