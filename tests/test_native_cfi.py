"""Complete native stacks on code built without frame pointers: the BPF
walk unwinds with the DWARF call-frame information of every module
(bpf/cfi.bpf.h, user/unwind/).

Programs of tests/c/cfi/ are built at -O2 twice (tests/Makefile), without
frame pointers (_nofp) and with them (_fp); each leaking stack must hold
every function of its call chain, in order, from the leaking function up
to main (or the thread's start), and end at a root frame. Real Debian
programs, a library loaded after attach, signal handlers, a thread pool
and a C extension under Debian's python3.11 complete the picture."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from checks import assert_exact, assert_no_drops, assert_sane
from lbtest import (LEAKBPF, ROOTS, Leakbpf, cprog, describe, folded_stacks, go, load_json,
                    stack_with, start_target, trace_target, wait_done, wait_line, wait_ready)

BUILDS = ["nofp", "fp"]
DEBIAN_PY = "/usr/bin/python3.11"


def names(stack):
    """Function names of a stack, root first, version suffixes dropped."""
    return [(f.get("function") or "").split("@")[0] for f in stack["frames"]]


def modules(stack):
    return [os.path.basename(f.get("module") or "") for f in stack["frames"]]


def the_stack(rep, fn):
    st = stack_with(rep, fn)
    assert len(st) == 1, f"expected one stack through {fn}:\n{describe(rep)}"
    return st[0]


def assert_chain(stack, chain):
    """The stack ends with exactly `chain` (leaf last), nothing missing
    between its functions."""
    got = names(stack)
    assert got[-len(chain):] == chain, f"expected ...{chain}, got {got}"


def traced(program):
    """Trace a tests/c/cfi program: its report, checked for sanity and the
    exact bytes it says it leaks."""
    tr = trace_target([cprog(program)])
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(tr.report, pid=tr.target.pid)
    assert_no_drops(tr.report)
    assert_exact(tr.report, tr.leaks, tr.clean)
    return tr.report


@pytest.mark.parametrize("build", BUILDS)
def test_exact_chain_through_every_frame_shape(build):
    """-O2 chain with a VLA (%rbp-based CFA), a 40 KB frame, a realigned
    stack (DRAP), libc's qsort in the middle and strdup as the leaf."""
    rep = traced(f"cfi_chain_{build}")
    st = the_stack(rep, "leaf_alloc")
    assert_chain(st, ["compare_and_leak", "in_realigned", "in_big_frame", "in_vla", "leaf_alloc"])
    got, mods = names(st), modules(st)
    i, j = got.index("through_qsort"), got.index("compare_and_leak")
    assert got[i - 1] == "main" and j > i + 1, got
    assert all(m == "libc.so.6" for m in mods[i + 1:j]), \
        f"between through_qsort and its callback only libc's qsort frames: {got} {mods}"
    assert got[0] == "_start" and "__libc_start_call_main" in got, got
    st = the_stack(rep, "leak_strdup")
    assert_chain(st, ["main", "leak_strdup", "strdup"])
    assert names(st)[0] == "_start"


@pytest.mark.parametrize("build", BUILDS)
def test_leaks_from_signal_handlers(build):
    """Through the kernel's signal frame into the interrupted function, on
    the thread's stack and on an alternate signal stack."""
    rep = traced(f"cfi_signal_{build}")
    for handler in ("on_signal", "on_signal_altstack"):
        st = the_stack(rep, handler)
        got, mods = names(st), modules(st)
        assert got[-2:] == [handler, "leak_in_handler"], got
        k = got.index(handler)
        # the handler's return address is glibc's __restore_rt
        assert mods[k - 1] == "libc.so.6", f"no signal trampoline frame: {got} {mods}"
        assert got[k - 4:k - 1] == ["main", "take_signal", "spin_until_signalled"], got
        assert got[0] == "_start", got


@pytest.mark.parametrize("build", BUILDS)
def test_thread_pool_stacks_end_at_the_thread_root(build):
    rep = traced(f"cfi_pool_{build}")
    st = the_stack(rep, "task_leak")
    assert names(st) == ["clone3", "start_thread", "worker_main", "run_task", "task_leak"], \
        names(st)


@pytest.mark.parametrize("build", BUILDS)
def test_unknown_code_stops_the_walk_and_says_so(build):
    """Code in an anonymous mapping (JIT) and a function without CFI: the
    stack keeps what was found, ends there, and names why at its root."""
    rep = traced(f"cfi_jit_{build}")
    st = the_stack(rep, "leak_from_jit")
    got = names(st)
    assert got[0] == "[unwinding stopped at JIT or anonymous code]", got
    assert len(got) == 3 and got[2] == "leak_from_jit", got
    assert st["frames"][1]["module"] is None and st["frames"][1]["text"].startswith("0x"), \
        st["frames"]
    st = the_stack(rep, "leak_from_nocfi")
    assert names(st) == ["[unwinding stopped: no unwind rule, or the stack is unreadable]",
                         "nocfi_trampoline", "leak_from_nocfi"], names(st)


def test_caller_past_a_guard_page_is_found():
    """strdup at the top of a coroutine stack with a guard page right above
    (tests/c/stack_cut.c): the frame-pointer repair loses the caller there
    (test_stack_errors.py); the CFI walk does not, and the stack then ends
    at the coroutine's entry, which has no unwind rule, saying so."""
    rep = traced("stack_cut")
    st = the_stack(rep, "co_strdup")
    got = names(st)
    assert got[-2:] == ["co_strdup", "strdup"], got
    assert got[0] == "[unwinding stopped: no unwind rule, or the stack is unreadable]", got


@pytest.mark.parametrize("build", BUILDS)
def test_library_loaded_after_attach(build, tmp_path):
    """The target dlopens a library after leakbpf attached: leakbpf builds
    its table (said with -v); the library's leaks then have complete stacks."""
    plugin = cprog(f"libcfi_plugin_{build}.so")
    t = start_target([cprog(f"cfi_dlopen_{build}"), plugin])
    wait_ready(t)
    out = tmp_path / "report.json"
    lb = Leakbpf(["-p", t.pid, "-v", "-q", "-d", "60", "--json", out])
    lb.wait_tracing()
    go(t)
    wait_line(t, "loaded")
    # the library's table, then the totals line leakbpf prints once the
    # ranges naming it are in the BPF map
    end = time.monotonic() + 30
    want = re.compile(r"unwind table for .*libcfi_plugin_" + build + r"[^\n]*\n(.*\n)*"
                      r"leakbpf: unwind tables: ")
    while not want.search(lb.stderr) and time.monotonic() < end and lb.proc.poll() is None:
        time.sleep(0.05)
    assert want.search(lb.stderr), f"no unwind table for the library:\n{lb.stderr}"
    go(t)
    lines = wait_done(t)
    lb.signal(signal.SIGINT)
    res = lb.wait()
    assert res.returncode == 0, res.stderr
    rep = load_json(out)
    assert_sane(rep, pid=t.pid)
    leaks = {"plugin_alloc": (5, 5 * 136)}
    assert any(l.startswith("leak plugin_alloc 5 680") for l in lines), lines
    assert_exact(rep, leaks, set())
    st = the_stack(rep, "plugin_alloc")
    assert_chain(st, ["main", "call_plugin", "plugin_run", "plugin_work", "plugin_alloc"])
    assert names(st)[0] == "_start", names(st)


@pytest.mark.parametrize("cmd", ["sort /etc/services", "sqlite3 :memory: 'select 1'",
                                 f"{DEBIAN_PY} -c pass", "xz -9 -c /etc/services"])
def test_real_programs_reach_a_root(cmd, tmp_path):
    """Debian's own binaries (no frame pointers): every outstanding byte's
    stack reaches a process or thread root."""
    prog = cmd.split()[0]
    if not shutil.which(prog):
        pytest.fail(f"{prog} is not installed: scripts/deps.sh installs it")
    folded = tmp_path / "out.folded"
    # the command's own output (xz's is binary) is not looked at
    res = subprocess.run([str(LEAKBPF), "--no-python", "-q", "--folded", str(folded), "-c", cmd],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    total = rooted = 0
    unrooted = []
    for frames, n in folded_stacks(folded):
        total += n
        if ROOTS & set(frames):
            rooted += n
        else:
            unrooted.append(";".join(frames))
    assert total > 0, "no outstanding bytes at all"
    assert rooted == total, f"{total - rooted} of {total} bytes without a root:\n" + \
        "\n".join(unrooted[:5])


@pytest.fixture(scope="module")
def cfi_ext(tmp_path_factory):
    """The C extension, compiled without frame pointers for python3.11."""
    if not os.path.exists(DEBIAN_PY):
        pytest.fail(f"{DEBIAN_PY} is missing: scripts/deps.sh installs it")
    d = tmp_path_factory.mktemp("ext")
    inc = subprocess.run([DEBIAN_PY, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    suffix = subprocess.run([DEBIAN_PY, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    src = os.path.join(os.path.dirname(__file__), "py", "cfi_ext.c")
    subprocess.run(["gcc", "-O2", "-g", "-fomit-frame-pointer", "-shared", "-fPIC",
                    f"-I{inc}", src, "-o", str(d / f"cfi_ext{suffix}")], check=True)
    return d


def test_python_extension_without_frame_pointers(cfi_ext):
    """Debian's python3.11 (no frame pointers either) calling a C extension
    built without them: the extension's three native frames are all below
    the Python frames."""
    driver = os.path.join(os.path.dirname(__file__), "py", "cfi_ext_driver.py")
    tr = trace_target([DEBIAN_PY, driver, cfi_ext, "20", "4000"], duration=3)
    assert tr.result.returncode == 0, tr.result.stderr
    rep = tr.report
    assert_sane(rep, pid=tr.target.pid)
    st = stack_with(rep, "ext_alloc")
    assert st, describe(rep)
    assert sum(s["outstanding_bytes"] for s in st) == 20 * 4000, describe(rep)
    for s in st:
        got = names(s)
        kinds = [f["kind"] for f in s["frames"]]
        assert got[-3:] == ["ext_leak", "ext_work", "ext_alloc"], got
        py = [n for n, k in zip(got, kinds) if k == "python"]
        assert py[-2:] == ["handle_request", "leak_through_extension"], got
        assert kinds[-3:] == ["native"] * 3 and kinds.index("native") == len(got) - 3, \
            f"the extension's frames come right below the Python frames: {list(zip(got, kinds))}"
