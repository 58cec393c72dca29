"""Assertions shared by the native suites: exact per-function accounting and
sanity of a leakbpf/v1 report."""

import os
import re

from lbtest import REPO, describe, outstanding, stack_with

# A wrapped-around negative 64-bit number shows up as something enormous.
SANE_LIMIT = 1 << 48

DROP_KEYS = ("ringbuf_alloc", "ringbuf_free", "thread_map_full", "nest_overflow",
             "returns_unmatched", "stack_errors", "stacks_truncated", "py_errors",
             "py_truncated", "names_unkept", "addr_table_full", "stack_table_full",
             "ringbuf_page", "ringbuf_range", "unwind_tables_full", "cache_bound")
COUNT_KEYS = ("allocs", "frees", "frees_unknown", "nested_ignored", "filtered")


def assert_sane(rep, pid=None, final=True):
    """Structure and internal consistency of a report (schema leakbpf/v1)."""
    assert rep is not None, "leakbpf wrote no JSON report"
    assert "leakbpf/v1" in [v for v in rep.values() if isinstance(v, str)], \
        f"no 'leakbpf/v1' schema tag among the top-level values: {sorted(rep)}"
    if pid is not None:
        assert rep["pid"] == pid
    if final:
        assert rep.get("final") is True, "the report written at exit must be final"
    for k in COUNT_KEYS:
        assert 0 <= rep["counts"][k] < SANE_LIMIT, f"counts.{k} = {rep['counts'][k]}"
    for k in DROP_KEYS:
        assert 0 <= rep["drops"][k] < SANE_LIMIT, f"drops.{k} = {rep['drops'][k]}"
    tot = rep["totals"]
    assert 0 <= tot["outstanding_bytes"] < SANE_LIMIT, tot
    assert 0 <= tot["outstanding_count"] < SANE_LIMIT, tot
    listed_b = listed_n = 0
    for s in rep["stacks"]:
        for k in ("outstanding_bytes", "outstanding_count", "allocated_bytes",
                  "allocated_count"):
            assert 0 <= s[k] < SANE_LIMIT, f"stack {s['id']} {k} = {s[k]}"
        assert s["outstanding_bytes"] <= s["allocated_bytes"], s
        assert s["outstanding_count"] <= s["allocated_count"], s
        assert abs(s["growth_bytes"]) < SANE_LIMIT
        assert s["frames"], f"stack {s['id']} has no frames"
        listed_b += s["outstanding_bytes"]
        listed_n += s["outstanding_count"]
    assert listed_b <= tot["outstanding_bytes"], (listed_b, tot)
    assert listed_n <= tot["outstanding_count"], (listed_n, tot)


def assert_no_drops(rep):
    # cache_bound counts caches that started over: work done again, nothing lost
    bad = {k: v for k, v in rep["drops"].items() if v and k != "cache_bound"}
    assert not bad, f"events were lost: {bad}"


def assert_exact(rep, leaks, clean):
    """Every leaking function holds exactly its (count, bytes); functions that
    free what they allocate hold nothing."""
    problems = []
    for fn, (n, b) in sorted(leaks.items()):
        got_b, got_n = outstanding(rep, fn)
        if (got_n, got_b) != (n, b):
            problems.append(f"{fn}: expected {n} blocks / {b} bytes outstanding, "
                            f"got {got_n} / {got_b}")
    for fn in sorted(clean):
        st = stack_with(rep, fn)
        if st:
            problems.append(f"{fn} frees all it allocates but has "
                            f"{sum(s['outstanding_count'] for s in st)} blocks / "
                            f"{sum(s['outstanding_bytes'] for s in st)} bytes outstanding")
    assert not problems, "\n".join(problems) + "\nreport:\n" + describe(rep)


def function_lines(source, function):
    """(first, last) line of a C function's definition in `source`."""
    lines = open(source).read().split("\n")
    start = None
    pat = re.compile(r"^[A-Za-z].*[\s\*]" + re.escape(function) + r"\(")
    for i, line in enumerate(lines, 1):
        if start is None and pat.match(line) and not line.rstrip().endswith(";"):
            start = i
        elif start is not None and line.startswith("}"):
            return start, i
    raise AssertionError(f"{function} not found in {source}")


# Who calls each leaking function in tests/c (default: main).
CALLERS = {"produce_item": "producer_main"}


def assert_frames_point_at_source(rep, leaks, program, source):
    """For every leaking stack: the leaf-most frame in the program itself is
    the leaking function (the direct caller of the allocator is present), with
    file:line inside that function's body, and the stack goes on to the
    function's real caller (the walk is not cut after the recovered frame)."""
    exe = os.path.basename(program)
    src = str(REPO / source)
    for fn in leaks:
        first, last = function_lines(src, fn)
        for s in stack_with(rep, fn):
            own = [f for f in s["frames"] if f.get("module")
                   and os.path.basename(f["module"]) == exe]
            assert own, f"no frame of {exe} in stack {s['id']}: {s['frames']}"
            leaf = own[-1]
            assert leaf.get("function") == fn, \
                f"leaf-most {exe} frame is {leaf.get('function')}, not {fn} " \
                f"(is the allocator's direct caller missing?): {[f.get('function') for f in s['frames']]}"
            assert leaf.get("file") and leaf["file"].endswith(os.path.basename(source)), leaf
            assert first <= leaf.get("line", 0) <= last, \
                f"{fn} frame line {leaf.get('line')} outside {source}:{first}-{last}"
            names = [f.get("function") for f in own]
            caller = CALLERS.get(fn, "main")
            assert len(names) >= 2 and names[-2] == caller, \
                f"stack {s['id']} of {fn} ({s['outstanding_count']} blocks) does not go on " \
                f"to its caller {caller}: {[f.get('function') for f in s['frames']]}"
