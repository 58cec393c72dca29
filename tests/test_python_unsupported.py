"""CPython builds leakbpf cannot walk: one warning, native-only tracing.

Real interpreters only:
- Debian's debug build (package python3.11-dbg, installed by scripts/deps.sh):
  /usr/bin/python3.11d, libpython linked in, and libpython3.11d.so through a
  small embedding program built here;
- a free-threaded CPython 3.13t when one exists: $LEAKBPF_TEST_FT_PYTHON,
  /tmp/py313t/bin/python3.13t or python3.13t on PATH. Debian 12 ships none,
  so without one these tests are skipped (and reported as skipped).
3.6 and 3.7 are covered by test_python_core.py's
test_unsupported_version_traces_native_only.

Each test checks that the target runs as it would untraced (its output, its
exit status), that leakbpf prints exactly one warning naming the reason and
exits 0, that no stack has a Python frame, and that native leaks (libc
malloc called through ctypes, large bytearrays) are still reported.
"""
import os
import shutil
import subprocess

import pytest

import lbtest

DEBUG_PY = "/usr/bin/python3.11d"
DEBUG_REASON = "debug build"
FT_REASON = "free-threaded build"

MALLOCS, MALLOC_SIZE = 300, 7777
ARRAYS, ARRAY_SIZE = 100, 100000

# Run as `python TARGET wait STATUS` (handshake for -p: "ready PID", a byte,
# the leaks, "done ...", a byte, exit) or `python TARGET run STATUS` (-c).
TARGET_SRC = f"""
import ctypes, os, sys

KEEP = []


def py_leak_mallocs(libc):
    for _ in range({MALLOCS}):
        KEEP.append(libc.malloc({MALLOC_SIZE}))


def py_leak_arrays():
    for _ in range({ARRAYS}):
        KEEP.append(bytearray({ARRAY_SIZE}))


def main():
    mode, status = sys.argv[1], int(sys.argv[2])
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    if mode == "wait":
        print("ready %d" % os.getpid(), flush=True)
        sys.stdin.read(1)
    py_leak_mallocs(libc)
    py_leak_arrays()
    print("done mallocs=%d arrays=%d" % (len(KEEP) - {ARRAYS}, {ARRAYS}), flush=True)
    print("target stderr line", file=sys.stderr, flush=True)
    if mode == "wait":
        sys.stdin.read(1)
    sys.exit(status)


main()
"""

# Runs argv[1] as Python code in an interpreter from libpython3.11d.so.
EMBED_SRC = r"""
#include <Python.h>
int main(int argc, char **argv)
{
	Py_Initialize();
	int rc = PyRun_SimpleString(argc > 1 ? argv[1] : "pass");
	Py_Finalize();
	return rc ? 1 : 0;
}
"""

# Functions of TARGET_SRC: never in a report, whatever the build.
PY_FUNCTIONS = {"py_leak_mallocs", "py_leak_arrays", "main", "<module>"}


def _ft_python():
    env = os.environ.get("LEAKBPF_TEST_FT_PYTHON")
    if env:
        return env
    if os.access("/tmp/py313t/bin/python3.13t", os.X_OK):
        return "/tmp/py313t/bin/python3.13t"
    return shutil.which("python3.13t")


def _debug_python():
    if not os.access(DEBUG_PY, os.X_OK):
        pytest.fail(f"{DEBUG_PY} is missing: install python3.11-dbg (scripts/deps.sh does)",
                    pytrace=False)
    return DEBUG_PY


def _free_threaded_python():
    exe = _ft_python()
    if not exe:
        pytest.skip("no free-threaded CPython (set LEAKBPF_TEST_FT_PYTHON, or build one with "
                    "./configure --disable-gil --prefix=/tmp/py313t); Debian 12 has none")
    r = subprocess.run([exe, "-c", "import sys; print(sys._is_gil_enabled())"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "False", \
        f"{exe} is not a free-threaded CPython: {r.stdout}{r.stderr}"
    return exe


BUILDS = {"debug": (_debug_python, DEBUG_REASON), "free-threaded": (_free_threaded_python,
                                                                      FT_REASON)}


@pytest.fixture(params=sorted(BUILDS))
def build(request):
    """(interpreter path, word the warning must use, build name)."""
    find, reason = BUILDS[request.param]
    return find(), reason, request.param


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "unsup_target.py"
    path.write_text(TARGET_SRC)
    return path


def the_warning(stderr):
    """The one warning line of leakbpf's stderr (asserts there is exactly one)."""
    warns = [line for line in stderr.splitlines() if "warning" in line]
    assert len(warns) == 1, f"expected one warning line, got {warns}\n{stderr}"
    return warns[0]


def check_warning(stderr, label, reason):
    w = the_warning(stderr)
    assert w.startswith("leakbpf: warning: CPython 3."), w
    assert f" in {label}: " in w and reason in w, w
    assert w.endswith("no Python frames; tracing native allocations only"), w


def check_native_only(rep):
    """No Python frame and no Python function anywhere; a report was made."""
    assert rep is not None, "no JSON report"
    assert not rep.get("python"), rep.get("python")
    assert rep["stacks"], lbtest.describe(rep)
    for s in rep["stacks"]:
        assert s["frames"], s
        for f in s["frames"]:
            assert f.get("kind") == "native", f
            fn = f.get("function") or ""
            # complete native stacks (CFI) reach the interpreter's own C
            # main(): a name of the script's only in C code is no Python frame
            py_name = fn in PY_FUNCTIONS and not (f.get("file") or "").endswith(".c")
            assert not py_name and "python frame" not in fn, f
            # a walk through code without frame pointers must not end in
            # data read as addresses (was: "/python3" as 0x336e6f687479702f)
            text = f.get("text") or ""
            if not f.get("module") and text.startswith("0x"):
                assert 0x1000 <= int(text, 16) < 0x800000000000, f


def libffi_leak(rep):
    """(bytes, blocks) outstanding in stacks whose leaf is libffi: the
    target's ctypes calls of libc malloc."""
    st = [s for s in rep["stacks"]
          if s.get("outstanding_count") and "libffi" in (s["frames"][-1].get("module") or "")]
    return sum(s["outstanding_bytes"] for s in st), sum(s["outstanding_count"] for s in st)


def check_mallocs_seen(rep, n):
    """Every one of the n ctypes mallocs is outstanding, at its size."""
    nbytes, count = libffi_leak(rep)
    assert count == n and nbytes == n * MALLOC_SIZE, \
        f"{count} blocks, {nbytes} bytes under libffi for {n} mallocs of {MALLOC_SIZE}\n" + \
        lbtest.describe(rep)


def attach_to(argv, label, reason):
    """Start argv (TARGET_SRC in "wait" mode, exit status 3), attach leakbpf
    -p, let the target leak while traced, then let it exit after leakbpf did.
    Returns (report, warning line)."""
    t = lbtest.start_target(argv, stderr=subprocess.PIPE)
    lbtest.wait_ready(t)
    lines = []
    res, rep = lbtest.attach(t.pid, ["-o", "0"], duration=3,
                             trigger=lambda: lines.extend(lbtest.go_and_wait(t)))
    assert res.returncode == 0, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    check_warning(res.stderr, label, reason)
    # the target was not disturbed: it goes on and exits as it would
    lbtest.go(t)
    assert t.wait(60) == 3
    assert [line.split()[0] for line in t.lb_lines] == ["ready", "done"], t.lb_lines
    assert lines[-1].strip() == f"done mallocs={MALLOCS} arrays={ARRAYS}", lines
    assert t.stderr.read() == "target stderr line\n"
    check_native_only(rep)
    check_mallocs_seen(rep, MALLOCS)
    return rep, the_warning(res.stderr)


def test_attach_warns_once_and_traces_native(build, target):
    exe, reason, name = build
    rep, warning = attach_to([exe, target, "wait", "3"], exe, reason)
    big = sum(s["outstanding_bytes"] for s in rep["stacks"]
              if s.get("outstanding_count") and s["frames"][-1].get("module") == exe)
    if name == "debug":
        # PyObject_Malloc sends blocks above 512 bytes to libc malloc
        assert big >= ARRAYS * ARRAY_SIZE, lbtest.describe(rep)
    else:
        # 3.13t takes object memory from its built-in mimalloc (mmap): not
        # seen, as the warning says.
        assert "mimalloc" in warning, warning
        assert big < ARRAYS * ARRAY_SIZE / 10, lbtest.describe(rep)


def test_command_output_and_status_unchanged(build, target):
    exe, reason, _ = build
    argv = [exe, str(target), "run", "7"]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 7, plain.stderr
    res, rep = lbtest.run_command(" ".join(argv))
    assert res.returncode == 7, res.stderr  # the command's status
    check_warning(res.stderr, exe, reason)
    assert res.stdout.startswith(plain.stdout), res.stdout[:500]
    assert plain.stderr in res.stderr
    assert rep["target_exited"] is True and rep["exit_status"] == 7
    check_native_only(rep)
    check_mallocs_seen(rep, MALLOCS)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A program that runs Python from libpython3.11d.so (a shared debug build)."""
    _debug_python()
    d = tmp_path_factory.mktemp("embed")
    (d / "embed.c").write_text(EMBED_SRC)
    flags = subprocess.run(["python3.11d-config", "--cflags", "--ldflags", "--embed"],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([os.environ.get("CC", "cc"), "-o", str(d / "embed"), str(d / "embed.c")]
                   + flags, check=True)
    return d / "embed"


def test_shared_debug_libpython(embedded, target):
    """The interpreter is libpython3.11d.so, found as a mapping, not the executable."""
    code = f"import sys; sys.argv = ['t', 'run', '5']; exec(open('{target}').read())"
    plain = subprocess.run([str(embedded), code], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 5, plain.stderr
    lib = next(line.split("=>")[1].split()[0] for line in
               subprocess.run(["ldd", str(embedded)], capture_output=True, text=True,
                              check=True).stdout.splitlines() if "libpython3.11d" in line)
    res, rep = lbtest.run_command(f'{embedded} "{code}"')
    assert res.returncode == 5, res.stderr  # the command's status
    check_warning(res.stderr, os.path.realpath(lib), DEBUG_REASON)
    assert res.stdout.startswith(plain.stdout)
    assert rep["exit_status"] == 5
    check_native_only(rep)
    check_mallocs_seen(rep, MALLOCS)


RENAMED = [
    # a debug build under a release build's name: refused by its symbols
    pytest.param(DEBUG_PY, "python3.11", DEBUG_REASON, id="debug-as-python3.11"),
    pytest.param(DEBUG_PY, "service", DEBUG_REASON, id="debug-as-service"),
    # a release build whose name has a suffix: "t" and "d" in it are no ABI flags
    pytest.param("/usr/bin/python3.11", "python3.11-test-dd", None, id="release-suffixed"),
    pytest.param("free-threaded", "python3.13", FT_REASON, id="ft-as-python3.13"),
]


@pytest.mark.parametrize("src,name,reason", RENAMED)
def test_renamed_interpreters(src, name, reason, tmp_path):
    """Detection does not trust file names alone."""
    if src == "free-threaded":
        src = _free_threaded_python()
    elif src == DEBUG_PY:
        src = _debug_python()
    exe = tmp_path / name
    shutil.copy2(src, exe)
    res, rep = lbtest.run_command(f"{exe} -c 'import time; time.sleep(0.3)'")
    assert res.returncode == 0, res.stderr
    assert rep["exit_status"] == 0
    if reason:
        check_warning(res.stderr, str(exe), reason)
        check_native_only(rep)
    else:
        assert "warning" not in res.stderr, res.stderr
        assert rep.get("python", "").startswith("CPython 3.11"), rep.get("python")
