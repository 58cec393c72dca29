"""Differential test against heaptrack (Debian's heaptrack package).

The C++ service (tests/c/cxx_service.cc, -O2 -g with frame pointers) runs
once under heaptrack and once under `leakbpf -c`. Both must report the same
leaking stacks, function by function with file and line, inline frames
included, and the same bytes and allocations per stack. heaptrack reads
its stacks with libunwind and its own DWARF reader, and demangles with
libstdc++: a second, independent reading of the same program.

What is compared: the stacks that go through the program's main (heaptrack
suppresses libstdc++'s own startup allocation, whose stack leakbpf cannot
walk without CFI), from main down to the last frame in the program
(heaptrack hides operator new; leakbpf shows it below).
"""

import os
import re
import shutil
import subprocess

import pytest

from checks import assert_no_drops, assert_sane
from lbtest import cprog, run_command

SERVICE = cprog("cxx_service_fp")
# Few requests: every stack then holds less than 1000 bytes, which
# heaptrack_print writes exactly ("800B"), not rounded ("1.28K").
REQUESTS = 8


def _heaptrack():
    for tool in ("heaptrack", "heaptrack_print"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: `apt-get install heaptrack` "
                        "(scripts/deps.sh installs it)", pytrace=False)


def _size(text):
    """heaptrack_print's sizes: "800B", "1.28K" (powers of 1000): (bytes, exact)."""
    m = re.fullmatch(r"([\d.]+)([BKMGT])", text)
    assert m, text
    scale = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2)]
    return float(m.group(1)) * scale, m.group(2) == "B"


def heaptrack_leaks(data):
    """{(frame, ...): (bytes, exact, calls)} from heaptrack_print's leak
    report, one entry per backtrace (not merged), frames leaf first as
    (function, file basename, line), cut after main."""
    out = subprocess.run(["heaptrack_print", "-f", data, "--merge-backtraces", "0",
                          "--shorten-templates", "0", "--print-leaks", "1", "--print-peaks",
                          "0", "--print-allocators", "0", "--print-temporary", "0"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert "MEMORY LEAKS" in out, out
    section = out.split("MEMORY LEAKS", 1)[1].split("\ntotal runtime", 1)[0]
    leaks = {}
    for block in section.strip().split("\n\n"):
        lines = block.splitlines()
        m = re.fullmatch(r"(\S+) leaked over (\d+) calls from", lines[0])
        assert m, block
        frames, fn = [], None
        for line in lines[1:]:
            if line.startswith("    at "):
                loc = line[len("    at "):]
                file, _, num = loc.rpartition(":")
                frames.append((fn, os.path.basename(file), int(num)))
                fn = None
            elif line.startswith("    in "):
                continue
            elif line.startswith("  ") and not line.startswith("   "):
                if fn is not None:  # a frame without "at": no line known
                    frames.append((fn, None, 0))
                fn = line.strip()
        if fn is not None:
            frames.append((fn, None, 0))
        names = [f[0] for f in frames]
        if "main" not in names:
            continue
        key = tuple(frames[:names.index("main") + 1])
        nbytes, exact = _size(m.group(1))
        assert key not in leaks, key
        leaks[key] = (nbytes, exact, int(m.group(2)))
    return leaks


def leakbpf_leaks(rep, exe):
    """The same view of leakbpf's report: {(frame, ...): (bytes, calls)}."""
    leaks = {}
    for s in rep["stacks"]:
        if not s["outstanding_bytes"]:
            continue
        own = [f for f in s["frames"]
               if f.get("module") and os.path.basename(f["module"]) == exe]
        names = [f["function"] for f in own]
        if "main" not in names:
            continue
        own = own[names.index("main"):]
        key = tuple((f["function"], os.path.basename(f["file"] or "") or None, f["line"])
                    for f in reversed(own))
        b, n = leaks.get(key, (0, 0))
        leaks[key] = (b + s["outstanding_bytes"], n + s["allocated_count"])
    return leaks


def test_same_leaks_as_heaptrack(tmp_path):
    _heaptrack()
    r = subprocess.run(["heaptrack", "-o", str(tmp_path / "ht"), SERVICE, "--now",
                        str(REQUESTS)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    data = [p for p in tmp_path.iterdir() if p.name.startswith("ht")]
    assert len(data) == 1, (data, r.stdout)
    theirs = heaptrack_leaks(str(data[0]))

    res, rep = run_command(f"{SERVICE} --now {REQUESTS}")
    assert res.returncode == 0, res.stderr
    assert_sane(rep)
    assert_no_drops(rep)
    ours = leakbpf_leaks(rep, os.path.basename(SERVICE))

    # the session's buffer, the session, the map node, the map itself
    assert len(theirs) == 4, theirs
    assert set(ours) == set(theirs), \
        "\n".join(["only leakbpf:"] + [repr(k) for k in set(ours) - set(theirs)]
                  + ["only heaptrack:"] + [repr(k) for k in set(theirs) - set(ours)])
    for key, (nbytes, exact, calls) in theirs.items():
        got, count = ours[key]
        assert exact, f"heaptrack rounded {nbytes}: use fewer requests"
        assert (got, count) == (nbytes, calls), (key[0], (got, count), (nbytes, calls))
    # the vector's storage: the inline frames heaptrack and leakbpf agree on
    vec = [k for k in theirs if any(f[0].startswith("std::vector<int") for f in k)]
    assert vec and [f[0] for f in vec[0]][-4:] == [
        "Session::Session(int)", "open_session(int)", "handle(int)", "main"], vec
