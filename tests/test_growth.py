"""The growth mode (`leakbpf --growth`): resident pages per stack, from page
faults only, on real processes.

What it must show, per issue 12:
  - the C leakers (tests/c/growth_leak.c) and the Python field scenarios
    (tests/py_scenarios/, Debian's python3.11 and a pyenv build): the stacks
    explain at least 90% of the target's anonymous RSS growth since attach,
    the leaking line carries most of the outstanding bytes, and the control
    (s8) shows no growth;
  - pages given back are forgotten: a program that maps, touches and gives
    back in a loop (every way there is) leaves nothing outstanding;
  - thread stacks apart, huge pages by their size, a target that exits,
    drops counted, every output.

Attribution is to the stack that first touched a page. Where the leak's
allocations share the allocator's bins with busier code, a new page is
often first touched by that code, not by the leaking line (see the README's
triage section): the scenarios where this holds on both interpreters are
expected failures of the leaking-line check, with the measured reason.
With allocation windows (--alloc-windows: the allocator probes for a
second once the target grew), pages go to the stacks whose blocks survive
in them: every scenario and C leaker must pass the leaking-line check then,
on both interpreters.
"""

import json
import os
import re
import signal
import subprocess

import pytest

import lbtest
from lbtest import (Leakbpf, cprog, go, load_json, run_leakbpf, start_target, wait_done,
                    wait_ready)
from scenarios import (CONTROL, DEBIAN_PY, LEAK_SCENARIOS, SCENARIO_DIR, is_python, label,
                       leak_lines, out_bytes, pyenv_latest, scenario_argv, through)

DURATION = 5  # seconds traced per scenario; attach and exit add ~2 s
MIN_EXPLAINED = 0.9
# More than the stacks explain means pages counted that are not resident
# (a give-back missed): a little slack for pages made between the last
# record read and the RSS read.
MAX_EXPLAINED = 1.1
PAGE = 4096
WINDOWS = ["--alloc-windows=2s/60s"]
# with it: a window opens once 16 pages grew (s2, the slowest leaker,
# makes that in about 3-5 s) and lasts 1 s
WINDOWS_DURATION = 10


def growth_report(pid, extra=(), duration=DURATION, trigger=None, json_path=None):
    """`leakbpf --growth -p PID -d DURATION --json F -q EXTRA`."""
    res, rep = lbtest.attach(pid, ["--growth"] + list(extra), duration=duration,
                             trigger=trigger, json_path=json_path)
    assert res.returncode == 0, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    assert rep is not None, f"no JSON report:\n{res.stderr}"
    assert_growth_report(rep, pid)
    return res, rep


def assert_growth_report(rep, pid=None):
    """The structure of a growth-mode report and its internal consistency."""
    assert rep["schema"] == "leakbpf/v1" and rep["mode"] == "growth", rep.get("mode")
    if pid is not None:
        assert rep["pid"] == pid
    assert rep["final"] is True
    g = rep["growth"]
    for k in ("write_faults", "pages_resident", "pages_known", "pages_released", "pages_moved",
              "pages_gone", "file_faults", "huge_pages", "thread_stack_bytes", "anon_rss",
              "anon_rss_at_attach", "windows", "survivors", "pages_sampled"):
        assert isinstance(g[k], int) and 0 <= g[k] < 1 << 48, (k, g)
    if not g["windows"] and not g["window_s"]:
        assert rep["probes"] == [], "the growth mode attaches no probe"
    stacks = rep["stacks"]
    outs = [s["outstanding_bytes"] for s in stacks]
    assert outs == sorted(outs, reverse=True)
    assert rep["totals"]["outstanding_bytes"] == sum(outs)
    assert rep["totals"]["outstanding_count"] == sum(s["outstanding_count"] for s in stacks)
    for s in stacks:
        # a "block" is a page
        assert s["outstanding_bytes"] == PAGE * s["outstanding_count"], s
        assert s["outstanding_bytes"] <= s["allocated_bytes"]
        assert s["frames"]
    assert g["thread_stack_bytes"] == sum(s["outstanding_bytes"] for s in stacks
                                          if "thread_stack" in s["flags"])
    # what the stacks hold was made resident since attach, less what went
    assert rep["totals"]["outstanding_count"] <= g["pages_resident"] + 511 * g["huge_pages"]


def explained(rep):
    """Share of the anonymous RSS growth since attach the stacks hold (None
    when the RSS did not grow)."""
    g = rep["growth"]
    grown = g["anon_rss"] - g["anon_rss_at_attach"]
    return rep["totals"]["outstanding_bytes"] / grown if grown > 0 else None


def describe(rep, limit=8):
    g = rep.get("growth", {})
    lines = [f"growth={g} totals={rep.get('totals')} drops="
             f"{ {k: v for k, v in rep.get('drops', {}).items() if v} } explained={explained(rep)}"]
    for s in rep.get("stacks", [])[:limit]:
        frames = [f.get("text") or f.get("function") for f in s["frames"]]
        lines.append(f"  {s['outstanding_bytes']:>9} B {s['flags']}: {' <- '.join(frames[::-1][:6])}")
    return "\n".join(lines)


def assert_explains_growth(rep):
    share = explained(rep)
    assert share is not None, f"the target's anonymous RSS did not grow\n{describe(rep)}"
    assert MIN_EXPLAINED <= share <= MAX_EXPLAINED, \
        f"the stacks hold {share:.0%} of the anonymous RSS growth\n{describe(rep)}"


def holding(rep, function):
    """Outstanding bytes of the stacks through a native function."""
    return out_bytes(lbtest.stack_with(rep, function))


# --------------------------------------------------------------- modes and banner

def test_banner_names_the_mode_and_its_cost():
    t = start_target([cprog("leak_basic")])
    wait_ready(t)
    exact = run_leakbpf(["-p", t.pid, "-d", "1", "-q"], timeout=60)
    growth = run_leakbpf(["--growth", "-p", t.pid, "-d", "1", "-q"], timeout=60)
    assert exact.returncode == 0 and growth.returncode == 0, exact.stderr + growth.stderr
    e = next(l for l in exact.stderr.splitlines() if l.startswith(lbtest.TRACING_PREFIX))
    g = next(l for l in growth.stderr.splitlines() if l.startswith(lbtest.TRACING_PREFIX))
    assert "every allocation is traced" in e and "several times slower" in e, e
    assert "growth mode" in g and "only page faults are traced" in g, g


@pytest.mark.parametrize("args, message", [
    (["-a"], "-a needs --growth"),
    (["--growth", "-a", "-p", "1"], "not with -p or -c"),
    (["--growth", "-z", "64", "-p", "1"], "the growth mode traces none"),
    (["--growth", "--py-alloc", "all", "-p", "1"], "the growth mode traces none"),
])
def test_refused_combinations(args, message):
    res = run_leakbpf(args)
    assert res.returncode == 2, res
    assert res.stderr.startswith("leakbpf: ") and message in res.stderr, res.stderr
    assert len(res.stderr.splitlines()) == 1, res.stderr


# --------------------------------------------------------------- C leakers

LEAKERS = {
    "heap": "leak_record",
    "mmap": "leak_buffer",
    "strdup": "leak_copy",
    "thread": "leak_in_thread",
}


@pytest.mark.parametrize("windows", [False, True], ids=["", "windows"])
@pytest.mark.parametrize("mode", sorted(LEAKERS))
def test_c_leaker(mode, windows):
    """A steady leak beside churn: the leaking function's stacks carry most
    of the outstanding bytes; the churn (churn_scratch: malloc, use, free)
    little; the stacks explain the anonymous RSS growth. With allocation
    windows too."""
    t = start_target([cprog("growth_leak"), mode, "512"])
    wait_ready(t)
    extra = WINDOWS if windows else []
    res, rep = growth_report(t.pid, extra, trigger=lambda: go(t),
                             duration=WINDOWS_DURATION if windows else DURATION)
    if windows:
        assert rep["growth"]["windows"] == 1, describe(rep)
    fn = LEAKERS[mode]
    leak, total = holding(rep, fn), rep["totals"]["outstanding_bytes"]
    assert leak > total / 2, f"{fn} holds {leak} of {total} B\n{describe(rep)}"
    assert holding(rep, "churn_scratch") < leak / 4, describe(rep)
    assert_explains_growth(rep)


# --------------------------------------------------------------- Python scenarios

# Leaking-line check failures measured on both interpreters: the churn of
# the same size classes first-touches the new pages (share of the
# outstanding bytes through the leaking line: s1 9-27%, s2 47-56%, s3
# 30-55%, s7 15%). s2 and s3 pass or fail from run to run (not strict).
FIRST_TOUCH_ELSEWHERE = {
    "s2_root_handlers": "each job's rows (the list at line 44, freed at once) first-touch "
                        "about half the pages the leaked handlers fill (47-56%)",
    "s1_sync_job": "json encoding and decoding of the same size classes first-touch the pages "
                   "the leaked summaries fill (9-27% through the leaking line)",
    "s3_connection_loggers": "a leaked logger's level cache is made in Connection.handle and "
                             "string churn in main first-touches pages (30-55%)",
    "s7_ctypes_malloc": "the request bytes (line above) are malloc'ed before the previous ones "
                        "are freed, so they take the heap's new pages; the leaked records "
                        "reuse their chunks (15%)",
}


NOT_STRICT = ("s2_root_handlers", "s3_connection_loggers")





def _scenario_cases():
    cases = []
    debian = DEBIAN_PY if os.access(DEBIAN_PY, os.X_OK) else None
    for exe, missing in ((debian, DEBIAN_PY), (pyenv_latest(12), "pyenv 3.12.x")):
        for s in LEAK_SCENARIOS + [CONTROL]:
            for windows in (False, True):
                marks = []
                if s in FIRST_TOUCH_ELSEWHERE and not windows:
                    marks = [pytest.mark.xfail(reason=FIRST_TOUCH_ELSEWHERE[s],
                                               strict=s not in NOT_STRICT)]
                mode = "-windows" if windows else ""
                cases.append(pytest.param(exe, missing, s, windows, marks=marks,
                                          id=f"{s}-{label(exe, missing.replace(' ', ''))}{mode}"))
    return cases


def trace_scenario(exe, scenario, tmp_path, extra=(), duration=DURATION):
    with open(tmp_path / "scenario.stderr", "w") as err:
        t = start_target(scenario_argv(exe, scenario, (), tmp_path), stderr=err)
    wait_ready(t, timeout=60)
    res, rep = growth_report(t.pid, extra, duration=duration,
                             json_path=str(tmp_path / "report.json"))
    alive = t.poll() is None
    lbtest.terminate(t)
    assert alive, f"{scenario} died while traced:\n{(tmp_path / 'scenario.stderr').read_text()}"
    assert rep["python"], f"CPython not detected in {exe}:\n{res.stderr}"
    return rep


@pytest.mark.parametrize("exe, missing, scenario, windows", _scenario_cases())
def test_python_scenario(exe, missing, scenario, windows, tmp_path):
    """Without allocation windows a page is its first toucher's; with them
    (one window of 1 s at attach) pages go to the stacks whose blocks
    survive in them."""
    if exe is None:
        pytest.skip(f"interpreter not installed: {missing}")
    if windows:
        # s2 leaks slowest (~3 pages a second on Debian's build): longer, so
        # that the pages given are not a handful
        duration = 2 * WINDOWS_DURATION if scenario == "s2_root_handlers" else WINDOWS_DURATION
        rep = trace_scenario(exe, scenario, tmp_path, WINDOWS, duration=duration)
        g = rep["growth"]
        assert g["window_s"] == 2 and g["window_every_s"] == 60, g
        # the control's few pages of fragmentation (12 to 24 in 10 s) may
        # or may not open its one window; a leaker's growth opens it
        assert g["windows"] <= 1 and bool(rep["probes"]) == bool(g["windows"]), describe(rep)
        if scenario != CONTROL:
            assert g["windows"] == 1 and g["pages_sampled"] > 0, describe(rep)
    else:
        rep = trace_scenario(exe, scenario, tmp_path)
    path = SCENARIO_DIR / (scenario + ".py")
    stacks = rep["stacks"]
    assert any(is_python(f) for s in stacks for f in s["frames"]), describe(rep)
    if scenario == CONTROL:
        # Caches full at "ready": a few pages of allocator fragmentation
        # at most (measured: up to 12 in 5 s), where the slowest leaker
        # (s2) makes ~20 a second.
        total = rep["totals"]["outstanding_bytes"]
        assert total <= 32 * PAGE, f"the control holds {total} B\n{describe(rep)}"
        return
    assert_explains_growth(rep)
    lines = leak_lines(path)
    assert len(lines) == 1, lines
    leak_stacks = [s for s in stacks if through(s, path.name, lines)]
    py_stacks = [s for s in stacks if any(is_python(f) for f in s["frames"])]
    heaviest = stacks[0] if stacks else None
    leak, py_total = out_bytes(leak_stacks), out_bytes(py_stacks)
    assert leak >= 4 * PAGE, f"the leaking line holds {leak} B\n{describe(rep)}"
    # the exact mode's criterion: in the heaviest stack, or most bytes
    assert (heaviest is not None and through(heaviest, path.name, lines)) or 2 * leak > py_total, \
        f"{path.name}:{lines[0]} holds {leak} of {py_total} B\n{describe(rep)}"


# --------------------------------------------------------------- pages given back

def trace_until_done(argv, tmp_path, env=None):
    """Trace a harness program from "go" to its "done", then stop leakbpf:
    (target's lines, leakbpf's CompletedProcess, report)."""
    t = start_target(argv)
    wait_ready(t)
    out = tmp_path / "report.json"
    lb = Leakbpf(["--growth", "-p", t.pid, "-d", "120", "--json", out], env=env)
    lb.wait_tracing()
    go(t)
    lines = wait_done(t, timeout=120)
    lb.signal(signal.SIGINT)
    res = lb.wait(60)
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    assert_growth_report(rep, t.pid)
    return lines, res, rep


def test_pages_given_back_are_forgotten(tmp_path):
    """munmap, madvise DONTNEED and FREE, mremap moved and shrunk, mmap
    MAP_FIXED over touched pages, brk up and down: all forgotten."""
    lines, res, rep = trace_until_done([cprog("growth_mapunmap"), "20"], tmp_path)
    touched = int(next(l.split()[3] for l in lines if l.startswith("rounds")))
    g = rep["growth"]
    assert g["pages_resident"] >= touched, describe(rep)  # every fault seen
    assert g["pages_moved"] > 0, describe(rep)
    assert rep["totals"]["outstanding_bytes"] == 0, describe(rep)
    assert g["pages_released"] == g["pages_resident"], describe(rep)


# --------------------------------------------------------------- thread stacks, huge pages

def test_thread_stacks_apart():
    t = start_target([cprog("growth_threads")])
    wait_ready(t)
    box = {}

    def trigger():
        go(t)
        box["lines"] = wait_done(t)

    res, rep = growth_report(t.pid, duration=3, trigger=trigger)
    want = int(next(l.split()[1] for l in box["lines"] if l.startswith("stack")))
    thread = [s for s in rep["stacks"] if "thread_stack" in s["flags"]]
    # the deep frames' pages, under their own root frame
    deep = out_bytes([s for s in thread if lbtest.frame_names(s).count("deep_recursion")])
    assert deep >= want * 0.9, f"{deep} B of thread stacks under deep_recursion, want {want}\n" \
        + describe(rep)
    assert all(s["frames"][0]["function"] == "[thread stack]" for s in thread)
    heap = lbtest.stack_with(rep, "leak_heap")
    assert heap and not any("thread_stack" in s["flags"] for s in heap), describe(rep)
    assert out_bytes(heap) >= 512 * 1024 * 0.9, describe(rep)


def _thp_possible():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not _thp_possible(), reason="transparent huge pages disabled")
def test_huge_pages_count_by_their_size():
    t = start_target([cprog("growth_leak"), "huge", "4096"])
    wait_ready(t)
    res, rep = growth_report(t.pid, duration=3, trigger=lambda: go(t))
    g = rep["growth"]
    assert g["huge_pages"] >= 2, describe(rep)
    held = holding(rep, "leak_huge")
    assert held >= g["huge_pages"] * (2 << 20) * 0.9, describe(rep)
    # one fault, 512 pages
    assert g["write_faults"] < g["pages_resident"] / 10, describe(rep)
    assert_explains_growth(rep)


# --------------------------------------------------------------- exit, drops, outputs

def test_target_that_exits():
    """The final report comes when the target exits, with what it held."""
    t = start_target([cprog("growth_leak"), "heap", "512", "2"])
    wait_ready(t)
    res, rep = growth_report(t.pid, duration=60, trigger=lambda: go(t))
    assert rep["target_exited"] is True and rep["exit_status"] in (0, None), describe(rep)
    assert rep["elapsed_s"] < 30
    assert holding(rep, "leak_record") >= 256 * 1024, describe(rep)


def test_drops_are_counted(tmp_path):
    """A ring buffer of one page (LEAKBPF_RINGBUF_SIZE, for tests) cannot
    hold the records of a fast faulter: the losses are in every output."""
    env = dict(os.environ, LEAKBPF_RINGBUF_SIZE="4096")
    lines, res, rep = trace_until_done([cprog("growth_mapunmap"), "20"], tmp_path, env=env)
    d = rep["drops"]
    assert d["ringbuf_page"] > 0, d
    assert re.search(r"^drops: .*\d+ page records lost", res.stdout, re.M), res.stdout


# --------------------------------------------------------------- every process

def test_every_process_ranked_by_growth(tmp_path):
    """`--growth -a`: a C leaker, a Python leaker and a churning control,
    all started after attach: the leakers rank above the control, each
    stack under its process's root frame, with the leaking lines."""
    out = tmp_path / "all.json"
    lb = Leakbpf(["--growth", "-a", "-d", "12", "-q", "--json", out])
    lb.wait_tracing()
    py = DEBIAN_PY if os.access(DEBIAN_PY, os.X_OK) else pyenv_latest(12)
    scenario = SCENARIO_DIR / "s6_queue_backlog.py"
    c_leaker = start_target([cprog("growth_leak"), "--now", "heap", "1024"])
    py_leaker = start_target([py, str(scenario)], stderr=subprocess.DEVNULL)
    control = start_target([cprog("churn"), "--now", "60"])
    res = lb.wait(60)
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    assert rep["mode"] == "growth" and rep["pid"] == 0, rep["pid"]
    procs = [p["pid"] for p in rep["processes"]]
    where = {pid: procs.index(pid) if pid in procs else None
             for pid in (c_leaker.pid, py_leaker.pid, control.pid)}
    detail = f"processes {rep['processes'][:8]}\n{describe(rep)}"
    assert where[c_leaker.pid] is not None and where[py_leaker.pid] is not None, detail
    if where[control.pid] is not None:
        assert where[c_leaker.pid] < where[control.pid], detail
        assert where[py_leaker.pid] < where[control.pid], detail
    for s in rep["stacks"]:
        assert re.fullmatch(r"process \d+ \(.*\)", s["frames"][0]["function"]), s["frames"][0]

    def mine(proc):
        return [s for s in rep["stacks"]
                if s["frames"][0]["function"].startswith(f"process {proc.pid} (")]

    c_leak = [s for s in mine(c_leaker) if "leak_record" in lbtest.frame_names(s)]
    assert out_bytes(c_leak) >= 1 << 20, detail
    lines = leak_lines(scenario)
    py_leak = [s for s in mine(py_leaker) if through(s, scenario.name, lines)]
    assert out_bytes(py_leak) >= 256 << 10, detail


def test_outputs(tmp_path):
    """Every output of the growth mode; folded values are outstanding bytes;
    snapshots round-trip through `leakbpf report` and `leakbpf diff`."""
    t = start_target([cprog("growth_leak"), "heap", "512"])
    wait_ready(t)
    files = {k: tmp_path / n for k, n in (("folded", "g.folded"), ("flamegraph", "g.svg"),
                                          ("pprof", "g.pb.gz"), ("speedscope", "g.speedscope"))}
    snaps = tmp_path / "snaps"
    extra = sum(([f"--{k}", v] for k, v in files.items()), [])
    extra += ["--snapshot-every", "1s", "--snapshot-dir", snaps]
    res, rep = growth_report(t.pid, extra, duration=4, trigger=lambda: go(t))
    for k, f in files.items():
        assert f.exists() and f.stat().st_size > 0, k
    folded = sum(int(l.rsplit(" ", 1)[1]) for l in files["folded"].read_text().splitlines())
    assert folded == rep["totals"]["outstanding_bytes"]
    assert "leak_record" in files["flamegraph"].read_text()
    shots = sorted(snaps.iterdir())
    assert len(shots) >= 2, shots
    again = run_leakbpf(["report", shots[-1], "--json", "-"])
    assert again.returncode == 0, again.stderr
    loaded = json.loads(again.stdout)
    assert loaded["mode"] == "growth", loaded.get("mode")
    assert 0 < loaded["growth"]["pages_resident"] <= rep["growth"]["pages_resident"]
    table = run_leakbpf(["report", shots[-1]])
    assert "growth mode" in table.stdout and "resident in" in table.stdout, table.stdout
    diff = run_leakbpf(["diff", shots[0], shots[-1]])
    assert diff.returncode == 0 and "leak_record" in diff.stdout, diff.stdout + diff.stderr
