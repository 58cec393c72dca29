"""Benchmark of the growth mode (`leakbpf --growth`): what it costs the target.

In one run:
  python   bench/python/reqloop.py (an allocation-heavy request loop), without
           a leak and with one (--leak-every 10: a small record kept every
           tenth request), each untraced and under `leakbpf --growth -p PID`,
           on Debian's python3.11 and a pyenv build: CPU seconds of the
           target per request (its user+sys time: page faults and the BPF
           programs run on its behalf count), REPEAT runs interleaved, the
           median and the spread (min..max) of each configuration;
  malloc   bench/build/mallocbench (a malloc+free loop): CPU ns per pair
           untraced and traced;
  faults   tests/c/build/growth_mapunmap (faults and gives back pages every
           way there is, at full speed): the target's CPU per fault untraced
           and traced, the BPF programs' run time per run (run-time
           statistics held on by bpf(BPF_ENABLE_STATS) for the run only),
           and leakbpf's own CPU per record read: the rate of records it can
           take, above which the ring buffer fills and drops are counted;
  pyfaults a Python loop that maps 2 MiB, makes it resident page by page and
           unmaps it: the cost of a fault with a Python stack (the programs'
           run time per run is then mostly this process's);
  syscalls a getppid loop in a process that is NOT traced while leakbpf
           --growth traces another: the growth mode attaches no system call
           tracepoint, which would slow every system call on the host;
  windows  (--only windows: about 25 minutes) `--growth --alloc-windows -v`
           at its default 1 s every 60 s: the python loops (no leak, leak)
           over whole runs of --window-seconds (125: the first window opens
           when the target has grown, the next 60 s later), CPU per request
           untraced and traced and the windows opened (JSON report); the
           same loops under one window longer than the run (the cost inside
           a window); each window's attach and detach time, blocks seen and
           survivors (leakbpf -v); the native malloc+free loop (no growth:
           no window opens). Each traced run has an untraced twin running
           beside it, on the other core: both see the same load.

Prints markdown tables for the README. This is a benchmark, not a test: it
asserts nothing about speed. Needs root, ./leakbpf, `make -C bench` and
`make -C tests`.

Usage: bench/growth.py [--seconds S] [--repeat N] [--python PY ...] [--json OUT]
                       [--only SECTION] [--window-seconds S] [--inside-seconds S]
"""

import argparse
import contextlib
import glob
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE / "python"))
from bench import bpf_prog_stats, cpu_of, enable_bpf_stats  # noqa: E402

REQLOOP = HERE / "python" / "reqloop.py"
LEAKBPF = REPO / "leakbpf"
MALLOCBENCH = HERE / "build" / "mallocbench"
MAPUNMAP = REPO / "tests" / "c" / "build" / "growth_mapunmap"
RINGBUF_BYTES = 32 << 20  # bpf/leakbpf.bpf.c: events
WAKEUP_BYTES = 8 << 20  # rb_flags(): the reader is woken above this


class Tracer:
    """`leakbpf --growth -p PID -q --json F EXTRA` until stop(); the report
    and leakbpf's CPU seconds since it began tracing come back. Its stderr
    lines are kept with the time.monotonic() they came at (err_at)."""

    def __init__(self, pid, extra=()):
        self.json = tempfile.mktemp(prefix="leakbpf-growth-bench-", suffix=".json")
        self.p = subprocess.Popen([str(LEAKBPF), "--growth", "-p", str(pid), "-q", "--json",
                                   self.json] + list(extra), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.err = []
        self.err_at = []
        self.ready = threading.Event()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        if not self.ready.wait(60) or self.p.poll() is not None:
            raise RuntimeError("leakbpf did not start: " + "".join(self.err))
        self.cpu0 = cpu_of(self.p.pid)

    def _pump(self):
        for line in self.p.stderr:
            self.err.append(line)
            self.err_at.append(time.monotonic())
            if line.startswith("leakbpf: tracing pid"):
                self.ready.set()
        self.ready.set()

    def stop(self):
        cpu = cpu_of(self.p.pid) - self.cpu0
        self.p.send_signal(signal.SIGINT)
        self.p.wait(60)
        self.pump.join(10)  # its last lines (a window closed at the end)
        try:
            with open(self.json) as f:
                report = json.load(f)
            os.unlink(self.json)
        except OSError:
            report = None
        return report, cpu


@contextlib.contextmanager
def started(argv, **kw):
    """A process for one measurement, killed if it is still there after."""
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1, **kw)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def prog_runs(before, after):
    """{program name: (ns per run, runs)} between two bpf_prog_stats()."""
    out = {}
    for pid, (name, ns, cnt) in after.items():
        ns0, cnt0 = before.get(pid, (name, 0, 0))[1:]
        if cnt > cnt0:
            out[name] = ((ns - ns0) / (cnt - cnt0), cnt - cnt0)
    return out


@contextlib.contextmanager
def reqloop(py, leak, seconds):
    """bench/python/reqloop.py waiting for "go" (leak: a record kept every
    tenth request)."""
    args = [py, REQLOOP, "--mode", "wait", "--seconds", seconds]
    if leak:
        args += ["--leak-every", "10"]
    with started(args) as t:
        if not t.stdout.readline().startswith("ready"):
            raise RuntimeError(f"{py}: reqloop did not start")
        yield t


def python_run(py, leak, traced, seconds):
    """One reqloop run; its CPU per request and, traced, the pages seen."""
    with reqloop(py, leak, seconds) as t:
        tracer = Tracer(t.pid) if traced else None
        before = bpf_prog_stats(tracer.p.pid) if tracer else {}
        t.stdin.write("go\n")
        t.stdin.flush()
        res = json.loads(t.stdout.readline())
        out = {"us_per_request": 1e6 * res["cpu_seconds"] / res["requests"],
               "requests": res["requests"], "python": res["python"]}
        if tracer:
            runs = prog_runs(before, bpf_prog_stats(tracer.p.pid))
            if "lb_fault_user" in runs:
                out["fault_ns"], out["fault_runs"] = runs["lb_fault_user"]
            report, _ = tracer.stop()
            if report:
                out["pages"] = report["growth"]["pages_resident"]
                out["drops"] = sum(report["drops"].values())
        t.stdin.write("bye\n")
        t.stdin.flush()
        t.wait(30)
        return out

def spread(values):
    m = statistics.median(values)
    return m, min(values), max(values)


def bench_python(pythons, seconds, repeat):
    rows = []
    for py in pythons:
        runs = {}
        # interleaved, so that a slow moment of the machine hits every
        # configuration alike
        for _ in range(repeat):
            for leak in (False, True):
                for traced in (False, True):
                    runs.setdefault((leak, traced), []).append(
                        python_run(py, leak, traced, seconds))
        version = runs[(False, False)][0]["python"]
        for leak in (False, True):
            base = spread([r["us_per_request"] for r in runs[(leak, False)]])
            traced = spread([r["us_per_request"] for r in runs[(leak, True)]])
            pages = statistics.median(r.get("pages", 0) for r in runs[(leak, True)])
            fault_ns = [r["fault_ns"] for r in runs[(leak, True)] if "fault_ns" in r]
            rows.append({"python": f"{py} ({version})", "leak": leak, "untraced": base,
                         "traced": traced, "pages": pages, "seconds": seconds,
                         "fault_ns": statistics.median(fault_ns) if fault_ns else None,
                         "drops": sum(r.get("drops", 0) for r in runs[(leak, True)])})
    return rows


def mallocbench(traced, seconds):
    with started([MALLOCBENCH, "-w", "-t", seconds]) as p:
        if not p.stdout.readline().startswith("ready"):
            raise RuntimeError("mallocbench did not start")
        tracer = Tracer(p.pid) if traced else None
        p.send_signal(signal.SIGUSR1)
        out = p.stdout.read()
        p.wait(60)
        if tracer:
            tracer.stop()
        return float(re.search(r"cpu_ns_per_pair=([0-9.]+)", out).group(1))

def bench_malloc(seconds, repeat):
    runs = {False: [], True: []}
    for _ in range(repeat):
        for traced in (False, True):
            runs[traced].append(mallocbench(traced, seconds))
    return {k: spread(v) for k, v in runs.items()}


def mapunmap_run(traced, rounds):
    """growth_mapunmap ROUNDS: target CPU per fault, BPF programs, leakbpf's
    CPU per record."""
    with started([MAPUNMAP, rounds]) as t:
        if not t.stdout.readline().startswith("ready"):
            raise RuntimeError("growth_mapunmap did not start")
        tracer = Tracer(t.pid) if traced else None
        before = bpf_prog_stats(tracer.p.pid) if tracer else {}
        cpu0 = cpu_of(t.pid)
        t.stdin.write("g")
        t.stdin.flush()
        pages = 0
        for line in t.stdout:
            if line.startswith("rounds"):
                pages = int(line.split()[3])
            if line.startswith("done"):
                break
        cpu = cpu_of(t.pid) - cpu0
        out = {"faults": pages, "us_per_fault": 1e6 * cpu / pages}
        if tracer:
            out["progs"] = prog_runs(before, bpf_prog_stats(tracer.p.pid))
            # what leakbpf still has to read when the target is done
            time.sleep(0.5)
            report, lb_cpu = tracer.stop()
            g = report["growth"]
            records = g["pages_resident"] + g["pages_known"]
            out["records"] = records
            out["leakbpf_us_per_record"] = 1e6 * lb_cpu / max(records, 1)
            out["drops"] = report["drops"]["ringbuf_page"] + report["drops"]["ringbuf_range"]
        t.stdin.write("q")
        t.stdin.flush()
        t.wait(30)
        return out

PYFAULTS = """
import mmap, sys, time
print("ready", flush=True)
sys.stdin.readline()
t = time.process_time()
n = 0
for _ in range(int(sys.argv[1])):
    b = mmap.mmap(-1, 2 << 20)  # fresh anonymous pages
    for i in range(0, len(b), 4096):
        b[i] = 1  # one write fault per page
        n += 1
    b.close()  # munmap
print((time.process_time() - t) / n * 1e6, n, flush=True)
sys.stdin.readline()
"""


def pyfaults_run(py, traced, buffers=300):
    """CPU us per fault of a Python process, and the fault programs' ns per run."""
    with started([py, "-c", PYFAULTS, buffers]) as t:
        t.stdout.readline()
        tracer = Tracer(t.pid) if traced else None
        before = bpf_prog_stats(tracer.p.pid) if tracer else {}
        t.stdin.write("go\n")
        t.stdin.flush()
        us, n = t.stdout.readline().split()
        out = {"us_per_fault": float(us), "faults": int(n)}
        if tracer:
            out["progs"] = prog_runs(before, bpf_prog_stats(tracer.p.pid))
            tracer.stop()
        t.stdin.write("bye\n")
        t.stdin.flush()
        t.wait(30)
        return out

def bench_pyfaults(pythons, repeat):
    rows = []
    for py in pythons:
        runs = {False: [], True: []}
        for _ in range(repeat):
            for traced in (False, True):
                runs[traced].append(pyfaults_run(py, traced))
        ns = {}
        for r in runs[True]:
            for name, (v, _) in r["progs"].items():
                ns.setdefault(name, []).append(v)
        rows.append({"python": py,
                     "untraced": statistics.median(r["us_per_fault"] for r in runs[False]),
                     "traced": statistics.median(r["us_per_fault"] for r in runs[True]),
                     "progs": {k: statistics.median(v) for k, v in ns.items()}})
    return rows


def syscall_loop(n):
    """ns per getppid() in a fresh process (not traced)."""
    code = ("import os, time\nn = %d\nt = time.process_time()\nfor _ in range(n): os.getppid()\n"
            "print((time.process_time() - t) / n * 1e9)\n" % n)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return float(r.stdout)


def bench_syscalls(repeat, n=400000):
    idle = subprocess.Popen(["sleep", "600"])
    try:
        runs = {False: [], True: []}
        for _ in range(repeat):
            runs[False].append(syscall_loop(n))
            tracer = Tracer(idle.pid)
            runs[True].append(syscall_loop(n))
            tracer.stop()
        return {k: spread(v) for k, v in runs.items()}
    finally:
        idle.kill()
        idle.wait()


# `leakbpf -v`'s line when an allocation window closes
# (user/session/alloc_windows.c)
WINDOW_CLOSED = re.compile(
    r"allocation window (\d+): ([0-9.]+) s, probes attached in ([0-9.]+) ms, detached in "
    r"([0-9.]+) ms, last records read in ([0-9.]+) ms; (\d+) blocks seen, (\d+) survivors")
WINDOW_OPEN = re.compile(r"allocation window \d+ open$")


def window_results(tracer, go_at, end_at):
    """Stop TRACER (`--alloc-windows -v`): what its windows did in the run
    from GO_AT to END_AT (time.monotonic())."""
    opened = [at for line, at in zip(tracer.err, tracer.err_at)
              if WINDOW_OPEN.search(line.strip())]
    report, _ = tracer.stop()
    if report is None:
        raise RuntimeError("leakbpf wrote no report: " + "".join(tracer.err[-5:]))
    g = report["growth"]
    out = {k: g[k] for k in ("windows", "survivors", "pages_sampled", "pages_resident")}
    out["drops"] = {k: v for k, v in report["drops"].items() if v}
    out["window_lines"] = [[float(x) for x in m.groups()] for m in
                           map(WINDOW_CLOSED.search, tracer.err) if m]
    # the share of the run the first window was open for
    out["in_window"] = (end_at - opened[0]) / (end_at - go_at) if opened else 0.0
    return out


def us_per_request(res):
    return 1e6 * res["cpu_seconds"] / res["requests"]


def windows_pair(py, leak, seconds, windows="--alloc-windows"):
    """Two reqloop runs of SECONDS side by side, one untraced and one under
    `--growth WINDOWS -v`: on a shared machine both see the same load,
    which a run after the other does not."""
    with reqloop(py, leak, seconds) as u, reqloop(py, leak, seconds) as t:
        tracer = Tracer(t.pid, [windows, "-v"])
        go_at = time.monotonic()
        for p in (u, t):
            p.stdin.write("go\n")
            p.stdin.flush()
        ru, rt = json.loads(u.stdout.readline()), json.loads(t.stdout.readline())
        out = {"untraced": us_per_request(ru), "traced": us_per_request(rt),
               "python": ru["python"]}
        out.update(window_results(tracer, go_at, time.monotonic()))
        for p in (u, t):
            p.stdin.write("bye\n")
            p.stdin.flush()
            p.wait(30)
        return out


def mallocbench_pair(seconds):
    """mallocbench for SECONDS twice side by side, one under `--growth
    --alloc-windows`: (CPU ns per pair untraced, traced, windows)."""
    with started([MALLOCBENCH, "-w", "-t", seconds]) as u, \
            started([MALLOCBENCH, "-w", "-t", seconds]) as t:
        for p in (u, t):
            if not p.stdout.readline().startswith("ready"):
                raise RuntimeError("mallocbench did not start")
        tracer = Tracer(t.pid, ["--alloc-windows"])
        for p in (u, t):
            p.send_signal(signal.SIGUSR1)
        outs = [p.stdout.read() for p in (u, t)]
        for p in (u, t):
            p.wait(60)
        windows = tracer.stop()[0]["growth"]["windows"]
        ns = [float(re.search(r"cpu_ns_per_pair=([0-9.]+)", o).group(1)) for o in outs]
        return ns[0], ns[1], windows


def bench_windows(pythons, seconds, inside_seconds, repeat):
    """Whole runs of SECONDS (windows at the default period), runs of
    INSIDE_SECONDS under one window longer than the run, and the native loop;
    each beside an untraced twin."""
    rows = []
    for py in pythons:
        for leak in (False, True):
            whole, inside = [], []
            for _ in range(repeat):
                whole.append(windows_pair(py, leak, seconds))
                # one window longer than the run: the target at the windows' pace
                inside.append(windows_pair(py, leak, inside_seconds,
                                           "--alloc-windows=600s/1200s"))
            rows.append({"python": f"{py} ({whole[0]['python']})", "leak": leak,
                         "whole": whole, "inside": inside})
    native = [mallocbench_pair(seconds) for _ in range(repeat)]
    return {"python": rows, "malloc": native, "seconds": seconds,
            "inside_seconds": inside_seconds}


def default_pythons():
    pys = []
    if os.access("/usr/bin/python3.11", os.X_OK):
        pys.append("/usr/bin/python3.11")
    root = os.environ.get("PYENV_ROOT") or subprocess.run(
        ["sh", "-c", "pyenv root 2>/dev/null || echo $HOME/.pyenv"], capture_output=True,
        text=True).stdout.strip()
    found = sorted(glob.glob(os.path.join(root, "versions", "3.12.*", "bin", "python3")))
    if found:
        pys.append(found[-1])
    return pys


def pct(a, b):
    return 100.0 * (a / b - 1)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--python", action="append")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--json")
    ap.add_argument("--only", help="one section: python, malloc, faults, pyfaults, syscalls, "
                    "windows (not run without --only: ~25 minutes)")
    ap.add_argument("--window-seconds", type=float, default=125,
                    help="windows: seconds per whole run (default 125: a window at "
                    "growth, the next 60 s later)")
    ap.add_argument("--inside-seconds", type=float, default=15,
                    help="windows: seconds per run inside one window")
    ap.add_argument("--window-repeat", type=int, default=1)
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("bench/growth.py: run as root (BPF)")
    for path in (LEAKBPF, MALLOCBENCH, MAPUNMAP):
        if not path.exists():
            sys.exit(f"bench/growth.py: {path} missing: make, make -C bench, make -C tests")
    stats_fd = enable_bpf_stats()
    pythons = a.python or default_pythons()
    want = (lambda s: a.only in (None, s))
    try:
        py_rows = bench_python(pythons, a.seconds, a.repeat) if want("python") else []
        malloc = bench_malloc(1.5, a.repeat) if want("malloc") else None
        faults = {traced: [mapunmap_run(traced, a.rounds) for _ in range(a.repeat)]
                  for traced in (False, True)} if want("faults") else None
        pyfaults = bench_pyfaults(pythons, a.repeat) if want("pyfaults") else []
        syscalls = bench_syscalls(a.repeat) if want("syscalls") else None
        windows = bench_windows(pythons, a.window_seconds, a.inside_seconds,
                                a.window_repeat) if a.only == "windows" else None
    finally:
        os.close(stats_fd)
    report(a, py_rows, malloc, faults, pyfaults, syscalls, windows)


def report(a, py_rows, malloc, faults, pyfaults, syscalls, windows):

    if py_rows:
        report_python(a, py_rows)
    if malloc:
        report_malloc(malloc)
    if faults:
        report_faults(faults)
    if pyfaults:
        print("\n| Python loop making pages resident | CPU per fault, untraced | --growth | "
              "fault program per run | rss_stat per run |\n|---|---:|---:|---:|---:|")
        for r in pyfaults:
            p = r["progs"]
            print(f"| {r['python']} | {r['untraced']:.2f} us | {r['traced']:.2f} us "
                  f"({r['traced'] - r['untraced']:+.2f} us) | "
                  f"{p.get('lb_fault_user', 0):.0f} ns | {p.get('lb_rss_stat', 0):.0f} ns |")
    if syscalls:
        report_syscalls(syscalls)
    if windows:
        report_windows(windows)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"python": py_rows, "malloc": malloc, "faults": faults,
                       "pyfaults": pyfaults, "syscalls": syscalls, "windows": windows}, f,
                      indent=1, default=str)


def report_python(a, py_rows):
    print(f"\n## Growth mode: CPU of the target, median of {a.repeat} runs (min..max)\n")
    print("| interpreter | loop | untraced, us/request | --growth, us/request | cost | "
          "pages made resident | fault program, ns per run |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in py_rows:
        b, t = r["untraced"], r["traced"]
        print(f"| {r['python']} | {'leak every 10th request' if r['leak'] else 'no leak'} | "
              f"{b[0]:.2f} ({b[1]:.2f}..{b[2]:.2f}) | {t[0]:.2f} ({t[1]:.2f}..{t[2]:.2f}) | "
              f"{pct(t[0], b[0]):+.1f}% | {r['pages']:.0f} in {r['seconds']:g} s | "
              f"{'%.0f' % r['fault_ns'] if r['fault_ns'] else '-'} |")
    noise = max(pct(r["untraced"][2], r["untraced"][1]) for r in py_rows)
    print(f"\nNoise: untraced runs of one configuration differ by up to {noise:.1f}% "
          "(max/min).")


def report_malloc(m):
    print("\n| malloc(64)+free loop | CPU ns per pair |\n|---|---:|")
    print(f"| untraced | {m[False][0]:.1f} ({m[False][1]:.1f}..{m[False][2]:.1f}) |")
    print(f"| --growth | {m[True][0]:.1f} ({m[True][1]:.1f}..{m[True][2]:.1f}) |")


def report_faults(faults):
    un = statistics.median(r["us_per_fault"] for r in faults[False])
    tr = statistics.median(r["us_per_fault"] for r in faults[True])
    progs = {}
    for r in faults[True]:
        for name, (ns, cnt) in r["progs"].items():
            progs.setdefault(name, []).append((ns, cnt))
    per_record = statistics.median(r["leakbpf_us_per_record"] for r in faults[True])
    nfaults = faults[True][0]["faults"]
    print(f"\n| growth_mapunmap ({nfaults} faults per run) | |\n|---|---:|")
    print(f"| target CPU per fault, untraced | {un:.2f} us |")
    print(f"| target CPU per fault, --growth | {tr:.2f} us ({tr - un:+.2f} us) |")
    for name, v in sorted(progs.items()):
        ns = statistics.median(x[0] for x in v)
        cnt = statistics.median(x[1] for x in v)
        print(f"| BPF {name}: run time per run | {ns:.0f} ns ({cnt:.0f} runs) |")
    print(f"| leakbpf CPU per record read | {per_record:.2f} us |")
    print(f"| drops | {sum(r['drops'] for r in faults[True])} |")
    rate = 1e6 / per_record
    print(f"\nleakbpf reads ~{rate / 1e3:.0f}k records/s on one core: above that, "
          f"sustained, the {RINGBUF_BYTES >> 20} MiB ring buffer fills and records are "
          "dropped (and counted).")


def report_windows(w):
    med = (lambda runs, k: statistics.median(r[k] for r in runs))
    loop = (lambda r: "leak every 10th request" if r["leak"] else "no leak")
    print(f"\n## --growth --alloc-windows (1 s every 60 s): whole runs of {w['seconds']:g} s "
          "beside an untraced twin, CPU of the target (median of runs)\n")
    print("| interpreter | loop | untraced, us/request | traced, us/request | cost | windows | "
          "survivors | pages given | drops |\n|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in w["python"]:
        u, t = med(r["whole"], "untraced"), med(r["whole"], "traced")
        last = r["whole"][-1]
        print(f"| {r['python']} | {loop(r)} | {u:.2f} | {t:.2f} | {pct(t, u):+.1f}% | "
              f"{'/'.join(str(x['windows']) for x in r['whole'])} | {last['survivors']} | "
              f"{last['pages_sampled']} of {last['pages_resident']} | "
              f"{last['drops'] or 0} |")
    n = w["malloc"]
    u, t = statistics.median(x[0] for x in n), statistics.median(x[1] for x in n)
    print(f"| native | malloc(64)+free, ns/pair | {u:.1f} | {t:.1f} | {pct(t, u):+.1f}% | "
          f"{'/'.join(str(x[2]) for x in n)} | - | - | - |")
    print(f"\n## Inside a window (one window longer than a run of {w['inside_seconds']:g} s, "
          "beside an untraced twin)\n")
    print("| interpreter | loop | untraced, us/request | in a window, us/request | x | "
          "run in the window | blocks seen per s | drops |\n|---|---|---:|---:|---:|---:|---:|---|")
    for r in w["python"]:
        ins = r["inside"]
        u, i = med(ins, "untraced"), med(ins, "traced")
        blocks = [x["window_lines"][0][5] / x["window_lines"][0][1] for x in ins
                  if x["window_lines"]]
        print(f"| {r['python']} | {loop(r)} | {u:.2f} | {i:.2f} | {i / u:.1f} | "
              f"{100 * med(ins, 'in_window'):.0f}% | "
              f"{statistics.median(blocks) if blocks else 0:.0f} | {ins[-1]['drops'] or 0} |")
    print("\n## Opening and closing a window, as leakbpf sees it (every window of the "
          "whole runs: median (max))\n")
    print("| interpreter | loop | windows | probes attached | detached | last records "
          "read | blocks seen | survivors |\n|---|---|---:|---:|---:|---:|---:|---:|")
    for r in w["python"]:
        lines = [x for run in r["whole"] for x in run["window_lines"]]
        if not lines:
            print(f"| {r['python']} | {loop(r)} | 0 | - | - | - | - | - |")
            continue
        col = (lambda i, f="%.1f": f"{f % statistics.median(x[i] for x in lines)} "
               f"({f % max(x[i] for x in lines)})")
        print(f"| {r['python']} | {loop(r)} | {len(lines)} | {col(2)} ms | {col(3)} ms | "
              f"{col(4)} ms | {col(5, '%.0f')} | {col(6, '%.0f')} |")


def report_syscalls(s):
    print("\n| getppid() in a process not traced | ns per call |\n|---|---:|")
    print(f"| no leakbpf | {s[False][0]:.0f} ({s[False][1]:.0f}..{s[False][2]:.0f}) |")
    print(f"| leakbpf --growth on another process | {s[True][0]:.0f} "
          f"({s[True][1]:.0f}..{s[True][2]:.0f}) |")


if __name__ == "__main__":
    main(sys.argv[1:])
