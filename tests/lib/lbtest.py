"""Shared helpers for the leakbpf test suites.

Everything here drives real processes: ./leakbpf is run for real (as root)
against real target programs, and its JSON report ("leakbpf/v1") is parsed.

Typical use in a test:

    t = start_target([cprog("leak_basic")])      # prints "ready", waits for a byte
    wait_ready(t)
    res, rep = attach(t.pid, ["-o", "0"], duration=3, trigger=lambda: go(t))
    st = stack_with(rep, "leak_malloc")
    assert sum(s["outstanding_bytes"] for s in st) == 3 * 100

The handshake with a target program (tests/c/*.c, tests/demo/*):
  target -> stdout "ready PID"     it started and will not allocate anything
                                   interesting until told to
  tester -> one byte on its stdin  (go(t)) after leakbpf printed
                                   "leakbpf: tracing pid N" on stderr
  target -> stdout "done"          its allocations are finished; it then
                                   sleeps until killed (or exits if asked to)
"""

import json
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LEAKBPF = REPO / "leakbpf"
TESTS = REPO / "tests"
CBUILD = TESTS / "c" / "build"

TRACING_PREFIX = "leakbpf: tracing pid"
# what leakbpf prints once it traces: one process, or every one (--growth -a)
TRACING_PREFIXES = (TRACING_PREFIX, "leakbpf: tracing every process")

# Frames where a process or thread starts: a native stack that reaches one
# is complete.
ROOTS = {"__libc_start_call_main", "__libc_start_main", "_start", "start_thread", "clone3",
         "_dl_start_user", "_dl_start", "_dl_init", "call_init"}

# Processes started through this module; killed by the conftest fixture at the
# end of every test so that a failing test never leaves targets behind.
_started = []
_started_lock = threading.Lock()


def cprog(name):
    """Path (str) of a built test program from tests/c/build/."""
    return str(CBUILD / name)


def _register(p):
    with _started_lock:
        _started.append(p)
    return p


def kill_started():
    """Kill every process started by this module that is still running."""
    with _started_lock:
        procs, _started[:] = list(_started), []
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdin, p.stdout, p.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass


def run_leakbpf(args, timeout=60, input=None, **kw):
    """Run ./leakbpf ARGS to completion; CompletedProcess with text stdout/stderr."""
    if input is None:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([str(LEAKBPF)] + [str(a) for a in args], input=input,
                          capture_output=True, text=True, timeout=timeout, **kw)


def start_target(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 stderr=None, **kw):
    """Start a target program. stdin/stdout are pipes by default (handshake);
    the process is killed automatically at the end of the test."""
    p = subprocess.Popen([str(a) for a in argv], stdin=stdin, stdout=stdout,
                         stderr=stderr, text=True, bufsize=1, **kw)
    return _register(p)


def _readline(proc, timeout):
    """One line of proc's stdout with a timeout: '' at EOF, None on timeout.
    Reads the raw fd (select() and a buffered reader do not mix), keeping any
    bytes after the line for the next call."""
    buf = getattr(proc, "_lb_buf", b"")
    end = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0:
            proc._lb_buf = buf
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            proc._lb_buf = b""
            return buf.decode(errors="replace")
        buf += chunk
    line, buf = buf.split(b"\n", 1)
    proc._lb_buf = buf
    return line.decode(errors="replace") + "\n"


def wait_line(proc, startswith, timeout=30):
    """Read the target's stdout until a line starting with `startswith`.
    Returns every line read (the match last); AssertionError on EOF/timeout.
    All lines read so far are also kept in proc.lb_lines."""
    seen = []
    if not hasattr(proc, "lb_lines"):
        proc.lb_lines = []
    end = time.monotonic() + timeout
    while True:
        line = _readline(proc, max(0.0, end - time.monotonic()))
        if line is None:
            raise AssertionError(f"timeout waiting for {startswith!r} from pid {proc.pid}; "
                                 f"got {seen!r}")
        if line == "":
            raise AssertionError(f"pid {proc.pid} exited (status {proc.poll()}) before "
                                 f"printing {startswith!r}; got {seen!r}")
        seen.append(line)
        proc.lb_lines.append(line)
        if line.startswith(startswith):
            return seen


def wait_ready(proc, timeout=30):
    """Wait for the target's "ready" line (it is set up and idle).
    Never read a target's stdout through proc.stdout yourself: these helpers
    read its fd directly."""
    return wait_line(proc, "ready", timeout)


def wait_done(proc, timeout=60):
    """Wait for the target's "done" line (its allocations are finished)."""
    return wait_line(proc, "done", timeout)


def go(proc, byte="g"):
    """Tell a waiting target to perform its allocations."""
    proc.stdin.write(byte)
    proc.stdin.flush()


def go_and_wait(proc, timeout=60):
    """go() then wait_done(): for use as attach()'s trigger. Returns the
    lines the target printed."""
    go(proc)
    return wait_done(proc, timeout)


def parse_expect(lines):
    """The target's own account of what it did (harness.h protocol):
    ({function: (count, bytes)} for "leak F N B" lines, {functions} for
    "clean F" lines)."""
    leaks, clean = {}, set()
    for line in lines:
        w = line.split()
        if len(w) == 4 and w[0] == "leak" and w[2].isdigit() and w[3].isdigit():
            leaks[w[1]] = (int(w[2]), int(w[3]))
        elif len(w) == 2 and w[0] == "clean":
            clean.add(w[1])
    return leaks, clean


class Traced:
    """Result of trace_target(): the target, leakbpf's CompletedProcess, the
    JSON report, and the target's lines / expectations."""

    def __init__(self, target, result, report, lines):
        self.target = target
        self.result = result
        self.report = report
        self.lines = lines
        self.leaks, self.clean = parse_expect(lines)


def trace_target(argv, extra_args=(), duration=2, after=None):
    """Start a harness program, attach leakbpf, say go once it is tracing,
    wait for the program's "done", let leakbpf finish (-d DURATION).
    `after(target)` runs after "done" (e.g. to make the target exit)."""
    t = start_target(argv)
    wait_ready(t)
    box = {}

    def trigger():
        box["lines"] = go_and_wait(t)
        if after is not None:
            after(t)

    res, rep = attach(t.pid, extra_args, duration, trigger=trigger)
    return Traced(t, res, rep, box.get("lines", []))


class Leakbpf:
    """A running ./leakbpf whose stderr/stdout are collected by threads, so
    that a test can wait for the "tracing pid" line while it runs."""

    def __init__(self, args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, **kw):
        self.args = [str(LEAKBPF)] + [str(a) for a in args]
        self.proc = _register(subprocess.Popen(self.args, stdin=stdin, stdout=stdout,
                                               stderr=subprocess.PIPE, text=True,
                                               bufsize=1, **kw))
        self.pid = self.proc.pid
        self._err = []
        self._out = []
        self._tracing = threading.Event()
        self._threads = [threading.Thread(target=self._pump_err, daemon=True)]
        if self.proc.stdout is not None:
            self._threads.append(threading.Thread(target=self._pump_out, daemon=True))
        for t in self._threads:
            t.start()

    def _pump_err(self):
        for line in self.proc.stderr:
            self._err.append(line)
            if line.startswith(TRACING_PREFIXES):
                self._tracing.set()
        self._tracing.set()  # EOF: wake waiters, they check the flag again

    def _pump_out(self):
        for line in self.proc.stdout:
            self._out.append(line)

    @property
    def stderr(self):
        return "".join(self._err)

    @property
    def stdout(self):
        return "".join(self._out)

    def tracing(self):
        return any(line.startswith(TRACING_PREFIXES) for line in self._err)

    def wait_tracing(self, timeout=60):
        """Block until leakbpf printed "leakbpf: tracing pid N"; AssertionError
        (with leakbpf's stderr) if it exits or times out first."""
        self._tracing.wait(timeout)
        if not self.tracing():
            rc = self.proc.poll()
            raise AssertionError(f"leakbpf never printed {TRACING_PREFIX!r} "
                                 f"(exit status {rc}); args {self.args[1:]}; "
                                 f"stderr:\n{self.stderr}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=120):
        """Wait for exit; returns a CompletedProcess with everything collected."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            for t in self._threads:
                t.join(5)
            raise AssertionError(f"leakbpf {self.args[1:]} did not exit within {timeout}s; "
                                 f"stderr:\n{self.stderr}")
        for t in self._threads:
            t.join(10)
        return subprocess.CompletedProcess(self.args, rc, self.stdout, self.stderr)


def folded_stacks(path):
    """(function names root first, bytes) for each line of a folded file;
    file:line and symbol version suffixes dropped."""
    for line in Path(path).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        yield [re.sub(r" \(.*", "", f).split("@")[0] for f in stack.split(";")], int(n)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def attach(pid, extra_args=(), duration=3, trigger=None, timeout=None, json_path=None):
    """Run `./leakbpf -p PID -d DURATION --json FILE -q EXTRA...`.

    trigger: optional callable run once leakbpf printed "leakbpf: tracing pid"
    (e.g. lambda: go_and_wait(target)). Returns (CompletedProcess, report dict);
    the report is None when leakbpf wrote no JSON."""
    tmp = None
    if json_path is None:
        tmp = tempfile.NamedTemporaryFile(prefix="leakbpf-", suffix=".json", delete=False)
        tmp.close()
        os.unlink(tmp.name)
        json_path = tmp.name
    args = ["-p", str(pid), "-d", str(duration), "--json", json_path, "-q"] + list(extra_args)
    lb = Leakbpf(args)
    try:
        if trigger is not None:
            lb.wait_tracing()
            trigger()
        res = lb.wait(timeout or (float(duration) + 60))
    finally:
        if lb.proc.poll() is None:
            lb.proc.kill()
            lb.proc.wait()
    report = None
    if os.path.exists(json_path):
        try:
            report = load_json(json_path)
        finally:
            if tmp is not None:
                os.unlink(json_path)
    return res, report


def run_command(cmd, extra_args=(), timeout=120, json_path=None):
    """Run `./leakbpf -q --json FILE EXTRA -c CMD`; (CompletedProcess, report)."""
    tmp = None
    if json_path is None:
        fd, json_path = tempfile.mkstemp(prefix="leakbpf-", suffix=".json")
        os.close(fd)
        os.unlink(json_path)
        tmp = json_path
    res = run_leakbpf(["-q", "--json", json_path] + list(extra_args) + ["-c", cmd],
                      timeout=timeout)
    report = None
    if os.path.exists(json_path):
        report = load_json(json_path)
        if tmp:
            os.unlink(tmp)
    return res, report


def _fn_matches(function, name):
    if not function:
        return False
    if function == name:
        return True
    # C++ demangled names: "leak_new()" / "ns::leak_new(int)" match "leak_new"
    base = function.split("(", 1)[0]
    return base == name or base.endswith("::" + name)


def frame_names(stack):
    return [f.get("function") for f in stack.get("frames", [])]


def stack_with(report, function_name, outstanding_only=True):
    """Stacks of the report whose frames contain function `function_name`.
    By default only stacks with outstanding bytes."""
    out = []
    for s in report.get("stacks", []):
        if outstanding_only and not s.get("outstanding_count"):
            continue
        if any(_fn_matches(f.get("function"), function_name) for f in s.get("frames", [])):
            out.append(s)
    return out


def outstanding(report, function_name):
    """(bytes, count) outstanding over all stacks that contain function_name."""
    st = stack_with(report, function_name)
    return (sum(s["outstanding_bytes"] for s in st), sum(s["outstanding_count"] for s in st))


def describe(report, limit=15):
    """Short human summary of a report, for assertion messages."""
    if report is None:
        return "<no JSON report>"
    lines = [f"counts={report.get('counts')} drops={report.get('drops')}"]
    for s in report.get("stacks", [])[:limit]:
        names = [n for n in frame_names(s) if n]
        lines.append(f"  {s.get('outstanding_bytes')}B/{s.get('outstanding_count')} "
                     f"alloc {s.get('allocated_bytes')}B/{s.get('allocated_count')}: "
                     f"{';'.join(names[-6:])}")
    return "\n".join(lines)


def bpf_ids_held_by(pid):
    """(prog ids, link ids) of the BPF programs and links process `pid` holds
    open, from /proc/PID/fdinfo (Debian's bpftool cannot show owner pids)."""
    progs, links = set(), set()
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            target = os.readlink(f"{fddir}/{fd}")
            if target not in ("anon_inode:bpf-prog", "anon_inode:bpf_link"):
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if target == "anon_inode:bpf_link" and "link_id" in info:
            links.add(int(info["link_id"]))
        if "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return progs, links


def loaded_bpf_ids():
    """(prog ids, link ids) loaded in the kernel right now, from bpftool."""
    def ids(kind):
        r = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                           check=True)
        return {o["id"] for o in json.loads(r.stdout or "[]")}
    return ids("prog"), ids("link")


def proc_status(pid, field):
    """A /proc/PID/status field in kB (VmRSS, VmHWM...), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def terminate(proc, sig=signal.SIGTERM, timeout=10):
    """Signal a Popen and wait for it; kill it if it does not exit."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
