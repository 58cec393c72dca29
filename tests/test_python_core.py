"""CPython support: detection, Python frames walked in BPF, frame resolution.

Every test runs real interpreters (Debian's /usr/bin/python3.11 and every
pyenv build 3.8-3.13 on the machine) under the real ./leakbpf, except the
layout and line-table checks, which compare leakbpf's C code with what each
installed interpreter says about itself (its headers, its code objects).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lbtest
from lbtest import REPO

PYDIR = REPO / "tests" / "py"
TARGET = PYDIR / "target.py"
SUPPORTED = [(3, m) for m in range(8, 14)]


def _pyenv_root():
    try:
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            return Path(r.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return Path(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))


def _version_of(exe):
    r = subprocess.run([str(exe), "-c", "import sys; print(*sys.version_info[:3])"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None
    return tuple(int(x) for x in r.stdout.split())


def _interpreters():
    """(id, path, (major, minor, micro)) of every CPython on the machine."""
    found = []
    if Path("/usr/bin/python3.11").exists():
        found.append(("debian-3.11", "/usr/bin/python3.11"))
    versions = _pyenv_root() / "versions"
    if versions.is_dir():
        for d in sorted(versions.iterdir()):
            exe = d / "bin" / "python3"
            if exe.exists():
                found.append(("pyenv-" + d.name, str(exe)))
    out = []
    for ident, exe in found:
        v = _version_of(exe)
        if v:
            out.append((ident, exe, v))
    return out


ALL = _interpreters()
SUPPORTED_PY = [p for p in ALL if p[2][:2] in SUPPORTED]
OLD_PY = [p for p in ALL if p[2][:2] < (3, 8) and p[2][0] == 3]


def params(pys):
    return [pytest.param(exe, v, id=ident) for ident, exe, v in pys]


def marked_line(marker):
    """Line number of the `# LINE:<marker>` comment in target.py."""
    for i, line in enumerate(TARGET.read_text().splitlines(), 1):
        if line.rstrip().endswith("# LINE:" + marker):
            return i
    raise AssertionError(f"no # LINE:{marker} in {TARGET}")


def trace(exe, scenario, seconds=3, duration=5, extra=()):
    """Run target.py SCENARIO under exe, attach leakbpf, let the scenario run.
    Returns (CompletedProcess, report, target's "done" line)."""
    t = lbtest.start_target([exe, str(TARGET), scenario, str(seconds)])
    lbtest.wait_ready(t)
    done = []

    def trigger():
        lbtest.go(t)
        done.extend(lbtest.wait_done(t, timeout=seconds + 60))

    res, rep = lbtest.attach(t.pid, ["-o", "500ms"] + list(extra), duration=duration,
                             trigger=trigger)
    assert res.returncode == 0, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    assert rep is not None, f"no JSON report; stderr:\n{res.stderr}"
    return res, rep, (done[-1] if done else "")


def base_name(function):
    """"scenario_ctypes.<locals>.ctypes_leak" (3.11+ qualified names) -> "ctypes_leak"."""
    return (function or "").rsplit(".", 1)[-1]


def py_frames(stack):
    """(function, file, line) of the stack's Python frames, root first; the
    function without its qualification."""
    return [(base_name(f.get("function")), f.get("file"), f.get("line"))
            for f in stack["frames"] if f.get("kind") == "python"]


def stacks_through(rep, function):
    return [s for s in rep["stacks"] if s.get("outstanding_count")
            and any(base_name(f.get("function")) == function for f in s["frames"])]


# --- layouts and line tables, checked against each installed interpreter ---


@pytest.fixture(scope="module")
def helpers(tmp_path_factory):
    """Build the small C drivers of user/python/layout.c and user/python/linetable.c."""
    d = tmp_path_factory.mktemp("pyhelpers")
    cc = os.environ.get("CC", "cc")
    for out, srcs in (("layout_table", ["tests/py/layout_table.c", "user/python/layout.c"]),
                      ("linetable_check",
                       ["tests/py/linetable_check.c", "user/python/linetable.c"])):
        subprocess.run([cc, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Iuser", "-Ibpf",
                        "-o", str(d / out)] + srcs, cwd=REPO, check=True)
    return d


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_layout_table_matches_headers(exe, version, helpers, tmp_path):
    """Every offset of leakbpf's table equals offsetof() in that version's headers."""
    inc = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if not Path(inc, "internal").is_dir():
        pytest.fail(f"{exe}: internal headers missing in {inc} (install the -dev package)")
    prog = tmp_path / "layout_headers"
    subprocess.run([os.environ.get("CC", "cc"), "-w", f"-I{inc}", f"-I{inc}/internal",
                    "-o", str(prog), str(PYDIR / "layout_headers.c")], check=True)
    want = subprocess.run([str(prog)], capture_output=True, text=True, check=True).stdout
    got = subprocess.run([str(helpers / "layout_table"), str(version[1])], capture_output=True,
                         text=True, check=True).stdout
    assert got == want


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_line_tables_decode_like_cpython(exe, version, helpers):
    """The decoder gives the line CPython itself gives (co_lines / lnotab) for
    every instruction of ~500 code objects of the stdlib."""
    cases = subprocess.run([exe, str(PYDIR / "linetable_cases.py")], capture_output=True,
                           text=True, check=True).stdout
    inp, _, expected = cases.partition("---\n")
    got = subprocess.run([str(helpers / "linetable_check")], input=inp, capture_output=True,
                         text=True, check=True).stdout
    exp_lines, got_lines = expected.splitlines(), got.splitlines()
    assert len(got_lines) == len(exp_lines) > 100
    bad = [i for i, (g, e) in enumerate(zip(got_lines, exp_lines)) if g != e]
    assert not bad, f"{len(bad)} code objects decoded differently, first: {inp.splitlines()[bad[0]][:200]}"


# --- frames from BPF, end to end ---


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_leak_is_attributed_to_python_line(exe, version):
    res, rep, _ = trace(exe, "leak")
    ver = "%d.%d" % version[:2]
    assert rep.get("python") and f"CPython {ver}" in rep["python"], rep.get("python")
    assert "warning" not in res.stderr, res.stderr
    line = marked_line("leak")
    through = stacks_through(rep, "leak_here")
    assert through, lbtest.describe(rep)
    total = sum(s["outstanding_bytes"] for s in rep["stacks"])
    leaked = sum(s["outstanding_bytes"] for s in through)
    # 40 x 4 KiB every 20 ms: the leak is most of what is outstanding
    assert leaked > 0.8 * total, lbtest.describe(rep)
    top = rep["stacks"][0]
    frames = py_frames(top)
    assert ("leak_here", str(TARGET), line) in frames, frames
    names = [f[0] for f in frames]
    # root first: <module> ... scenario_leak, leak_here (innermost last)
    assert names.index("scenario_leak") < names.index("leak_here"), names
    assert names[0] == "<module>", names


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_ctypes_malloc_with_gil_released(exe, version):
    """libc malloc called through ctypes (GIL released, another thread
    spinning on the GIL) still carries the calling thread's Python frames."""
    _, rep, done = trace(exe, "ctypes")
    n = int(re.search(r"mallocs=(\d+)", done).group(1))
    through = stacks_through(rep, "ctypes_leak")
    leaked = sum(s["outstanding_bytes"] for s in through)
    assert n > 50 and leaked >= 0.8 * n * 3000, \
        f"{leaked} bytes under ctypes_leak for {n} mallocs of 3000\n" + lbtest.describe(rep)
    line = marked_line("ctypes")
    heaviest = max(through, key=lambda s: s["outstanding_bytes"])
    assert ("ctypes_leak", str(TARGET), line) in py_frames(heaviest)


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_threads_get_their_own_frames(exe, version):
    """Three threads leak different sizes in different functions: every
    stack through thread_leak_X holds only blocks of X's size."""
    _, rep, _ = trace(exe, "threads")
    sizes = {"thread_leak_a": 5001, "thread_leak_b": 7001, "thread_leak_c": 9001}
    for fn, size in sizes.items():
        through = stacks_through(rep, fn)
        assert through, f"no stack through {fn}\n" + lbtest.describe(rep)
        big = sum(s["outstanding_bytes"] // size for s in through)
        assert big >= 100, f"{fn}: {big} blocks\n" + lbtest.describe(rep)
        for s in through:
            others = [f for f in sizes if f != fn and any(base_name(x.get("function")) == f
                                                          for x in s["frames"])]
            assert not others, f"stack through {fn} and {others}"
            # bytearray(size - 1) = one block of `size` bytes (+ small object headers)
            blocks = s["outstanding_bytes"] // size
            rest = s["outstanding_bytes"] - blocks * size
            assert blocks >= 1 and rest <= 128 * s["outstanding_count"], \
                f"{fn}: {s['outstanding_bytes']} bytes in {s['outstanding_count']} blocks"


@pytest.mark.parametrize("exe,version", params(SUPPORTED_PY))
def test_code_address_reuse_does_not_mislabel(exe, version):
    """exec-generated functions that differ only by name and allocation size
    are created and dropped in a loop: their code objects reuse addresses.
    A frame must never carry the name of another function: the bytes under
    gen_I are always multiples of gen_I's own size."""
    _, rep, done = trace(exe, "reuse", seconds=3)
    m = re.search(r"rounds=(\d+) code_addresses=(\d+)", done)
    rounds, addrs = int(m.group(1)), int(m.group(2))
    assert addrs < rounds, f"no code address was reused ({done})"
    checked = 0
    for s in rep["stacks"]:
        gens = [f["function"] for f in s["frames"] if (f.get("function") or "").startswith("gen_")]
        if not gens or not s.get("outstanding_count"):
            continue
        i = int(gens[-1][4:])
        size = 100000 + 1000 * (i % 50) + 1
        blocks = s["outstanding_bytes"] // size
        rest = s["outstanding_bytes"] - blocks * size
        assert blocks >= 1 and rest <= 128 * s["outstanding_count"], \
            f"gen_{i}: {s['outstanding_bytes']} bytes in {s['outstanding_count']} blocks"
        checked += blocks
    assert checked >= 100, f"only {checked} generated blocks attributed\n" + lbtest.describe(rep)


# --- builds leakbpf cannot walk: a warning, native stacks, no crash ---


@pytest.mark.parametrize("exe,version", params(OLD_PY))
def test_unsupported_version_traces_native_only(exe, version):
    res, rep, _ = trace(exe, "leak")
    ver = "%d.%d" % version[:2]
    assert "warning" in res.stderr and "no Python frames" in res.stderr, res.stderr
    assert rep.get("python") in (None, ""), rep.get("python")
    # native tracing still works: the 4 KiB buffers are seen
    assert rep["counts"]["allocs"] > 100, lbtest.describe(rep)
    assert not any(base_name(f.get("function")) == "leak_here"
                   for s in rep["stacks"] for f in s["frames"])
    if version >= (3, 7):
        assert f"CPython {ver}" in res.stderr, res.stderr

