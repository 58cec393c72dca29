"""The target executes a new program (issue 10, item 9).

Under -p: a C program leaks, then executes python3.11 running a leaker.
leakbpf notices the exec (a raw BPF tracepoint: no tracefs needed), says so, and starts over for
the new program: the old image's blocks are gone from the numbers, the new
program's allocators are probed and its Python frames are on. Under -c the
command is held at each exec until the new program is traced (pyenv's
shims are bash scripts that execute python in the end).
"""

import os
import signal
import subprocess
import time

import pytest

from checks import assert_sane
from lbtest import (LEAKBPF, Leakbpf, cprog, describe, go, load_json, outstanding,
                    stack_with, start_target, wait_line, wait_ready)
from test_nested_calls import pyenv_python

# Prints "py-ready", waits for a line, leaks 50 blocks of 5000 bytes in
# leak_after_exec, prints "py-done", waits for stdin to close and exits
# without CPython's finalization (which would free the blocks).
PY_LEAKER = ("import os, sys\n"
             "KEEP = []\n"
             "def leak_after_exec():\n"
             "    for _ in range(50):\n"
             "        KEEP.append(bytearray(5000))\n"
             "print('py-ready', flush=True)\n"
             "sys.stdin.readline()\n"
             "leak_after_exec()\n"
             "print('py-done', flush=True)\n"
             "sys.stdin.read()\n"
             "os._exit(0)\n")
# Leaks the same at once and exits with status 3, blocks kept.
PY_LEAK_NOW = ("import os\n"
               "KEEP = []\n"
               "def leak_after_exec():\n"
               "    for _ in range(50):\n"
               "        KEEP.append(bytearray(5000))\n"
               "leak_after_exec()\n"
               "os._exit(3)\n")


def wait_stderr(lb, text, count=1, timeout=60):
    end = time.monotonic() + timeout
    while lb.stderr.count(text) < count:
        assert lb.proc.poll() is None, f"leakbpf exited: {lb.stderr}"
        assert time.monotonic() < end, f"no {text!r} x{count} from leakbpf: {lb.stderr}"
        time.sleep(0.05)


@pytest.mark.parametrize("python", ["debian", "pyenv-3.12"])
def test_exec_under_pid(python, tmp_path):
    exe = "/usr/bin/python3.11" if python == "debian" else pyenv_python(12)
    t = start_target([cprog("exec_after"), exe, "-c", PY_LEAKER])
    wait_ready(t)
    js = tmp_path / "r.json"
    lb = Leakbpf(["-p", t.pid, "-d", "60", "-q", "--json", js])
    lb.wait_tracing()
    go(t)
    wait_line(t, "py-ready")
    # the new program is traced (with Python frames) before it leaks
    wait_stderr(lb, "leakbpf: tracing pid", 2)
    assert "executed" in lb.stderr and "tracing starts over" in lb.stderr, lb.stderr
    t.stdin.write("go\n")
    t.stdin.flush()
    wait_line(t, "py-done")
    # the report while it lives: Python names are read from its memory
    lb.signal(signal.SIGINT)
    res = lb.wait(60)
    assert res.returncode == 0, res.stderr
    rep = load_json(js)
    assert_sane(rep, pid=t.pid)
    assert rep["execs"] == 1
    assert rep["python"] and "CPython" in rep["python"], rep["python"]
    # the old image's leak went with it
    assert not stack_with(rep, "leak_before_exec"), "blocks of the old program are counted"
    # bytearray(5000) holds 5001 bytes
    assert outstanding(rep, "leak_after_exec") == (50 * 5001, 50), describe(rep)


# leakbpf in a mount namespace of its own, with tracefs mounted there or
# not (hosts without systemd have none): the exec is seen either way (a
# raw tracepoint); code mappings through the mmap tracepoints only with it.
TRACEFS = {
    "tracefs": "umount -l /sys/kernel/tracing 2>/dev/null; "
               "mount -t tracefs nodev /sys/kernel/tracing || exit 99; exec \"$@\"",
    "no-tracefs": "umount -l /sys/kernel/tracing 2>/dev/null; exec \"$@\"",
}


@pytest.mark.parametrize("tracefs", sorted(TRACEFS))
def test_exec_under_command_holds_it(tracefs, tmp_path):
    """sh executes python3.11: held at exec, so the new program is traced
    from its first allocation, with Python frames; exit status passed."""
    path = tmp_path / "leaker.py"
    path.write_text(PY_LEAK_NOW)
    js = tmp_path / "r.json"
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          TRACEFS[tracefs], "sh", str(LEAKBPF), "-v", "--json", str(js), "--",
                          "sh", "-c", f"exec /usr/bin/python3.11 {path}"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, res.stderr
    assert ("tracefs is not mounted" in res.stderr) == (tracefs == "no-tracefs"), res.stderr
    rep = load_json(js)
    assert_sane(rep)
    assert rep["execs"] == 1 and rep["python"], (rep["execs"], rep["python"])
    assert outstanding(rep, "leak_after_exec") == (50 * 5001, 50), describe(rep)


def test_pyenv_shim_gets_python_frames(tmp_path):
    """A pyenv shim is a bash script that executes pyenv, env, bash... and
    in the end python: every exec is followed, the last program gets its
    Python frames."""
    exe = pyenv_python(12)
    version = os.path.basename(os.path.dirname(os.path.dirname(exe)))
    shim = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(exe)))),
                        "shims", "python3.12")
    if not os.access(shim, os.X_OK):
        pytest.skip("no pyenv shim for python3.12")
    path = tmp_path / "leaker.py"
    path.write_text(PY_LEAK_NOW)
    js = tmp_path / "r.json"
    res = subprocess.run([str(LEAKBPF), "-q", "--json", str(js), "--", shim, str(path)],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYENV_VERSION=version))
    assert res.returncode == 3, res.stderr
    rep = load_json(js)
    assert rep["execs"] >= 2, res.stderr
    assert rep["python"] and rep["python"].startswith("CPython 3.12"), rep["python"]
    assert outstanding(rep, "leak_after_exec") == (50 * 5001, 50), describe(rep)
