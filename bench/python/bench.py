"""Benchmark: cost of finding Python leaks, on an allocation-heavy request loop.

Runs reqloop.py under one interpreter in each configuration, one fresh
process per measurement:
  untraced       nothing attached
  tracemalloc-1  tracemalloc.start(1) in-process
  tracemalloc-25 tracemalloc.start(25) in-process
  leakbpf        ./leakbpf -p PID -q attached from outside (full Python stacks,
                 the default --py-alloc objects probe set)
  leakbpf-all    the same with --py-alloc all (every pymalloc block; builds
                 whose pymalloc is not inlined only)
  leakbpf-nopy   ./leakbpf -p PID -q --no-python (native malloc probes only)
and prints requests/s and the slowdown against untraced, both by wall clock
and per CPU second of the target (the target's user+sys time, which includes
the uprobe traps and BPF programs run on its behalf; the per-CPU figure is
the one to trust on a busy machine). For the leakbpf runs it also prints the
events seen (from the final JSON report), leakbpf's own CPU time, and, with
--bpf-stats, the time spent inside the BPF programs (run-time statistics are
enabled through bpf(BPF_ENABLE_STATS), which holds them on only while this
process keeps the returned fd: the kernel.bpf_stats_enabled sysctl is not
touched): what is left of the slowdown is the uprobe/uretprobe trap cost.

Usage: bench.py --python PY [--leakbpf PATH] [--seconds S] [--repeat N]
                [--bpf-stats] [--json OUT] [--modes m1,m2,...]
This is a benchmark, not a test: it asserts nothing about speed.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQLOOP = HERE / "reqloop.py"
MODES = ["untraced", "tracemalloc-1", "tracemalloc-25", "leakbpf", "leakbpf-all",
         "leakbpf-nopy"]
INPROCESS = {"untraced": "plain", "tracemalloc-1": "tm1", "tracemalloc-25": "tm25"}
LEAKBPF_ARGS = {"leakbpf": [], "leakbpf-all": ["--py-alloc", "all"],
                "leakbpf-nopy": ["--no-python"]}
BPF_ENABLE_STATS = 32  # bpf(2) command
BPF_STATS_RUN_TIME = 0
NR_BPF = {"x86_64": 321, "aarch64": 280}


def run_inprocess(py, mode, seconds):
    r = subprocess.run([py, str(REQLOOP), "--mode", INPROCESS[mode], "--seconds", str(seconds)],
                       capture_output=True, text=True, timeout=seconds + 120)
    if r.returncode != 0:
        raise RuntimeError(f"{py} reqloop {mode}: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def bpf_prog_ids(pid):
    """Ids of the BPF programs a process holds (prog and link fds name them
    in /proc/PID/fdinfo; bpftool's pid column is not always available)."""
    ids = set()
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def bpf_prog_stats(pid):
    """{prog id: (name, run_time_ns, run_cnt)} of the BPF programs held by pid."""
    ids = bpf_prog_ids(pid)
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    out = {}
    for p in json.loads(r.stdout or "[]"):
        if p["id"] in ids:
            out[p["id"]] = (p.get("name"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
    return out


def cpu_of(pid):
    """user+sys seconds of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


class Unavailable(Exception):
    """A mode this build cannot run (--py-alloc all where pymalloc is inlined)."""


def run_leakbpf(py, mode, seconds, leakbpf, bpf_stats):
    target = subprocess.Popen([py, str(REQLOOP), "--mode", "wait", "--seconds", str(seconds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              bufsize=1)
    lb = None
    report_path = tempfile.mktemp(prefix="leakbpf-bench-", suffix=".json")
    try:
        line = target.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"reqloop did not start: {line!r}")
        lb = subprocess.Popen([leakbpf, "-p", str(target.pid), "-q", "--json", report_path]
                              + LEAKBPF_ARGS[mode],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        err = []
        tracing = threading.Event()

        def pump():
            for ln in lb.stderr:
                err.append(ln)
                if ln.startswith("leakbpf: tracing pid"):
                    tracing.set()
            tracing.set()

        threading.Thread(target=pump, daemon=True).start()
        t_attach = time.monotonic()
        tracing.wait(120)
        if lb.poll() is not None or not any(x.startswith("leakbpf: tracing") for x in err):
            if any("--py-alloc all: pymalloc is inlined" in x for x in err):
                raise Unavailable("".join(err).strip())
            raise RuntimeError(f"leakbpf did not attach: {''.join(err)[-2000:]}")
        attach_s = time.monotonic() - t_attach
        stats0 = bpf_prog_stats(lb.pid) if bpf_stats else {}
        lb_cpu0 = cpu_of(lb.pid)
        target.stdin.write("go\n")
        target.stdin.flush()
        result = json.loads(target.stdout.readline())
        lb_cpu1 = cpu_of(lb.pid)
        stats1 = bpf_prog_stats(lb.pid) if bpf_stats else {}
        lb.send_signal(signal.SIGINT)
        t_stop = time.monotonic()
        try:
            lb.wait(120)
        except subprocess.TimeoutExpired:
            lb.kill()
            lb.wait()
        result["leakbpf_attach_s"] = round(attach_s, 2)
        result["leakbpf_final_report_s"] = round(time.monotonic() - t_stop, 2)
        result["leakbpf_cpu_seconds"] = round(lb_cpu1 - lb_cpu0, 3)
        result["leakbpf_exit"] = lb.returncode
        if os.path.exists(report_path):
            with open(report_path) as f:
                rep = json.load(f)
            result["events"] = rep.get("counts")
            result["drops"] = rep.get("drops")
            result["python_detected"] = rep.get("python")
            result["probes"] = rep.get("probes")
        if bpf_stats:
            progs = {}
            for pid_, (name, ns1, cnt1) in stats1.items():
                _, ns0, cnt0 = stats0.get(pid_, (name, 0, 0))
                if cnt1 - cnt0:
                    progs[name] = (progs.get(name, (0, 0))[0] + ns1 - ns0,
                                   progs.get(name, (0, 0))[1] + cnt1 - cnt0)
            result["bpf_progs"] = {k: {"run_ns": v[0], "runs": v[1],
                                       "ns_per_run": round(v[0] / v[1]) if v[1] else None}
                                   for k, v in sorted(progs.items(), key=lambda kv: -kv[1][0])}
            result["bpf_run_seconds"] = round(sum(v[0] for v in progs.values()) / 1e9, 3)
            result["bpf_runs"] = sum(v[1] for v in progs.values())
        return result
    finally:
        if lb is not None and lb.poll() is None:
            lb.kill()
            lb.wait()
        if target.poll() is None:
            try:
                target.stdin.write("bye\n")
                target.stdin.flush()
            except OSError:
                pass
            try:
                target.wait(5)
            except subprocess.TimeoutExpired:
                target.kill()
                target.wait()
        if os.path.exists(report_path):
            os.unlink(report_path)


def enable_bpf_stats():
    """fd that keeps BPF run-time statistics on while it is open."""
    import ctypes

    nr = NR_BPF.get(os.uname().machine)
    if nr is None:
        sys.exit("--bpf-stats: unknown bpf(2) syscall number on this machine")
    attr = (ctypes.c_uint32 * 32)()
    attr[0] = BPF_STATS_RUN_TIME
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(nr, BPF_ENABLE_STATS, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        sys.exit(f"--bpf-stats: bpf(BPF_ENABLE_STATS): {os.strerror(ctypes.get_errno())}")
    return fd


def median_run(runs):
    """The run with the median per-CPU-second rate."""
    runs = sorted(runs, key=lambda r: r["requests"] / max(r["cpu_seconds"], 1e-9))
    return runs[len(runs) // 2]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True)
    ap.add_argument("--leakbpf", default=str(REPO / "leakbpf"))
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--bpf-stats", action="store_true")
    ap.add_argument("--json", help="write all results here")
    a = ap.parse_args(argv)
    modes = [m for m in a.modes.split(",") if m]
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode {m}; known: {', '.join(MODES)}")
    needs_root = any(m.startswith("leakbpf") for m in modes)
    if needs_root and os.geteuid() != 0:
        sys.exit("leakbpf modes need root (BPF)")
    stats_fd = enable_bpf_stats() if a.bpf_stats else None
    results = {}
    try:
        for m in modes:
            runs = []
            try:
                for _ in range(a.repeat):
                    if m in INPROCESS:
                        runs.append(run_inprocess(a.python, m, a.seconds))
                    else:
                        runs.append(run_leakbpf(a.python, m, a.seconds, a.leakbpf,
                                                a.bpf_stats))
            except Unavailable as e:
                print(f"# {m}: not available: {e}", file=sys.stderr, flush=True)
                continue
            results[m] = {"runs": runs, "median": median_run(runs)}
            r = results[m]["median"]
            print(f"# {m}: {r['rps']} req/s wall, "
                  f"{r['requests'] / max(r['cpu_seconds'], 1e-9):.0f} req/CPU-s",
                  file=sys.stderr, flush=True)
    finally:
        if stats_fd is not None:
            os.close(stats_fd)
    print_table(a.python, results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"python": a.python, "results": results}, f, indent=1)


def print_table(py, results):
    base = results.get("untraced", {}).get("median")
    pyver = (base or next(iter(results.values()))["median"]).get("python")
    print(f"\n{py} (CPython {pyver})")
    print(f"  {'mode':<15} {'req/s':>9} {'slowdown':>8} {'req/CPU-s':>10} {'slowdown':>8}")
    for m, res in results.items():
        r = res["median"]
        rc = r["requests"] / max(r["cpu_seconds"], 1e-9)
        sw = f"{base['rps'] / r['rps']:.1f}x" if base else "-"
        bc = base["requests"] / max(base["cpu_seconds"], 1e-9) if base else None
        sc = f"{bc / rc:.1f}x" if base else "-"
        print(f"  {m:<15} {r['rps']:>9.0f} {sw:>8} {rc:>10.0f} {sc:>8}")
    for m, res in results.items():
        r = res["median"]
        if "events" not in r and "leakbpf_cpu_seconds" not in r:
            continue
        ev = r.get("events") or {}
        n_ev = (ev.get("allocs") or 0) + (ev.get("frees") or 0)
        line = (f"  {m}: attach {r.get('leakbpf_attach_s')}s, leakbpf CPU "
                f"{r.get('leakbpf_cpu_seconds')}s over {r['seconds']}s, "
                f"events {n_ev} ({ev.get('allocs')} allocs, {ev.get('frees')} frees)")
        if n_ev:
            line += f", {n_ev / max(r['requests'], 1):.0f} events/request"
        if base and n_ev:
            # extra target CPU per event, against the untraced rate
            bc = base["cpu_seconds"] / base["requests"]
            extra = r["cpu_seconds"] - r["requests"] * bc
            line += f", target +{1e6 * extra / n_ev:.2f} us CPU/event"
        print(line)
        if r.get("bpf_progs") is not None:
            print(f"    BPF programs: {r['bpf_run_seconds']}s in {r['bpf_runs']} runs "
                  f"({r['bpf_run_seconds'] / max(r['cpu_seconds'], 1e-9):.0%} of target CPU)")
            for name, s in list(r["bpf_progs"].items())[:8]:
                print(f"      {name:<24} {s['runs']:>10} runs {s['ns_per_run']:>7} ns/run")
        if r.get("drops"):
            d = {k: v for k, v in r["drops"].items() if v}
            if d:
                print(f"    drops: {d}")


if __name__ == "__main__":
    main(sys.argv[1:])
