"""Allocator calls inside other allocator calls (issue 10, items 6 and 7).

An allocator call nested in another one returns either the outer call's own
block (PyObject allocators over malloc, realloc(NULL) over malloc: counted
once) or a block of its own, which is an allocation like any other:
obmalloc's arena map calloc'ed inside an object allocation, or a signal
handler's malloc interrupting malloc.

Exact bytes at exit against heaptrack (Debian's heaptrack package; its raw
data file is read, not heaptrack_print's rounded sizes): both see every call
of the same libc from the program's first allocation (leakbpf -c holds the
command at exec), so blocks and bytes left at exit must be equal, with no
tolerance. Two known differences are kept out of the comparison, not
allowed for by a margin:
  - Python blocks of 512 bytes or less come from pymalloc's arenas, which
    heaptrack does not see at all (it sees the arenas' mmap, which neither
    counts); leakbpf does, in both --py-alloc modes, and CPython leaves some
    at exit. Python programs are compared on blocks above 512 bytes (-z 513
    on leakbpf's side, the same size filter on heaptrack's records), which
    come from libc in both.
  - heaptrack frees libstdc++'s emergency exception pool at exit
    (__gnu_cxx::__freeres); the C++ program's comparison adds it back.

The two runs are separate processes, so they must make the same calls: both
start with address randomization off (fixed_layout). CPython 3.10 and later
keep a radix tree over their arenas' addresses (obmalloc's arena map), one
2,048-byte bottom node per 256 MiB region the 1 MiB arenas touch, calloc'ed
and never freed. With random layouts the arenas straddle a region boundary
in some runs and not others: pyenv 3.10's json case left one more 2,048-byte
block (under arena_map_get in heaptrack's data) in 8 of 60 runs under
heaptrack and 3 of 60 under leakbpf, and the comparison failed 3 times in 40.
Off, every run of each tool repeats itself. The layouts are fixed, not equal
(heaptrack's preload maps more, its arenas sit lower): a boundary between
them would fail every run, not one in ten.
"""

import ctypes
import json
import os
import shutil
import subprocess

import pytest

from checks import assert_no_drops, assert_sane
from lbtest import cprog, outstanding, run_leakbpf, stack_with, trace_target

# A Python program that leaves blocks of every size at exit, among them the
# 384 KiB of obmalloc's arena map (calloc'ed inside an object allocation).
# One line: heaptrack's data file cannot hold a newline in the command.
PY_SCRIPT = ("import json; d = [{'k': i, 'v': [i] * 50} for i in range(3000)]; "
             "x = json.loads(json.dumps(d)); keep = [bytearray(700 + i) for i in range(300)]")
ISSUE_SCRIPT = "x=[bytes(1000+i) for i in range(2000)]"


def pyenv_python(minor):
    """A pyenv CPython 3.<minor>, or skip."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("pyenv is not installed")
    versions = os.path.join(root, "versions")
    for v in sorted(os.listdir(versions) if os.path.isdir(versions) else [], reverse=True):
        exe = os.path.join(versions, v, "bin", f"python3.{minor}")
        if v.startswith(f"3.{minor}.") and os.access(exe, os.X_OK):
            return exe
    pytest.skip(f"no pyenv CPython 3.{minor}")


ADDR_NO_RANDOMIZE = 0x0040000  # personality(2) flag, as setarch -R sets it


def fixed_layout():
    """preexec_fn: this process and what it executes (heaptrack's target,
    leakbpf's command) get the same addresses in every run."""
    libc = ctypes.CDLL(None, use_errno=True)
    persona = libc.personality(0xffffffff)
    if persona == -1 or libc.personality(persona | ADDR_NO_RANDOMIZE) == -1:
        raise OSError(ctypes.get_errno(), "personality(ADDR_NO_RANDOMIZE)")


def heaptrack_outstanding(argv, tmp_path, min_size=0, env=None):
    """(bytes, blocks) heaptrack counts outstanding at exit, exactly: its
    data file records every allocation ('a' lines: size and trace, numbered
    in order) and every call to one ('+ INDEX') or free of one ('- INDEX')."""
    for tool in ("heaptrack", "zstdcat"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing (scripts/deps.sh installs heaptrack and zstd)",
                        pytrace=False)
    out = tmp_path / "ht"
    r = subprocess.run(["heaptrack", "-o", str(out)] + argv, capture_output=True, text=True,
                       timeout=300, env=env, preexec_fn=fixed_layout)
    assert r.returncode == 0, r.stdout + r.stderr
    data = [p for p in tmp_path.iterdir() if p.name.startswith("ht.")]
    assert len(data) == 1, data
    raw = subprocess.run(["zstdcat", str(data[0])], capture_output=True, check=True,
                         timeout=300).stdout.decode(errors="replace")
    sizes, nbytes, nblocks = [], 0, 0
    for line in raw.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "a":
            sizes.append(int(w[1], 16))
        elif w[0] in "+-" and len(w) == 2:
            size = sizes[int(w[1], 16)]
            if size >= min_size:
                sign = 1 if w[0] == "+" else -1
                nbytes += sign * size
                nblocks += sign
    return nbytes, nblocks


def leakbpf_outstanding(argv, tmp_path, extra=(), env=None):
    js = tmp_path / "r.json"
    res = run_leakbpf(["-q", "--json", js] + list(extra) + ["--"] + argv, timeout=300, env=env,
                      preexec_fn=fixed_layout)
    assert res.returncode == 0, res.stderr
    rep = json.load(open(js))
    assert_sane(rep)
    assert rep["target_exited"] is True
    return rep, (rep["totals"]["outstanding_bytes"], rep["totals"]["outstanding_count"])


def fixed_hash_env():
    """Python's str hashes fixed, so that both runs make the same dicts."""
    return dict(os.environ, PYTHONHASHSEED="0")


NATIVE = [
    ["sort", "/etc/services"],
    [cprog("leak_basic"), "--now"],
]


@pytest.mark.parametrize("argv", NATIVE, ids=lambda a: os.path.basename(a[0]))
def test_native_exit_bytes_equal_heaptrack(argv, tmp_path):
    theirs = heaptrack_outstanding(argv, tmp_path)
    rep, ours = leakbpf_outstanding(argv, tmp_path)
    assert_no_drops(rep)
    assert ours == theirs, f"leakbpf {ours} vs heaptrack {theirs}"


def test_cxx_exit_bytes_equal_heaptrack(tmp_path):
    argv = [cprog("cxx_service_fp"), "--now", "8"]
    theirs = heaptrack_outstanding(argv, tmp_path)
    rep, ours = leakbpf_outstanding(argv, tmp_path)
    # the one block heaptrack frees itself at exit: libstdc++'s emergency
    # exception pool, allocated before main by libstdc++'s own constructor
    pools = [s for s in rep["stacks"] if s["outstanding_count"]
             and not any(f.get("function") == "main" for f in s["frames"])]
    assert len(pools) == 1 and pools[0]["outstanding_count"] == 1, pools
    pool = pools[0]["outstanding_bytes"]
    assert ours == (theirs[0] + pool, theirs[1] + 1), f"leakbpf {ours} vs heaptrack {theirs}"


def python_cases():
    return [
        ("debian-3.11", lambda: "/usr/bin/python3.11", "objects"),
        ("pyenv-3.8", lambda: pyenv_python(8), "objects"),
        ("pyenv-3.8", lambda: pyenv_python(8), "all"),
        ("pyenv-3.10", lambda: pyenv_python(10), "objects"),
        ("pyenv-3.12", lambda: pyenv_python(12), "objects"),
        ("pyenv-3.12", lambda: pyenv_python(12), "all"),
    ]


@pytest.mark.parametrize("name,python,mode", python_cases(),
                         ids=[f"{c[0]}-{c[2]}" for c in python_cases()])
@pytest.mark.parametrize("script", [ISSUE_SCRIPT, PY_SCRIPT], ids=["issue", "json"])
def test_python_exit_bytes_equal_heaptrack(name, python, mode, script, tmp_path):
    """Blocks above 512 bytes left at exit (see the module docstring): the
    same as heaptrack's, in both allocator modes. The issue's one-liner
    counted 9.4 KB on Debian's python3.11 where heaptrack counts 400,065."""
    argv = [python(), "-c", script]
    env = fixed_hash_env()
    theirs = heaptrack_outstanding(argv, tmp_path, min_size=513, env=env)
    rep, ours = leakbpf_outstanding(argv, tmp_path, ["--py-alloc", mode, "-z", "513"], env=env)
    assert rep["python"], "Python support must be on"
    assert_no_drops(rep)
    assert ours == theirs, f"leakbpf {ours} vs heaptrack {theirs}"


def test_issue_example_all_sizes(tmp_path):
    """The issue's example on Debian's python3.11, Python mode, every size:
    it counted 9.4 KB where heaptrack counts 400,065 bytes. Nothing of it
    is a pymalloc block at exit (measured), so all of it compares."""
    argv = ["/usr/bin/python3.11", "-c", ISSUE_SCRIPT]
    env = fixed_hash_env()
    theirs = heaptrack_outstanding(argv, tmp_path, env=env)
    rep, ours = leakbpf_outstanding(argv, tmp_path, env=env)
    assert rep["python"]
    assert_no_drops(rep)
    assert ours == theirs, f"leakbpf {ours} vs heaptrack {theirs}"
    assert ours[0] > 384 * 1024


def test_signal_handler_allocations():
    """A 100 us SIGALRM handler mallocs a block per signal (20,000) while
    main mallocs and frees in a loop: thousands of the handler's mallocs
    interrupt a probed malloc. Every block is counted, under a stack that
    holds the handler, and nothing else is left outstanding."""
    tr = trace_target([cprog("signal_malloc"), "20000"], ["-o", "0"], duration=20)
    rep = tr.report
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(rep)
    assert_no_drops(rep)
    n, nbytes = tr.leaks["on_alarm"]
    assert n == 20000
    assert outstanding(rep, "on_alarm") == (nbytes, n)
    assert rep["totals"]["outstanding_count"] == n, \
        "main frees every block it allocates: only the handler's are outstanding"
    # the handler's blocks made while it interrupted main's malloc carry
    # main's stack under the handler: main -> main_loop -> on_alarm
    nested = [s for s in stack_with(rep, "on_alarm")
              if any(f.get("function") == "main_loop" for f in s["frames"])]
    assert sum(s["outstanding_count"] for s in nested) > 0, \
        "no handler block was made inside a probed malloc: raise the timer rate"
    for s in nested:
        names = [f.get("function") for f in s["frames"]]
        assert names.index("main_loop") < names.index("on_alarm"), names
