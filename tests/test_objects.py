"""`leakbpf objects`: censuses of real CPython heaps, read from outside.

Every scenario is a real program (tests/objects/census_target.py) under a
real interpreter: Debian's /usr/bin/python3.11 and the pyenv builds 3.8-3.13
on the machine. The program appends what it knows of its own heap to a
truth file after every step (len(_REGISTRY), how many cycles it dropped...);
the census's numbers are checked against the truth lines around the
census's own window (its start time and duration from the JSON), since the
program keeps running while it is read.

The object layouts are checked against each interpreter itself: offsetof()
from its installed headers (census_headers.c), and, for the structs no
header installs, ctypes reads of its own objects (census_selfcheck.py).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lbtest
from lbtest import LEAKBPF, REPO
from test_python_core import OLD_PY, SUPPORTED_PY, params

OBJDIR = REPO / "tests" / "objects"
TARGET = OBJDIR / "census_target.py"

DEBIAN = [p for p in SUPPORTED_PY if p[0] == "debian-3.11"]
NEWEST = sorted((p for p in SUPPORTED_PY if p[0].startswith("pyenv-")), key=lambda p: p[2])[-1:]
# the full list of scenarios runs on Debian's static build and the newest
# pyenv build; the ones that exercise the per-version layouts run on all
MAIN_PY = DEBIAN + NEWEST


# --- helpers ---


class Run:
    """A scenario and the censuses leakbpf took of it."""

    def __init__(self, target, truthfile, result, report):
        self.target = target
        self.truthfile = truthfile
        self.result = result
        self.report = report

    def truth(self):
        rows = []
        for line in Path(self.truthfile).read_text().splitlines():
            t, *kv = line.split()
            rows.append((float(t), {k: int(v) for k, v in (x.split("=") for x in kv)}))
        return rows

    def window(self, key, i=-1):
        """(low, high): the values of `key` the program logged around census
        i: from the last line before the census started to the first line
        after it ended (every value in between included)."""
        c = self.report["censuses"][i]
        t0, t1 = c["time"], c["time"] + c["duration_s"]
        rows = self.truth()
        before = [r for r in rows if r[0] <= t0]
        after = [r for r in rows if r[0] >= t1]
        lo_t = before[-1][0] if before else rows[0][0]
        hi_t = after[0][0] if after else rows[-1][0]
        vals = [r[1][key] for r in rows if lo_t <= r[0] <= hi_t]
        assert vals, f"no truth line around census {i}"
        return min(vals), max(vals)

    def type_row(self, name):
        rows = [t for t in self.report["types"] if t["type"] == name]
        assert rows, f"no type {name} in " + ", ".join(t["type"] for t in self.report["types"][:30])
        return rows[0]

    def holder(self, path):
        hs = [h for h in self.report["holders"] if h["path"] == path]
        assert hs, f"no holder {path}: " + json.dumps(self.report["holders"], indent=1)[:3000]
        return hs[0]


def start(exe, scenario, tmp_path, step=0.25):
    truthfile = tmp_path / f"truth.{scenario}"
    t = lbtest.start_target([exe, TARGET, scenario, truthfile, step])
    lbtest.wait_ready(t)
    return t, truthfile


def census(exe, scenario, tmp_path, interval=1, count=2, extra=(), step=0.25, timeout=120):
    """Start the scenario, take 1 + count censuses, return the Run."""
    t, truthfile = start(exe, scenario, tmp_path, step)
    out = tmp_path / f"{scenario}.json"
    res = lbtest.run_leakbpf(["objects", "-p", t.pid, interval, count, "-T", "40", "--json", out]
                             + list(extra), timeout=timeout)
    assert res.returncode == 0, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    assert t.poll() is None, "the target died"
    rep = json.loads(out.read_text())
    assert rep["schema"] == "leakbpf/objects/v1"
    assert len(rep["censuses"]) == count + 1
    return Run(t, truthfile, res, rep)


def between(value, lo_hi, what):
    lo, hi = lo_hi
    assert lo <= value <= hi, f"{what}: {value} not in [{lo}, {hi}]"


# --- layouts, against each interpreter ---


@pytest.fixture(scope="module")
def census_table(tmp_path_factory):
    d = tmp_path_factory.mktemp("census_table")
    subprocess.run([os.environ.get("CC", "cc"), "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-Iuser", "-Ibpf", "-o", str(d / "census_table"),
                    "tests/objects/census_table.c", "user/python/census_layout.c"],
                   cwd=REPO, check=True)
    return d / "census_table"


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_layout_matches_headers(exe, version, census_table, tmp_path):
    """Every census offset equals offsetof() in that version's own headers."""
    inc = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if not Path(inc, "internal").is_dir():
        pytest.fail(f"{exe}: internal headers missing in {inc} (install the -dev package)")
    prog = tmp_path / "census_headers"
    subprocess.run([os.environ.get("CC", "cc"), "-w", f"-I{inc}", f"-I{inc}/internal", "-o",
                    str(prog), str(OBJDIR / "census_headers.c")], check=True)
    want = dict(line.split() for line in
                subprocess.run([prog], capture_output=True, text=True, check=True).stdout.split("\n")
                if line)
    got = dict(line.split() for line in
               subprocess.run([census_table, str(version[1])], capture_output=True, text=True,
                              check=True).stdout.split("\n") if line)
    assert len(want) > 60
    diff = {k: (v, got.get(k)) for k, v in want.items() if v != "-" and got.get(k) != v}
    assert not diff, f"(headers, leakbpf) differ: {diff}"


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_layout_checked_inside_interpreter(exe, version, census_table):
    """What no header describes (dict keys before 3.11, modules, deques,
    where instance values live) read through ctypes in the interpreter."""
    table = subprocess.run([census_table, str(version[1]), "full"], capture_output=True,
                           text=True, check=True).stdout
    r = subprocess.run([exe, str(OBJDIR / "census_selfcheck.py")], input=table,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert len([x for x in lines if x.startswith("ok ")]) >= 10, r.stdout
    assert not [x for x in lines if x.startswith("BAD")], r.stdout


# --- scenarios on every version ---


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_registry_grows_and_is_named(exe, version, tmp_path):
    """A module-level registry of connection objects: the class grows, its
    bytes are what sys.getsizeof says, and the registry's path is named."""
    run = census(exe, "registry", tmp_path)
    row = run.type_row("__main__.Connection")
    between(row["count"], run.window("registry"), "Connection instances at the last census")
    first = run.window("registry", 0)
    between(row["count_growth"], (run.window("registry")[0] - first[1],
                                  run.window("registry")[1] - first[0]), "growth")
    assert row["count_growth"] > 0
    # each Connection is the same size: the program's own getsizeof sum
    per = {r["registry"]: r["conn_bytes"] for _, r in run.truth()}
    if row["count"] in per:
        assert row["bytes"] == per[row["count"]]
    h = run.holder("__main__._REGISTRY")
    assert h["container"] == "dict"
    between(h["items"], run.window("registry"), "len(_REGISTRY)")
    assert h["item_types"].get("__main__.Connection") == h["items"]
    assert h["items_growth"] > 0
    assert run.report["holders"][0]["path"] == "__main__._REGISTRY"
    assert "__main__._REGISTRY" in run.result.stdout


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_main_interpreter_beside_a_subinterpreter(exe, version, tmp_path):
    """The census is of the main interpreter's heap, also when a
    subinterpreter came after it."""
    run = census(exe, "subinterp", tmp_path, count=1)
    row = run.type_row("__main__.Connection")
    between(row["count"], run.window("registry"), "Connection instances")
    assert run.report["holders"][0]["path"] == "__main__._REGISTRY"


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_cycles_with_collector_disabled(exe, version, tmp_path):
    """Parent/child cycles with __del__, dropped while gc.disable(): reported
    as unreachable, by type, exactly as many as the program dropped."""
    run = census(exe, "cycles", tmp_path, count=1)
    u = run.report["unreachable"]
    assert u["computed"]
    parents = u["types"].get("__main__.Parent", 0)
    between(parents, run.window("parents"), "unreachable Parent objects")
    assert u["types"].get("__main__.Child") == 3 * parents
    # each parent's list of children is garbage too
    assert u["types"].get("list", 0) >= parents
    assert u["count"] >= 5 * parents
    assert run.report["gc"]["enabled"] is False
    assert "DISABLED" in run.result.stdout


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_sizes_are_getsizeof(exe, version, tmp_path):
    """Counts and bytes per class, for instances of every layout (plain,
    __slots__, subclasses of list, dict, set, tuple, deque, str, int,
    bytes), equal the program's own sums of sys.getsizeof."""
    run = census(exe, "sizes", tmp_path, count=0)
    truth = run.truth()[-1][1]
    names = [k[2:] for k in truth if k.startswith("n_") and k != "n_list"]
    assert len(names) == 10
    for name in names:
        row = run.type_row("__main__." + name)
        assert (row["count"], row["bytes"]) == (truth["n_" + name], truth["b_" + name]), name


# --- the other scenarios, on Debian's build and the newest pyenv build ---


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_logger_per_connection(exe, version, tmp_path):
    run = census(exe, "loggers", tmp_path)
    row = run.type_row("logging.Logger")
    between(row["count"], run.window("loggers"), "Logger instances")
    assert row["count_growth"] > 0
    h = run.holder("logging.Logger.manager.loggerDict")
    between(h["items"], run.window("logger_dict"), "len(loggerDict)")
    assert h["item_types"]["logging.Logger"] > 0.9 * h["items"]


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_root_handler_per_job(exe, version, tmp_path):
    run = census(exe, "handlers", tmp_path)
    row = run.type_row("logging.StreamHandler")
    between(row["count"], run.window("handlers"), "StreamHandler instances")
    h = run.holder("logging.root.handlers")
    assert h["container"] == "list"
    between(h["items"], run.window("handlers"), "len(logging.root.handlers)")
    assert h["item_types"] == {"logging.StreamHandler": h["items"]}
    assert h["items_growth"] > 0


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_queue_backlog_in_frame_local(exe, version, tmp_path):
    """Producers outpace the consumer: tuples grow, in a deque held by the
    frame's local `q` (a queue.Queue), which the collector does not see."""
    run = census(exe, "queue", tmp_path)
    h = run.holder("__main__.main_queue:q.queue")
    assert h["container"] == "collections.deque"
    between(h["items"], run.window("qsize"), "q.qsize()")
    assert h["item_types"] == {"tuple": h["items"]}
    assert run.type_row("tuple")["count_growth"] > 0


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_native_leak_is_outside_python_heap(exe, version, tmp_path):
    """A ctypes malloc leak: no Python type grows, and the table says the RSS
    grows outside the Python heap."""
    run = census(exe, "ctypes", tmp_path, count=3)
    rep = run.report
    leaked = run.window("leaked")[0] - run.window("leaked", 0)[1]
    assert leaked >= 4 << 20
    assert rep["rss_growth"] >= leaked // 2, (rep["rss_growth"], leaked)
    assert rep["native_growth"] is True
    assert rep["bytes_growth"] < rep["rss_growth"] / 4
    assert not rep["holders"]
    assert max(t["count_growth"] for t in rep["types"]) < 100
    assert "grows outside the Python heap" in run.result.stdout


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_control_nothing_grows(exe, version, tmp_path):
    """Churn and a bounded cache: no type, holder or cycle grows."""
    run = census(exe, "control", tmp_path, count=3)
    rep = run.report
    # a census may land within a step: at most one step's objects in flight
    grown = [t for t in rep["types"] if abs(t["count_growth"]) > 400]
    assert not grown, grown
    assert not [h for h in rep["holders"] if h["items_growth"] > 100], rep["holders"]
    assert rep["unreachable"]["count"] == 0
    assert rep["native_growth"] is False


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_census_while_containers_mutate(exe, version, tmp_path):
    """Threads mutate a list, a dict, a set and a deque as fast as they can:
    every census completes, what changed under the reader is counted, and
    the program is not disturbed."""
    run = census(exe, "mutate", tmp_path, interval=0.2, count=10, step=0.1)
    cs = run.report["censuses"]
    assert all(c["objects"] > 1000 for c in cs)
    changed = sum(c["torn"] + c["retries"] + c["invalid"] for c in cs)
    assert changed > 0, cs
    assert re.search(r"reads: \d+ torn .* \d+ re-reads\), [\d,]+ invalid", run.result.stdout)
    rounds = run.truth()[-1][1]["rounds"]
    time.sleep(0.5)
    assert run.truth()[-1][1]["rounds"] > rounds, "the program stopped"


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_hostile_program(exe, version, tmp_path):
    """A program that scribbles over its own objects (sizes of 2**40, a deque
    whose block links to itself, a forged type with a terminal escape in its
    name, a class named with escapes): leakbpf neither crashes nor hangs,
    keeps its memory bounded, prints nothing a terminal would act on, and
    counts what it could not read."""
    t, truthfile = start(exe, "hostile", tmp_path)
    out = tmp_path / "hostile.json"
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "sys.stdout.buffer.write(r.stdout)\n"
             "sys.stderr.buffer.write(r.stderr)\n"
             "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
             " 'rc', r.returncode, file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", probe, str(LEAKBPF), "objects", "-p", str(t.pid),
                        "0.5", "3", "-T", "200", "--json", str(out)],
                       capture_output=True, timeout=120)
    err = r.stderr.decode(errors="replace")
    m = re.search(r"maxrss (\d+) rc (\d+)", err)
    assert m and m.group(2) == "0", err
    assert int(m.group(1)) < 300 * 1024, f"leakbpf used {m.group(1)} KiB"
    for stream in (r.stdout, out.read_bytes()):
        for bad in (b"\x1b", b"\x07", b"\x9b"):
            assert bad not in stream
    rep = json.loads(out.read_text())
    evil = [x for x in rep["types"] if "Evil" in x["type"]]
    assert evil and evil[0]["type"].startswith("__main__.\\x1b[2J\\x1b]0;owned\\x07Evil")
    assert evil[0]["count_growth"] > 0
    assert rep["reads"]["invalid"] + rep["reads"]["bad_types"] > 0
    assert rep["bytes"] < 1 << 30  # forged sizes are not added
    assert "Evil" in r.stdout.decode()
    assert t.poll() is None


# --- --pause ---


def tracer_of(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"TracerPid:\s+(\d+)", status).group(1))


def state_of(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize("exe,version", params(MAIN_PY))
def test_pause_reports_how_long_and_resumes(exe, version, tmp_path):
    run = census(exe, "registry", tmp_path, count=2, extra=["--pause"])
    cs = run.report["censuses"]
    assert run.report["paused"] is True
    assert all(c["paused_s"] > 0 for c in cs)
    assert all(c["paused_s"] <= c["duration_s"] + 0.1 for c in cs)
    assert "target paused" in run.result.stdout
    pid = run.target.pid
    assert tracer_of(pid) == 0 and state_of(pid) not in ("t", "T")
    row = run.type_row("__main__.Connection")
    between(row["count"], run.window("registry"), "Connection instances")
    n = len(run.truth())
    time.sleep(0.6)
    assert len(run.truth()) > n, "the target does not run after the census"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_pause_is_undone_when_leakbpf_dies(sig, tmp_path):
    """leakbpf killed (or interrupted) while the target is stopped: the
    target runs again."""
    exe = MAIN_PY[0][1]
    t, truthfile = start(exe, "sizes", tmp_path, step=0.05)
    lb = lbtest.Leakbpf(["objects", "-p", t.pid, "0.1", "-q", "--pause"],
                        stdout=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while tracer_of(t.pid) != lb.pid:
        assert time.monotonic() < end, "never paused: " + lb.stderr
        assert lb.proc.poll() is None, lb.stderr
    os.kill(lb.pid, sig)
    assert lb.proc.wait(timeout=30) == (0 if sig == signal.SIGINT else -signal.SIGKILL)
    end = time.monotonic() + 10
    while tracer_of(t.pid) or state_of(t.pid) in ("t", "T"):
        assert time.monotonic() < end, f"target left stopped: {state_of(t.pid)}"
        time.sleep(0.05)
    n = len(Path(truthfile).read_text().splitlines())
    time.sleep(0.5)
    assert len(Path(truthfile).read_text().splitlines()) > n


# --- the command line ---


def test_not_python_is_one_line(tmp_path):
    t = lbtest.start_target([lbtest.cprog("leak_basic")])
    lbtest.wait_ready(t)
    r = lbtest.run_leakbpf(["objects", "-p", t.pid, "1", "0"])
    assert r.returncode == 1
    assert r.stderr.startswith("leakbpf: ") and r.stderr.count("\n") == 1, r.stderr
    assert "not a CPython" in r.stderr


UNSUPPORTED = [e for e in ("/usr/bin/python3.11d",) if Path(e).exists()] + [p[1] for p in OLD_PY]


@pytest.mark.parametrize("exe", UNSUPPORTED)
def test_unsupported_build_is_one_line(exe):
    """A debug build (other object layouts) and CPython 3.7 or older."""
    t = lbtest.start_target([exe, "-c", "import sys, time; print('ready'); sys.stdout.flush();"
                             " time.sleep(60)"])
    lbtest.wait_ready(t)
    r = lbtest.run_leakbpf(["objects", "-p", t.pid, "1", "0"])
    assert r.returncode == 1
    assert r.stderr.startswith("leakbpf: ") and r.stderr.count("\n") == 1, r.stderr
    assert "no census possible" in r.stderr


@pytest.mark.parametrize("args", [[], ["-p", "1", "0"], ["-p", "x"], ["-p", "1", "--nope"],
                                  ["-p", "1", "1", "-1"], ["-p", "1", "--max-objects", "5"]])
def test_usage_errors_exit_2(args):
    r = lbtest.run_leakbpf(["objects"] + args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("leakbpf objects: ")


def test_json_to_stdout_and_target_exit(tmp_path):
    """--json -: stdout is the JSON document alone (the table goes to
    stderr); a target that exits ends the run with the last census."""
    exe = MAIN_PY[0][1]
    t, truthfile = start(exe, "registry", tmp_path)
    lb = lbtest.Leakbpf(["objects", "-p", t.pid, "0.5", "--json", "-"])
    end = time.monotonic() + 30
    while "census 2" not in lb.stderr:
        assert time.monotonic() < end, lb.stderr
        time.sleep(0.1)
    t.kill()
    assert lb.proc.wait(timeout=30) == 0, lb.stderr
    for th in lb._threads:
        th.join(timeout=10)
    rep = json.loads(lb.stdout)
    assert rep["final"] is True and len(rep["censuses"]) >= 2
    assert "exited" in lb.stderr
    assert "leakbpf objects: pid" in lb.stderr
