"""Worker processes (issue 10, item 14): --children traces the process tree
under -p (or -c), children present at attach and forked later, each with
its own accounting under a root frame "process PID (COMM)"; -p A,B;
--max-procs; the growth mode; bad input."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from lbtest import (ROOTS, TESTS, Leakbpf, cprog, folded_stacks, go, load_json, run_leakbpf,
                    start_target, wait_line, wait_ready)

SERVER = TESTS / "py" / "prefork_server.py"
# tests/py/prefork_server.py's numbers
REQUESTS, EARLY_SIZE, LATE_SIZE = 20, 10000, 24000


def root_of(stack):
    return stack["frames"][0]["function"]


def stacks_at(report, pid, line_marker, path):
    """Outstanding bytes of the stacks under process pid whose Python frames
    include the line of `path` holding `line_marker`."""
    lines = open(path).read().splitlines()
    line = next(i + 1 for i, text in enumerate(lines) if line_marker in text)
    total = 0
    for st in report["stacks"]:
        if not root_of(st).startswith(f"process {pid} ("):
            continue
        if any(f.get("line") == line and f.get("file", "").endswith(path.name)
               for f in st["frames"]):
            total += st["outstanding_bytes"]
    return total


def every_root_is_a_process(report):
    for st in report["stacks"]:
        assert root_of(st).startswith("process "), st["frames"][0]


def run_prefork(py, options):
    """The pre-fork server under `-p MASTER --children` and options for 6 s:
    every worker present at attach traced before it goes on, one more forked
    after attach, requests served until "done". Returns (target, result,
    master, workers at attach, the late worker, the done line's counts)."""
    t = start_target([py, SERVER])
    ready = wait_ready(t)[-1].split()
    master, workers = int(ready[1]), [int(p) for p in ready[2:]]
    lb = Leakbpf(["-p", master, "--children", "-d", "6"] + options)
    lb.wait_tracing()
    deadline = time.monotonic() + 20
    while not all(f"tracing pid {w} " in lb.stderr for w in workers):
        assert time.monotonic() < deadline, lb.stderr
        time.sleep(0.1)
    go(t, "f")
    late = int(wait_line(t, "forked")[-1].split()[1])
    go(t, "g")
    held = dict(kv.split(":") for kv in wait_line(t, "done")[-1].split()[1:])
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    return t, res, master, workers, late, held


def test_prefork_python_server(tmp_path):
    """The master's pid is what an engineer has: the worker that leaks and
    the one forked after attach are found under their own roots, with the
    bytes the workers themselves count."""
    out = tmp_path / "r.json"
    folded = tmp_path / "r.folded"
    t, res, master, workers, late, held = run_prefork(
        sys.executable, ["-q", "--json", out, "--folded", folded])
    assert f"tracing pid {late} (python3), child of {master}" in res.stderr
    rep = load_json(out)
    every_root_is_a_process(rep)
    procs = {p["pid"]: p for p in rep["processes"]}
    assert set(procs) == {master, *workers, late}
    assert procs[late]["parent"] == master and procs[master]["parent"] == 0
    early = stacks_at(rep, workers[1], "# LEAK_EARLY", SERVER)
    late_bytes = stacks_at(rep, late, "# LEAK_LATE", SERVER)
    # each leaked bytearray is a buffer of SIZE + 1 bytes (malloc, seen)
    # and a small object header (pymalloc, not seen by --py-alloc objects)
    assert early == REQUESTS * (EARLY_SIZE + 1), early
    assert late_bytes == REQUESTS * (LATE_SIZE + 1), late_bytes
    for pid, size in ((workers[1], early), (late, late_bytes)):
        counted = int(held[str(pid)])
        assert counted - REQUESTS * 64 <= size <= counted, (size, counted)
    # the leaking lines are nowhere else
    for pid in (master, workers[0], workers[2]):
        assert stacks_at(rep, pid, "# LEAK_EARLY", SERVER) == 0
        assert stacks_at(rep, pid, "# LEAK_LATE", SERVER) == 0
    # folded lines start with the root frame as well
    for line in folded.read_text().splitlines():
        assert line.startswith("process "), line
    go(t, "q")


def test_workers_share_unwind_tables(tmp_path):
    """Debian's python3.11 (no frame pointers) as a pre-fork server: the
    unwind table of each library is built once for the master and all its
    workers (those at attach and one forked later), and every worker's
    outstanding bytes still have complete native stacks."""
    py = "/usr/bin/python3.11"
    if not shutil.which(py):
        pytest.fail(f"{py} is not installed: scripts/deps.sh installs it")
    folded = tmp_path / "r.folded"
    t, res, master, workers, late, _ = run_prefork(
        py, ["--no-python", "-v", "--folded", folded])
    assert f"tracing pid {late} " in res.stderr
    built = {}
    for path in re.findall(r"^leakbpf: unwind table for (.*): \d+ rows", res.stderr, re.M):
        built[path] = built.get(path, 0) + 1
    assert any("libc.so" in p for p in built) and py in built, res.stderr
    assert all(n == 1 for n in built.values()), built
    total, rooted, unrooted = {}, {}, {}
    for frames, n in folded_stacks(folded):
        pid = int(frames[0].split()[1])
        total[pid] = total.get(pid, 0) + n
        if ROOTS & set(frames):
            rooted[pid] = rooted.get(pid, 0) + n
        else:
            unrooted.setdefault(pid, []).append(";".join(frames))
    # the leaking workers' buffers at least
    assert total.get(workers[1], 0) >= REQUESTS * EARLY_SIZE, total
    assert total.get(late, 0) >= REQUESTS * LATE_SIZE, total
    for pid in (*workers, late):
        assert rooted.get(pid, 0) == total.get(pid, 0), unrooted.get(pid, [])[:5]


def test_native_children_exact(tmp_path):
    """A C parent forks three children after attach: each child's bytes,
    exact, under its own root; they exited and their reports stay."""
    t = start_target([cprog("fork_leak")])
    wait_ready(t)
    out = tmp_path / "r.json"
    lb = Leakbpf(["-p", t.pid, "--children", "-q", "-d", "4", "--json", out])
    lb.wait_tracing()
    go(t)
    said = {}
    for line in wait_line(t, "done"):
        if line.startswith("child "):
            _, pid, nbytes = line.split()
            said[int(pid)] = int(nbytes)
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    every_root_is_a_process(rep)
    assert len(said) == 3
    procs = {p["pid"]: p for p in rep["processes"]}
    for pid, nbytes in said.items():
        assert procs[pid]["exited"] and procs[pid]["parent"] == t.pid
        got = sum(st["outstanding_bytes"] for st in rep["stacks"]
                  if root_of(st).startswith(f"process {pid} (")
                  and any(f.get("function") == "child_leak" for f in st["frames"]))
        assert got == nbytes, (pid, got, nbytes)
    assert rep["drops"]["children_unheld"] == 0


# A Python program that leaks at once and exits with os._exit (no
# finalization: the buffer stays); its leaking line is LEAK_LINE.
EXEC_SIZE, LEAK_LINE = 400000, 2
LEAK_AT_START = ("import os\n"
                 f"k = bytearray({EXEC_SIZE})\n"
                 "print('pyleak', os.getpid(), flush=True)\n"
                 "os._exit(0)\n")


def test_command_children_and_exec(tmp_path):
    """-c with --children: the command's children are traced, and a child
    that executes a Python program is followed into it, held at its exec
    until the new program is traced: what the program allocates at once,
    before it exits, is there to the byte, under its own root."""
    out = tmp_path / "r.json"
    lb = Leakbpf(["--children", "-q", "--output-stacks", "0", "--json", out, "--",
                  cprog("fork_leak"), "--now", sys.executable, "-c", LEAK_AT_START])
    res = lb.wait(90)
    assert res.returncode == 0, res.stderr
    pid = int(next(line.split()[1] for line in res.stdout.splitlines()
                   if line.startswith("pyleak ")))
    assert f"pid {pid} executed " in res.stderr
    rep = load_json(out)
    every_root_is_a_process(rep)
    assert len(rep["processes"]) == 5
    assert rep["drops"]["children_unheld"] == 0
    kids = sum(st["outstanding_bytes"] for st in rep["stacks"]
               if any(f.get("function") == "child_leak" for f in st["frames"]))
    assert kids == 5 * 1000 * (1 + 2 + 3)
    # the buffer (SIZE + 1 bytes, malloc), named by its line
    pyb = sum(st["outstanding_bytes"] for st in rep["stacks"]
              if root_of(st).startswith(f"process {pid} (python")
              and any(f.get("kind") == "python" and f.get("line") == LEAK_LINE
                      for f in st["frames"]))
    assert pyb == EXEC_SIZE + 1, describe_roots(rep)


def proc_state(pid):
    """The state letter of /proc/PID/stat, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def test_short_spawned_children(tmp_path):
    """A traced Python worker runs short commands through subprocess (vfork:
    reported and held at their exec, not at their fork): each is traced and
    ends with its status, its parent goes on, and nothing stays stopped."""
    prog = ("import subprocess, sys\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            "codes = [subprocess.run(['true']).returncode for _ in range(2)]\n"
            "codes.append(subprocess.run(['sh', '-c', 'exit 3']).returncode)\n"
            "print('done', *codes, flush=True)\n"
            "sys.stdin.readline()\n")
    t = start_target([sys.executable, "-c", prog])
    wait_ready(t)
    out = tmp_path / "r.json"
    lb = Leakbpf(["-p", t.pid, "--children", "-q", "--json", out])
    lb.wait_tracing()
    go(t, "g\n")
    assert wait_line(t, "done")[-1].split()[1:] == ["0", "0", "3"]
    lb.signal(signal.SIGINT)
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    kids = [p for p in rep["processes"] if p["pid"] != t.pid]
    assert sorted(p["comm"] for p in kids) == ["sh", "true", "true"], rep["processes"]
    assert all(p["parent"] == t.pid and p["exited"] for p in kids)
    assert rep["drops"]["children_unheld"] == 0
    for pid in [t.pid] + [p["pid"] for p in kids]:
        assert proc_state(pid) in (None, "S", "R"), (pid, proc_state(pid))
    go(t, "q\n")
    assert t.wait(10) == 0


def describe_roots(rep):
    return [(root_of(s), s["outstanding_bytes"]) for s in rep["stacks"][:10]]


def test_per_process_tables():
    """--per-process: one table per process, each child's own leak in its
    own section (the merged table is the default)."""
    res = run_leakbpf(["--per-process", "--children", "-q", "-T", "3", "--",
                       cprog("fork_leak"), "--now"], timeout=90)
    assert res.returncode == 0, res.stderr
    said = [line.split()[1] for line in res.stdout.splitlines() if line.startswith("child ")]
    assert len(said) == 3, res.stdout
    sections = re.split(r"^\[[0-9:]+\] leakbpf: ", res.stderr, flags=re.M)[1:]
    by_pid = {sec.split()[1]: sec for sec in sections if sec.startswith("pid ")}
    assert len(by_pid) == 4, res.stderr  # the parent and its three children
    for pid in said:
        sec = by_pid[pid]
        assert re.search(r"^outstanding: .* in 5 blocks", sec, re.M), sec
        assert "child_leak (c/fork_leak.c:" in sec, sec
    parent = next(line.split()[1] for line in res.stdout.splitlines()
                  if line.startswith("ready "))
    assert "child_leak" not in by_pid[parent], by_pid[parent]


def _children_of(parent):
    """(pid, comm, state letter) of each child of parent right now."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                comm, _, rest = f.read().partition(" (")[2].rpartition(") ")
        except OSError:
            continue
        fields = rest.split()
        if fields[1] == str(parent):
            kids.append((int(entry), comm, fields[0]))
    return kids


def _held_children(parent):
    """Children of parent stopped (state T) right now."""
    return [pid for pid, _, state in _children_of(parent) if state == "T"]


def test_held_children_continue_when_leakbpf_is_killed():
    """SIGKILL of leakbpf while a new child is held at its fork: the
    guardian continues it, and every child runs to its end."""
    t = start_target([cprog("fork_leak")])
    wait_ready(t)
    lb = Leakbpf(["-p", t.pid, "--children", "-q", "-d", "60"])
    lb.wait_tracing()
    go(t)
    deadline = time.monotonic() + 10
    while not _held_children(t.pid):
        assert time.monotonic() < deadline, "no child was ever held"
        time.sleep(0.005)
    lb.proc.kill()
    lb.proc.wait()
    # the parent waits for every child: "done" means none stayed stopped
    wait_line(t, "done", timeout=30)
    assert not _held_children(t.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1], ids=["TERM", "USR1"])
def test_held_workers_continue_when_leakbpf_and_guardian_are_signalled(sig):
    """`pkill leakbpf` signals the guardian as well (its name and command
    line match): SIGTERM, which leakbpf handles, and SIGUSR1, which ends it
    at once, sent to both while a worker of the pre-fork server is held at
    its fork. The guardian outlives the signal and ends with leakbpf, and
    every worker serves its requests and quits."""
    t = start_target([sys.executable, SERVER])
    ready = wait_ready(t)[-1].split()
    master, workers = int(ready[1]), [int(p) for p in ready[2:]]
    lb = Leakbpf(["-p", master, "--children", "-d", "60"])
    try:
        lb.wait_tracing()
        deadline = time.monotonic() + 20
        while not all(f"tracing pid {w} " in lb.stderr for w in workers):
            assert time.monotonic() < deadline, lb.stderr
            time.sleep(0.1)
        guards = [pid for pid, comm, _ in _children_of(lb.pid) if comm == "leakbpf-guard"]
        assert len(guards) == 1, _children_of(lb.pid)
        go(t, "f")
        deadline = time.monotonic() + 10
        while not _held_children(master):
            assert time.monotonic() < deadline, "no worker was ever held"
            time.sleep(0.005)
        for pid in (lb.pid, guards[0]):  # as pkill does: both at once
            os.kill(pid, sig)
        lb.proc.wait(60)
        deadline = time.monotonic() + 30
        while proc_state(guards[0]) not in (None, "Z"):
            assert time.monotonic() < deadline, "the guardian outlived leakbpf"
            time.sleep(0.05)
        late = int(wait_line(t, "forked")[-1].split()[1])
        go(t, "g")  # every worker, the held one too, serves its requests
        held = dict(kv.split(":") for kv in wait_line(t, "done")[-1].split()[1:])
        assert str(late) in held, held
        go(t, "q")
        assert t.wait(30) == 0
        assert not _held_children(master)
    finally:
        for pid in _held_children(master):  # never leave one stopped
            os.kill(pid, signal.SIGCONT)


def test_several_pids(tmp_path):
    """-p A,B: both traced, each under its root."""
    a = start_target([cprog("leak_basic")])
    b = start_target([cprog("leak_basic")])
    wait_ready(a)
    wait_ready(b)
    out = tmp_path / "r.json"
    lb = Leakbpf(["-p", f"{a.pid},{b.pid}", "-q", "-d", "3", "--json", out])
    lb.wait_tracing()
    deadline = time.monotonic() + 20
    while f"tracing pid {b.pid} " not in lb.stderr:
        assert time.monotonic() < deadline, lb.stderr
        time.sleep(0.1)
    go(a)
    go(b)
    wait_line(a, "done")
    wait_line(b, "done")
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    every_root_is_a_process(rep)
    per = {}
    for st in rep["stacks"]:
        per[root_of(st).split()[1]] = per.get(root_of(st).split()[1], 0) + st["outstanding_bytes"]
    assert per.get(str(a.pid)) and per.get(str(a.pid)) == per.get(str(b.pid)), per


def trace_fork_leak(tmp_path, options):
    """fork_leak traced with -p PID --children and options for 3 s, from
    before its forks to after they all ended: the JSON report."""
    t = start_target([cprog("fork_leak")])
    wait_ready(t)
    out = tmp_path / "r.json"
    lb = Leakbpf(options + ["-p", t.pid, "--children", "-q", "-d", "3", "--json", out])
    lb.wait_tracing()
    go(t)
    wait_line(t, "done")
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    return load_json(out)


def test_max_procs_counted(tmp_path):
    """Children past --max-procs are not traced, and the report says so."""
    rep = trace_fork_leak(tmp_path, ["--max-procs", "2"])
    # the parent and one child at a time: the others exited or were refused
    assert rep["drops"]["procs_untraced"] + rep["drops"]["procs_forgotten"] >= 1
    assert len(rep["processes"]) <= 2


@pytest.mark.parametrize("windows", [False, True], ids=["", "windows"])
def test_growth_children(tmp_path, windows):
    """--growth --children: the parent and its three children, each under
    its root. With allocation windows (each process would have its own),
    none opens: no process grows the 16 pages that open one (the children
    leak 5 blocks of a few KiB each), and none failed."""
    extra = ["--alloc-windows=500ms/60s"] if windows else []
    rep = trace_fork_leak(tmp_path, ["--growth"] + extra)
    every_root_is_a_process(rep)
    assert len(rep["processes"]) == 4
    g = rep["growth"]
    assert g["window_s"] == (0.5 if windows else 0), g
    assert g["windows"] == 0 and rep["probes"] == [] and rep["drops"]["windows_failed"] == 0


def test_bad_inputs():
    for args, words in ((["-p", "1,1"], "twice"), (["-p", "12,abc"], "not a process id"),
                        (["-p", "1,"], "not a process id"),
                        (["-p", ",".join(str(i) for i in range(1, 70))], "more than"),
                        (["-p", "1,2,3", "--max-procs", "2"], "--max-procs"),
                        (["--max-procs", "0", "-p", "1"], "--max-procs"),
                        (["--growth", "-a", "--children"], "--children")):
        res = run_leakbpf(args)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stderr.count("\n") == 1 and words in res.stderr, (args, res.stderr)
    # the census is not a tracing mode: one process (its usage error adds
    # the usual "Try --help" line)
    for args in (["objects", "-p", "1,2"], ["objects", "--children", "-p", "1"]):
        res = run_leakbpf(args)
        assert res.returncode == 2 and "reads one process" in res.stderr.splitlines()[0], \
            res.stderr
