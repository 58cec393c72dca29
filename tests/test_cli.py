"""The command line: options and their units, -c pass-through, signals, bad
input and faults (one clear `leakbpf: ` line and a non-zero exit), and that
no BPF program or link outlives leakbpf, however it ends."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from checks import assert_exact, assert_sane
from lbtest import (REPO, LEAKBPF, Leakbpf, attach, bpf_ids_held_by, cprog, go, go_and_wait,
                    load_json, loaded_bpf_ids,
                    outstanding, parse_expect, run_leakbpf, stack_with,
                    start_target, trace_target, wait_ready)


def assert_one_error_line(res, *must_mention):
    """Non-zero exit and exactly one stderr line starting with 'leakbpf: '."""
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert res.returncode != 0, f"exit status 0 for {res.args[1:]}; stderr {res.stderr!r}"
    assert len(lines) == 1, f"{res.args[1:]}: expected one stderr line, got {lines!r}"
    assert lines[0].startswith("leakbpf: "), lines[0]
    low = lines[0].lower()
    if must_mention:
        assert any(w.lower() in low for w in must_mention), \
            f"{lines[0]!r} should mention one of {must_mention}"
    return lines[0]


def idle_target():
    """A harness program waiting for "go": a live process to attach to."""
    t = start_target([cprog("leak_basic")])
    wait_ready(t)
    return t


# --- help and version -----------------------------------------------------

def test_help_and_version():
    res = run_leakbpf(["--help"])
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    for opt in ("-p", "-c", "-d", "-o", "-T", "-z", "-Z", "--folded", "--flamegraph"):
        assert opt in out, f"--help does not document {opt}"
    res = run_leakbpf(["--version"])
    assert res.returncode == 0 and "leakbpf" in (res.stdout + res.stderr).lower()


# --- bad option values ----------------------------------------------------

BAD_ARGS = [
    ["-d", "abc", "-p", "{pid}"],
    ["-d", "-5", "-p", "{pid}"],
    ["-d", "10x", "-p", "{pid}"],
    ["-T", "-1", "-p", "{pid}"],
    ["-T", "abc", "-p", "{pid}"],
    ["-o", "soon", "-p", "{pid}"],
    ["-z", "big", "-p", "{pid}"],
    ["-Z", "-3", "-p", "{pid}"],
    ["-z", "4096", "-Z", "16", "-p", "{pid}"],
    ["-p", "abc"],
    ["-p", "-4"],
    ["-p", "0"],
    ["-p", "{pid}", "xyz"],
    ["-p", "{pid}", "0"],
    ["-p", "{pid}", "1", "-2"],
    ["-p", "{pid}", "1", "many"],
    ["--py-alloc", "some", "-p", "{pid}"],
    ["--no-such-option", "-p", "{pid}"],
    [],
    ["-d", "5"],
    ["-p", "{pid}", "-c", "true"],
    ["-c", ""],
    ["-p"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=lambda a: " ".join(a) or "no-args")
def test_bad_option_values(args):
    t = idle_target()
    argv = [a.replace("{pid}", str(t.pid)) for a in args]
    res = run_leakbpf(argv, timeout=30)
    line = assert_one_error_line(res)
    # Usage errors are found before anything is attached: exit status 2
    # (user/options.h), and the line names what is wrong.
    assert res.returncode == 2, (res.returncode, line)
    named = [a for a in argv if a != str(t.pid)]
    if "-p" not in argv and "-c" not in argv:
        named += ["-p", "-c"]
    assert any(a and a in line for a in named), f"{line!r} names none of {named}"
    assert not res.stdout.strip(), res.stdout


def test_no_such_pid():
    p = subprocess.Popen(["true"])
    p.wait()  # reaped: the pid is free
    res = run_leakbpf(["-p", str(p.pid), "-d", "2"], timeout=30)
    assert_one_error_line(res, str(p.pid))


def test_zombie_target():
    """A pid that exists but whose process has exited (a zombie)."""
    p = subprocess.Popen(["true"])
    time.sleep(0.5)  # not reaped: a zombie until p.wait()
    try:
        assert open(f"/proc/{p.pid}/stat").read().split(") ")[1][0] == "Z"
        res = run_leakbpf(["-p", str(p.pid), "-d", "2"], timeout=30)
        assert_one_error_line(res)
    finally:
        p.wait()


def test_no_allocator_found():
    """A static program without libc has no malloc to probe."""
    t = start_target([cprog("nolibc_sleeper")])
    wait_ready(t)
    res = run_leakbpf(["-p", str(t.pid), "-d", "2"], timeout=30)
    assert_one_error_line(res, "allocator", "malloc")


def test_command_not_found():
    res = run_leakbpf(["-d", "5", "-c", "/nonexistent/program --flag"], timeout=30)
    assert_one_error_line(res, "nonexistent")


SETPRIV = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.mark.parametrize("mode", ["pid", "command"])
def test_not_root(mode):
    """Run as nobody: one line saying leakbpf needs root or CAP_BPF+CAP_PERFMON."""
    t = idle_target()
    target = ["-p", str(t.pid)] if mode == "pid" else ["-c", "true"]
    res = subprocess.run(SETPRIV + [str(LEAKBPF), "-d", "2"] + target, capture_output=True,
                         text=True, timeout=30)
    line = assert_one_error_line(res, "root", "CAP_BPF")
    assert "sudo" in line or "root" in line, f"say how to run it: {line!r}"


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5])
def test_target_exits_during_attach(delay, tmp_path):
    """Kill the target while leakbpf attaches: either one error line and a
    non-zero exit, or (if the attach had completed) a final report saying the
    target exited. Never a hang, a crash or a half-written report."""
    t = idle_target()
    js = tmp_path / "r.json"
    lb = Leakbpf(["-p", t.pid, "-d", "30", "-q", "--json", js])
    time.sleep(delay)
    t.kill()
    t.wait()
    res = lb.wait(40)
    assert res.returncode >= 0, f"leakbpf died of signal {-res.returncode}: {res.stderr}"
    if res.returncode != 0:
        assert_one_error_line(res)
    else:
        assert lb.tracing(), res.stderr
        rep = load_json(js)
        assert_sane(rep, pid=t.pid)
        assert rep["target_exited"] is True


# --- -c mode: the command's output and status pass through ----------------

@pytest.mark.parametrize("status", [0, 7])
def test_command_output_and_status_unchanged(status, tmp_path):
    cmd = [cprog("cmd_output"), str(status), "3000"]
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert plain.returncode == status
    js = tmp_path / "r.json"
    res = run_leakbpf(["-q", "--json", js, "-c", " ".join(cmd)], timeout=120)
    assert res.returncode == status, res.stderr  # leakbpf exits with the command's status
    assert res.stdout.startswith(plain.stdout), \
        "the command's stdout must pass through unchanged, before leakbpf's report"
    assert plain.stderr in res.stderr
    rep = load_json(js)
    assert_sane(rep)
    assert rep["target_exited"] is True and rep["exit_status"] == status
    leaks, _ = parse_expect(plain.stdout.splitlines())
    assert_exact(rep, leaks, set())


def test_command_stdin_passes_through(tmp_path):
    cmd = [cprog("cmd_output"), "0", "1", "echo"]
    data = "first\nsecond line\n"
    plain = subprocess.run(cmd, input=data, capture_output=True, text=True, timeout=60)
    res = run_leakbpf(["-q", "--json", tmp_path / "r.json", "-c", " ".join(cmd)],
                      input=data, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "echo: second line" in plain.stdout
    assert res.stdout.startswith(plain.stdout), res.stdout[:500]


# --- options that shape the report ---------------------------------------

def test_size_filters():
    """-z 200 -Z 1000 keeps only blocks of 200..1000 bytes: of leak_basic's
    sites (111, 91, 300, 300000 and 24 bytes a block) only reallocarray's."""
    tr = trace_target([cprog("leak_basic")], extra_args=["-z", "200", "-Z", "1000"])
    assert tr.result.returncode == 0, tr.result.stderr
    rep = tr.report
    assert outstanding(rep, "leak_reallocarray") == (600, 2)
    for fn in ("leak_malloc", "leak_calloc", "leak_big", "leak_loop"):
        assert stack_with(rep, fn) == [], f"{fn} is outside -z/-Z"
    assert rep["counts"]["filtered"] >= 5 + 3 + 2 + 1000, rep["counts"]


def test_size_filter_units():
    tr = trace_target([cprog("leak_basic")], extra_args=["-z", "100k"])
    assert outstanding(tr.report, "leak_big") == (600000, 2)
    assert stack_with(tr.report, "leak_malloc") == []


@pytest.mark.parametrize("older,shown", [
    ("100000", False),   # a bare number is milliseconds: 100 s
    ("500", True),       # 0.5 s: the leaks are ~2.5 s old at the end
    ("1s", True),
])
def test_older_than(older, shown):
    tr = trace_target([cprog("leak_basic")], extra_args=["-o", older], duration=3)
    assert tr.result.returncode == 0, tr.result.stderr
    for fn, (n, b) in tr.leaks.items():
        if shown:
            assert outstanding(tr.report, fn) == (b, n), fn
        else:
            assert stack_with(tr.report, fn) == [], f"{fn} is younger than -o {older}"


def test_top_limits_table():
    """-T 1: the final table shows only the biggest stack (leak_big)."""
    t = idle_target()
    res, _ = attach(t.pid, ["-T", "1"], duration=2, trigger=lambda: go_and_wait(t))
    assert res.returncode == 0, res.stderr
    assert "leak_big" in res.stdout, res.stdout
    assert "leak_calloc" not in res.stdout, res.stdout


def test_interval_and_count():
    """`-p PID 1 3`: three reports a second apart, then leakbpf exits."""
    t = idle_target()
    start = time.monotonic()
    lb = Leakbpf(["-p", t.pid, "1", "3"])
    lb.wait_tracing()
    go(t)
    res = lb.wait(60)
    took = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert took < 30, f"{took:.0f}s for 3 reports at 1s"
    assert res.stdout.count("leak_malloc") >= 2, res.stdout


@pytest.mark.parametrize("dur", ["2", "2s"])
def test_duration_units(dur):
    """-d 2 and -d 2s both mean two seconds (not minutes, not milliseconds)."""
    t = idle_target()
    start = time.monotonic()
    res = run_leakbpf(["-p", t.pid, "-d", dur, "-q"], timeout=60)
    took = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert 1.5 <= took < 30, f"-d {dur} ran {took:.1f}s"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_gives_final_report(sig, tmp_path):
    t = idle_target()
    js = tmp_path / "r.json"
    lb = Leakbpf(["-p", t.pid, "-q", "--json", js])  # no -d: runs until signalled
    lb.wait_tracing()
    lines = go_and_wait(t)
    time.sleep(0.5)
    lb.signal(sig)
    res = lb.wait(30)
    assert res.returncode == 0, res.stderr
    rep = load_json(js)
    assert_sane(rep, pid=t.pid)
    assert rep["target_exited"] is False
    leaks, clean = parse_expect(lines)
    assert_exact(rep, leaks, clean)


def test_json_to_stdout():
    t = idle_target()
    res = run_leakbpf(["-p", t.pid, "-d", "1", "-q", "--json", "-"], timeout=60)
    assert res.returncode == 0, res.stderr
    start = res.stdout.index("{")
    rep, _ = json.JSONDecoder().raw_decode(res.stdout[start:])
    assert_sane(rep, pid=t.pid)


# --- no probe outlives leakbpf ------------------------------------------

def _legacy_uprobe_events(pid):
    try:
        with open("/sys/kernel/tracing/uprobe_events") as f:
            return [l for l in f if f"libbpf_{pid}_" in l]
    except OSError:
        return []


@pytest.mark.parametrize("links", ["uprobe_multi", "perf_event"])
@pytest.mark.parametrize("how", ["duration", "target-exit", "SIGINT", "SIGTERM", "SIGKILL"])
def test_no_probe_outlives_leakbpf(how, links):
    """Probes go with leakbpf however it ends, attached either way: one
    uprobe_multi link per program (Linux 6.6+, the default) or one
    perf-event uprobe per probe (older kernels; forced here by env)."""
    t = idle_target()
    env = dict(os.environ, LEAKBPF_NO_UPROBE_MULTI="1" if links == "perf_event" else "0")
    lb = Leakbpf(["-p", t.pid, "-q", "-d", "2" if how == "duration" else "60"], env=env)
    lb.wait_tracing()
    nprobes = int(re.search(r": (\d+) probes", lb.stderr).group(1))
    progs, links_held = bpf_ids_held_by(lb.pid)
    assert len(progs) >= 2, f"leakbpf holds {len(progs)} BPF programs"
    assert links_held, "leakbpf holds no BPF link"
    if links == "uprobe_multi":  # one link per program and direction, not per probe
        assert len(links_held) < nprobes, (len(links_held), nprobes)
    else:
        assert len(links_held) >= nprobes, (len(links_held), nprobes)
    links = links_held
    loaded_p, loaded_l = loaded_bpf_ids()
    assert progs <= loaded_p and links <= loaded_l, "bpftool does not list leakbpf's objects"
    go_and_wait(t)
    if how == "target-exit":
        go(t, "q")
    elif how != "duration":
        lb.signal(getattr(signal, how))
    res = lb.wait(60)
    if how == "SIGKILL":
        assert res.returncode == -signal.SIGKILL
    else:
        assert res.returncode == 0, res.stderr
    # The kernel releases programs when their last reference (fd, link) goes;
    # that is asynchronous (RCU), so poll briefly.
    deadline = time.monotonic() + 15
    while True:
        loaded_p, loaded_l = loaded_bpf_ids()
        left_p, left_l = progs & loaded_p, links & loaded_l
        if not left_p and not left_l:
            break
        assert time.monotonic() < deadline, \
            f"after leakbpf ended ({how}) programs {sorted(left_p)} / links {sorted(left_l)} " \
            "are still loaded"
        time.sleep(0.2)
    assert not _legacy_uprobe_events(lb.pid), "legacy uprobe events left in tracefs"


# --- the bundled demo -----------------------------------------------------

def test_demo_script(tmp_path):
    """tests/demo/run-demo.sh (what `make demo` runs), shortened: it must
    trace the demo service, print a table, write the flame graph and folded
    file where it says, show the leak as the biggest stack, and stop the
    service."""
    env = dict(os.environ, LEAKBPF_DEMO_DURATION="5", LEAKBPF_DEMO_OUT=str(tmp_path))
    res = subprocess.run([str(REPO / "tests/demo/run-demo.sh")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    svg, folded = tmp_path / "demo-flamegraph.svg", tmp_path / "demo.folded"
    assert svg.exists() and folded.exists(), res.stdout
    assert str(svg) in res.stdout and str(folded) in res.stdout, "say where the files are"
    stacks = [l.rsplit(" ", 1) for l in folded.read_text().splitlines()]
    assert stacks, "empty folded output"
    top = max(stacks, key=lambda s: int(s[1]))
    assert "metrics_record" in top[0] and "format_label" in top[0], \
        f"the leak should be the biggest stack older than 1s, got {top}"
    pid = int(re.search(r"demo-service \(pid (\d+)\)", res.stdout).group(1))
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{pid}"), "the demo service must be stopped"
