"""A native stack leakbpf cannot walk in full is counted, never silent: when
the caller of code without frame pointers lies past what can be read, the
stack is cut short and drops.stack_errors says so; its blocks are still
accounted (tests/c/stack_cut.c: strdup at the top of a coroutine stack with
a guard page above it). This is the frame-pointer walk's repair, which
leakbpf uses for modules without an unwind table: LEAKBPF_NO_CFI=1 makes it
the only walk here (with the tables, the CFI walk finds the caller:
test_native_cfi.py)."""

from checks import assert_sane
from lbtest import cprog, describe, outstanding, stack_with, trace_target


def test_stack_cut_short_is_counted(monkeypatch):
    monkeypatch.setenv("LEAKBPF_NO_CFI", "1")
    tr = trace_target([cprog("stack_cut")])
    assert tr.result.returncode == 0, tr.result.stderr
    rep = tr.report
    assert_sane(rep, pid=tr.target.pid)
    n, nbytes = tr.leaks["co_strdup"]
    errors = rep["drops"]["stack_errors"]
    # every block is either charged to its caller or counted as cut short
    _, named = outstanding(rep, "co_strdup")
    assert named + errors == n, describe(rep)
    assert errors > 0, describe(rep)  # the guard page hides the caller today
    dup = stack_with(rep, "strdup")
    assert sum(s["outstanding_count"] for s in dup) == n, describe(rep)
    assert sum(s["outstanding_bytes"] for s in dup) == nbytes, describe(rep)
    # the other counters stay clean: nothing else was lost
    others = {k: v for k, v in rep["drops"].items() if v and k != "stack_errors"}
    assert not others, others
