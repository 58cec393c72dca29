"""Symbolization fallbacks on a stripped program: without any symbols the
frames are `module+0xOFF` (and the offsets still point into the leaking
functions, so the accounting stays exact per site); with its DWARF installed
under /usr/lib/debug/.build-id the names and file:line come back."""

import os
import re
import shutil
import subprocess

import pytest

from checks import assert_exact, assert_no_drops, assert_sane
from lbtest import CBUILD, cprog, describe, trace_target

STRIPPED = cprog("leak_basic_stripped")


def _build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True,
                         check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def _debug_path(path):
    bid = _build_id(path)
    return f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"


def _function_ranges(unstripped):
    """{function: (start, end)} from the symbol table of the unstripped build
    (same code, same addresses)."""
    out = subprocess.run(["nm", "-S", "--defined-only", unstripped], capture_output=True,
                         text=True, check=True).stdout
    ranges = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and w[2] in "tT":
            start = int(w[0], 16)
            ranges[w[3]] = (start, start + int(w[1], 16))
    return ranges


@pytest.fixture
def no_installed_debuginfo():
    dbg = _debug_path(STRIPPED)
    if os.path.exists(dbg):
        os.unlink(dbg)  # left over by an interrupted run
    yield dbg
    if os.path.exists(dbg):
        os.unlink(dbg)


def test_stripped_frames_fall_back_to_module_offset(no_installed_debuginfo, tmp_path):
    folded = tmp_path / "out.folded"
    tr = trace_target([STRIPPED], extra_args=["--folded", folded])
    assert tr.result.returncode == 0, tr.result.stderr
    rep = tr.report
    assert_sane(rep, pid=tr.target.pid)
    assert_no_drops(rep)
    ranges = _function_ranges(cprog("leak_basic"))
    exe = os.path.basename(STRIPPED)
    # Attribute each stack to the function containing its leaf-most frame in
    # the program, by offset, and add up.
    per_fn = {}
    for s in rep["stacks"]:
        own = [f for f in s["frames"] if f.get("module")
               and os.path.basename(f["module"]) == exe]
        if not own or not s["outstanding_count"]:
            continue
        off = own[-1]["offset"]
        fn = next((n for n, (a, b) in ranges.items() if a <= off < b), None)
        if fn is None:
            # a return address may be the byte after the call at a function's end
            fn = next((n for n, (a, b) in ranges.items() if a < off <= b), f"?{off:#x}")
        b, n = per_fn.get(fn, (0, 0))
        per_fn[fn] = (b + s["outstanding_bytes"], n + s["outstanding_count"])
    for fn, (n, b) in tr.leaks.items():
        assert per_fn.get(fn) == (b, n), f"{fn}: {per_fn.get(fn)} != {(b, n)}\n{describe(rep)}"
    for fn in tr.clean:
        assert fn not in per_fn, fn
    # Folded: the program's frames are module+0xOFF.
    text = folded.read_text()
    assert re.search(r"(^|;|/)" + re.escape(exe) + r"\+0x[0-9a-f]+(;| )", text, re.M), text[:2000]
    assert "leak_malloc" not in text, "no symbol can name leak_malloc in a stripped binary"


def test_debuginfo_from_build_id_directory(no_installed_debuginfo):
    dbg = no_installed_debuginfo
    os.makedirs(os.path.dirname(dbg), exist_ok=True)
    shutil.copyfile(str(CBUILD / "leak_basic_stripped.dwarf"), dbg)
    tr = trace_target([STRIPPED])
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(tr.report, pid=tr.target.pid)
    assert_exact(tr.report, tr.leaks, tr.clean)
    for s in tr.report["stacks"]:
        for f in s["frames"]:
            if f.get("function") == "leak_malloc":
                assert f.get("file", "").endswith("leak_basic.c") and f.get("line", 0) > 0, f
