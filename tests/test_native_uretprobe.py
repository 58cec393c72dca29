"""Native stacks through a function whose return probe is pending.

A uretprobe replaces the return address of the probed function's frame with
the kernel's trampoline (the start of the [uprobes] mapping); the BPF walk
takes the real one from the kernel's list of pending return probes
(bpf/uret.bpf.h) and goes on. Without that, a stack captured inside (or
under) a probed function stopped at the trampoline: "[unwinding stopped at
JIT or anonymous code]" above an unknown frame, and nothing further out.

Two real cases, each with the stacks it must complete:
  - the growth mode's allocation windows: pages first touched inside malloc
    (sysmalloc) while malloc's own return probe is attached;
  - the exact mode: a signal handler interrupting a probed malloc mallocs
    more blocks than leakbpf keeps for the interrupted call, and the rest
    are sent with their own stack, taken under the pending malloc.
"""

import re

from checks import assert_no_drops, assert_sane
from lbtest import ROOTS, attach, cprog, describe, go, start_target, trace_target, wait_ready

ANON_STOP = "[unwinding stopped at JIT or anonymous code]"


def names(stack):
    """Function names (or texts) of a stack, root first."""
    return [(f.get("function") or f.get("text") or "").split("@")[0] for f in stack["frames"]]


def trampoline(pid):
    """The [uprobes] mapping's start in process pid, as a frame's text (the
    mapping lasts as long as the process once a return probe fired)."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith("[uprobes]"):
                return hex(int(line.split("-")[0], 16))
    return None


def assert_complete(stack, tramp):
    """The stack goes from a root through main, without a stop and without
    the trampoline's address as a frame."""
    got = names(stack)
    texts = [f.get("text") for f in stack["frames"]]
    assert ANON_STOP not in got, f"the walk stopped at the trampoline: {got}"
    assert tramp not in texts, f"the trampoline {tramp} is a frame: {texts}"
    assert got[0] in ROOTS and "main" in got, f"not a whole stack: {got}"


def test_growth_window_faults_inside_malloc():
    """growth_leak's leak_record mallocs 256-byte records (and
    churn_scratch a 1 KiB buffer it frees): during a window (malloc's
    return probe attached) malloc grows the heap itself, and the first
    touches of the new pages happen inside malloc. Those stacks go on past
    malloc to its caller, leak_loop and main."""
    t = start_target([cprog("growth_leak"), "heap", "1024"])
    wait_ready(t)
    res, rep = attach(t.pid, ["--growth", "--alloc-windows"], duration=6,
                      trigger=lambda: go(t))
    assert res.returncode == 0, res.stderr
    assert rep is not None, res.stderr
    assert rep["growth"]["windows"] >= 1, describe(rep)
    tramp = trampoline(t.pid)
    assert tramp, "no [uprobes] mapping: no return probe ever fired"
    inside = [s for s in rep["stacks"] if "malloc" in names(s)]
    assert inside, f"no page was first touched inside malloc:\n{describe(rep)}"
    for s in inside:
        assert_complete(s, tramp)
        got = names(s)
        at = got.index("malloc")
        assert got[at - 1] in ("leak_record", "churn_scratch"), got
        assert got.index("main") < got.index("leak_loop") < at - 1, got


def test_exact_stacks_under_a_pending_malloc():
    """signal_malloc with 8 mallocs per signal: the handler's blocks beyond
    the ones kept for the malloc it interrupted carry their own stack, which
    passes through that malloc (its return address is the trampoline) to
    main_loop and main. Every block is still counted."""
    tr = trace_target([cprog("signal_malloc"), "3000", "8"], ["-o", "0"], duration=10)
    rep = tr.report
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(rep)
    assert_no_drops(rep)
    tramp = trampoline(tr.target.pid)
    assert tramp, "no [uprobes] mapping: no return probe ever fired"
    n, nbytes = tr.leaks["on_alarm"]
    assert n == 3000 * 8
    handler = [s for s in rep["stacks"] if "on_alarm" in names(s)]
    assert sum(s["outstanding_bytes"] for s in handler) == nbytes, describe(rep)
    # the handler's own stack through the interrupted malloc: the signal
    # frame, then malloc's internals under main_loop's call
    under = [s for s in handler
             if re.search(r"main_loop.*malloc.*on_alarm", " ".join(names(s)))]
    assert under, f"no handler block under an interrupted malloc:\n{describe(rep)}"
    for s in rep["stacks"]:
        assert_complete(s, tramp)
