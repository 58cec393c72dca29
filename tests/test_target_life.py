"""Absurd values, leakbpf itself, a target that exits while leakbpf
attaches, and a pid reused by another process (issue 10, item 13)."""

import subprocess
import time

import pytest

from checks import assert_sane
from lbtest import LEAKBPF, Leakbpf, cprog, load_json, run_leakbpf, start_target, wait_ready


def one_line(res):
    assert res.stderr.startswith("leakbpf: ") and res.stderr.count("\n") == 1, res.stderr
    return res.stderr


@pytest.mark.parametrize("args", [["-d", "2e10"], ["-d", "1e99"], ["1e99"], ["1", "-o", "1e99"],
                                  ["-d", "8761h"]])
def test_durations_beyond_a_year_refused(args):
    """They overflowed: -d 2e10 stopped after 0.1 s with status 0, INTERVAL
    1e99 printed a report every 0.1 s. Refused, not clamped."""
    res = run_leakbpf(["-p", "1"] + args, timeout=30)
    assert res.returncode == 2, res.stderr
    assert "at most a year" in one_line(res)


def test_own_pid_refused():
    """leakbpf tracing itself would trace its own reading of the events."""
    # a shell knows its pid and executes leakbpf in its place
    res = subprocess.run(["sh", "-c", 'exec "$0" -d 1 -p $$', str(LEAKBPF)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2, res.stderr
    assert "itself" in one_line(res)


def test_exit_while_attaching_is_said():
    """A target killed at a moment of the attach: the one line says it
    exited (never "no allocator found" or a probe error)."""
    seen = set()
    for delay in (0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2):
        t = start_target([cprog("leak_basic")])
        wait_ready(t)
        lb = Leakbpf(["-p", t.pid, "-d", "30", "-q"])
        time.sleep(delay)
        t.kill()
        t.wait()
        res = lb.wait(60)
        if res.returncode == 0:
            seen.add("traced")
            continue
        line = one_line(res)
        assert "exited" in line or "no such process" in line, line
        assert "allocator" not in line and "probe" not in line, line
        seen.add("failed")
    assert seen, seen


def _take_pid(pid, argv):
    """Start argv as process `pid` (free again): ns_last_pid makes the
    kernel hand out pid next. None if another process took it first."""
    for _ in range(20):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if p.pid == pid:
            return p
        p.kill()
        p.wait()
    return None


def test_reused_pid_is_noticed(tmp_path):
    """The target exits and another process gets its pid at once: leakbpf
    sees its target gone (the process, not the number), ends with a final
    report of it, and never traces the newcomer."""
    t = start_target([cprog("leak_basic")])
    wait_ready(t)
    pid = t.pid
    js = tmp_path / "r.json"
    lb = Leakbpf(["-p", pid, "-d", "60", "-q", "--json", js])
    lb.wait_tracing()
    t.kill()
    t.wait()
    other = _take_pid(pid, [cprog("leak_basic")])
    if other is None:
        pytest.skip(f"pid {pid} was taken by another process first")
    try:
        res = lb.wait(30)
        assert res.returncode == 0, res.stderr
        rep = load_json(js)
        assert_sane(rep, pid=pid)
        assert rep["target_exited"] is True
        assert other.poll() is None, "the newcomer must be left alone"
    finally:
        other.kill()
        other.wait()
