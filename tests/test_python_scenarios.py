"""Field scenarios: leakbpf attached to real, running Python programs.

Each program in tests/py_scenarios/ reproduces a leak seen in Python
services (or, for s8, a control without a leak). It runs until killed,
prints "ready PID" once set up, and marks the line that leaks with a
trailing "# LEAK" comment; this file finds that line by reading the program,
so the programs can be edited freely.

For each scenario and interpreter: start the program, attach
`leakbpf -p PID -d DURATION -o 1s --json FILE -q` to it while it runs, and
judge the JSON report ("leakbpf/v1"):

  leak scenarios  the "# LEAK" line (file basename + line, Python frame) is
                  in the heaviest stack, OR the stacks through it hold the
                  majority of the outstanding bytes of all stacks that have
                  Python frames; and they hold at least MIN_LEAK_BYTES, so
                  that a report of a few stray blocks cannot pass.
  control (s8)    see test_control_no_growth(): outstanding memory through
                  the program stays under what its bounded caches can hold,
                  while the tool demonstrably saw (and matched the frees of)
                  a lot of churn.

Interpreters: Debian's /usr/bin/python3.11 (LTO+PGO, pymalloc inlined) and
a pyenv --enable-shared 3.12 run every scenario; every pyenv 3.8 to 3.13
present runs scenario 1. An interpreter that is not installed is skipped
(with its path in the reason); everything else needs root and real BPF, as
the rest of the suite.

Set LEAKBPF_SCENARIO_LOG=FILE to append one JSON line of measurements per
test (what the final report of the Python work quotes).
"""

import json
import os

import pytest

import lbtest
from scenarios import (CONTROL, DEBIAN_PY, LEAK_SCENARIOS, SCENARIO_DIR, is_python, label,
                       leak_lines, module_constant, out_bytes, pyenv_latest, scenario_argv,
                       through, through_file)

# Seconds of tracing. The issue asks for ~10 s: Debian's build (the hard
# one: pymalloc inlined) gets 10; the pyenv 3.12 matrix 8; the version sweep
# and the libc variant of s7 6 (attach ~4 s + exit ~2 s come on top of each:
# the whole file stays under ~6 minutes on 2 cores).
DURATION = 10
DURATION_PYENV = 8
SWEEP_DURATION = 6
MIN_AGE = "1s"  # -o: only allocations at least this old count as outstanding
# The slowest scenario leaks ~9 KB/s (s2) per tracemalloc: over the ~5 s
# counted in the shortest traces (6 s minus -o 1s) that is ~45 KB; a working
# tool must see a good part of it.
MIN_LEAK_BYTES = 16 * 1024


# --------------------------------------------------------------- the cases

def _cases():
    """(interpreter path or None, missing-label, scenario, args, duration)."""
    cases = []
    pyenv312 = pyenv_latest(12)
    debian = DEBIAN_PY if os.access(DEBIAN_PY, os.X_OK) else None
    for exe, missing, duration in ((debian, DEBIAN_PY, DURATION),
                                   (pyenv312, "pyenv 3.12.x", DURATION_PYENV)):
        for s in LEAK_SCENARIOS + [CONTROL]:
            cases.append((exe, missing, s, (), duration))
    # scenario 7 again, calling libc's malloc directly (no library of ours)
    cases.append((debian, DEBIAN_PY, "s7_ctypes_malloc", ("--libc",), SWEEP_DURATION))
    for minor in (8, 9, 10, 11, 13):
        cases.append((pyenv_latest(minor), "pyenv 3.%d.x" % minor, "s1_sync_job", (),
                      SWEEP_DURATION))
    return cases


def _case_id(c):
    exe, missing, scenario, args, _ = c
    return "-".join([scenario, label(exe, missing.replace(" ", ""))] +
                    [a.lstrip("-") for a in args])


CASES = _cases()


# --------------------------------------------------------------- the report

def frame_text(f):
    if f.get("text"):
        return f["text"]
    if f.get("file"):
        return "%s (%s:%s)" % (f.get("function"), os.path.basename(f["file"]), f.get("line"))
    return str(f.get("function"))


def summary(report, limit=8):
    """The heaviest stacks, Python frames (and the innermost native ones)."""
    if report is None:
        return "<no JSON report>"
    out = ["python=%r allocator_note=%r" % (report.get("python"), report.get("allocator_note")),
           "totals=%s" % json.dumps(report.get("totals")),
           "counts=%s drops=%s" % (json.dumps(report.get("counts")),
                                   json.dumps(report.get("drops")))]
    for s in sorted(report.get("stacks", []), key=lambda s: -s.get("outstanding_bytes", 0))[:limit]:
        frames = s.get("frames", [])
        py = [frame_text(f) for f in frames if is_python(f)][-4:]
        native = [frame_text(f) for f in frames if not is_python(f)][-2:]
        out.append("  %9dB/%-6d grow %s alloc %sB: %s || %s" % (
            s.get("outstanding_bytes", 0), s.get("outstanding_count", 0), s.get("growth_bytes"),
            s.get("allocated_bytes"), " > ".join(py) or "-", " > ".join(native) or "-"))
    return "\n".join(out)


def log_measurement(record):
    path = os.environ.get("LEAKBPF_SCENARIO_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def trace_scenario(exe, scenario, args, duration, tmp_path):
    """Start the scenario under `exe`, attach leakbpf to it for `duration`
    seconds, return (scenario path, report, leakbpf CompletedProcess)."""
    path = SCENARIO_DIR / (scenario + ".py")
    argv = scenario_argv(exe, scenario, args, tmp_path)
    with open(tmp_path / "scenario.stderr", "w") as err:
        target = lbtest.start_target(argv, stderr=err)
    lbtest.wait_ready(target, timeout=60)
    json_path = tmp_path / "report.json"
    res, report = lbtest.attach(target.pid, ["-o", MIN_AGE], duration=duration,
                                json_path=str(json_path))
    alive = target.poll() is None
    lbtest.terminate(target)
    cmd = "leakbpf " + " ".join(res.args[1:])
    stderr_tail = (tmp_path / "scenario.stderr").read_text()[-2000:]
    assert alive, (f"{scenario} under {exe} died while traced (status {target.returncode}); "
                   f"its stderr:\n{stderr_tail}\nleakbpf stderr:\n{res.stderr}")
    assert res.returncode == 0, f"{cmd}: exit status {res.returncode}; stderr:\n{res.stderr}"
    assert report is not None, f"{cmd}: no JSON report written; stderr:\n{res.stderr}"
    assert report.get("schema") in (None, "leakbpf/v1"), f"schema {report.get('schema')!r}"
    assert report.get("python"), (f"{cmd}: CPython not detected in {exe} "
                                  f"(report 'python' is {report.get('python')!r}); "
                                  f"stderr:\n{res.stderr}")
    return path, report, cmd


# --------------------------------------------------------------- the tests

@pytest.mark.parametrize("case", [c for c in CASES if c[2] != CONTROL], ids=_case_id)
def test_leak_line_found(case, tmp_path):
    exe, missing, scenario, args, duration = case
    if exe is None:
        pytest.skip(f"interpreter not installed: {missing}")
    path = SCENARIO_DIR / (scenario + ".py")
    lines = leak_lines(path)
    assert len(lines) == 1, f"{path} must mark exactly one line '# LEAK', found {lines}"
    path, report, cmd = trace_scenario(exe, scenario, args, duration, tmp_path)
    base = path.name
    stacks = report.get("stacks", [])
    py_stacks = [s for s in stacks if any(is_python(f) for f in s.get("frames", []))]
    leak_stacks = [s for s in stacks if through(s, base, lines)]
    heaviest = max(stacks, key=lambda s: s.get("outstanding_bytes", 0)) if stacks else None
    leak, py_total = out_bytes(leak_stacks), out_bytes(py_stacks)
    in_heaviest = heaviest is not None and through(heaviest, base, lines)
    log_measurement({
        "test": "leak", "scenario": scenario, "args": list(args), "python": exe,
        "report_python": report.get("python"), "duration": duration,
        "leak_bytes": leak, "leak_count": sum(s.get("outstanding_count", 0) for s in leak_stacks),
        "leak_stacks": len(leak_stacks), "python_stacks_bytes": py_total,
        "all_stacks_bytes": out_bytes(stacks), "heaviest_bytes": heaviest and heaviest.get(
            "outstanding_bytes"), "leak_in_heaviest": in_heaviest,
        "totals": report.get("totals"), "drops": report.get("drops"),
        "allocator_note": report.get("allocator_note"),
    })
    where = f"{base}:{lines[0]}"
    detail = (f"{cmd} ({scenario} under {exe}): leak line {where}: {leak} B in "
              f"{len(leak_stacks)} stacks; Python-attributed stacks {py_total} B; "
              f"all stacks {out_bytes(stacks)} B; leak line in heaviest stack: {in_heaviest}\n"
              f"{summary(report)}")
    assert py_stacks, f"no stack carries Python frames\n{detail}"
    assert in_heaviest or 2 * leak > py_total, (
        f"expected {where} in the heaviest stack or in stacks holding most "
        f"Python-attributed outstanding bytes\n{detail}")
    assert leak >= MIN_LEAK_BYTES, (
        f"expected at least {MIN_LEAK_BYTES} B outstanding through {where}\n{detail}")


@pytest.mark.parametrize("case", [c for c in CASES if c[2] == CONTROL], ids=_case_id)
def test_control_no_growth(case, tmp_path):
    """s8 churns (parsed JSON, dicts, lists, strings, objects per request)
    and keeps two bounded caches. What is honest to demand of a report over
    DURATION seconds with -o 1s?

    Outstanding bytes are never zero here: whatever was allocated after
    attach, is over 1 s old and still alive at the end is outstanding, and
    that includes every cache entry inserted during the trace that has not
    been evicted yet (hot lru keys survive many seconds). But the caches are
    bounded, so that amount is capped by what they can hold,
    s8.MAX_RETAINED_BYTES, however long the trace; a leak instead grows with
    time. So:
      1. outstanding bytes of the stacks through s8's file <= the bound
         (above it, the report claims memory the program cannot be holding:
         missed frees or misattribution);
      2. the tool saw the churn: the bytes allocated through the file are at
         least 4x the bound, and at least 95% of them were matched by frees
         or are younger than 1 s (outstanding <= 5% of allocated); without
         this, an empty report would pass 1 vacuously;
      3. growth reported for those stacks (vs. the previous interval) stays
         under the bound too.
    Stacks outside the file (interpreter start-up work, thread stacks) are
    reported in the measurements but not judged: nothing in s8 leaks there
    either, yet their size depends on the interpreter, not on the program.
    """
    exe, missing, scenario, args, duration = case
    if exe is None:
        pytest.skip(f"interpreter not installed: {missing}")
    path = SCENARIO_DIR / (scenario + ".py")
    assert not leak_lines(path), f"the control {path} must not mark a '# LEAK' line"
    bound = module_constant(path, "MAX_RETAINED_BYTES")
    path, report, cmd = trace_scenario(exe, scenario, args, duration, tmp_path)
    stacks = report.get("stacks", [])
    mine = [s for s in stacks if through_file(s, path.name)]
    out = out_bytes(mine)
    alloc = sum(s.get("allocated_bytes", 0) for s in mine)
    growth = sum(s.get("growth_bytes", 0) or 0 for s in mine)
    log_measurement({
        "test": "control", "scenario": scenario, "python": exe,
        "report_python": report.get("python"), "duration": duration,
        "file_outstanding": out, "file_allocated": alloc, "file_growth": growth,
        "bound": bound, "all_stacks_bytes": out_bytes(stacks), "totals": report.get("totals"),
        "drops": report.get("drops"), "allocator_note": report.get("allocator_note"),
    })
    detail = (f"{cmd} ({scenario} under {exe}): through {path.name}: outstanding {out} B, "
              f"allocated {alloc} B, growth {growth} B; bound {bound} B; all stacks "
              f"{out_bytes(stacks)} B\n{summary(report)}")
    assert out <= bound, f"expected outstanding <= {bound} B (bounded caches)\n{detail}"
    assert alloc >= 4 * bound, f"expected the churn to be seen: allocated >= {4 * bound} B\n{detail}"
    assert out <= 0.05 * alloc, f"expected outstanding <= 5% of allocated\n{detail}"
    assert growth <= bound, f"expected growth <= {bound} B\n{detail}"
