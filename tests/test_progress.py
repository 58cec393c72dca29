"""Progress feedback: on a terminal leakbpf says what it is doing while it
attaches and keeps one live status line (events/s, outstanding bytes, drops);
when stderr is not a terminal it prints neither."""

import os
import pty
import select
import subprocess
import time

from lbtest import LEAKBPF, cprog, run_leakbpf, start_target, wait_ready


def run_on_pty(args, seconds):
    """Run leakbpf with stdout and stderr on a pseudo-terminal; return all it wrote."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(LEAKBPF)] + args, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if p.poll() is not None and not r:
            break
    p.wait(timeout=30)
    os.close(master)
    return p.returncode, out.decode(errors="replace")


def test_live_line_on_a_terminal():
    t = start_target([cprog("leak_basic")])
    wait_ready(t)
    try:
        rc, out = run_on_pty(["-p", str(t.pid), "-d", "3", "-q"], 30)
    finally:
        t.kill()
    assert rc == 0, out
    assert "leakbpf: attaching probes to pid %d" % t.pid in out, out
    assert "reading the target's modules" in out, out
    live = [l for l in out.replace("\r", "\n").splitlines() if "events/s" in l]
    assert live, f"no live status line on a terminal:\n{out}"
    assert all("outstanding" in l and "drops" in l for l in live), live


def test_quiet_when_not_a_terminal():
    t = start_target([cprog("leak_basic")])
    wait_ready(t)
    try:
        res = run_leakbpf(["-p", str(t.pid), "-d", "3", "-q"], timeout=60)
    finally:
        t.kill()
    assert res.returncode == 0, res.stderr
    assert "events/s" not in res.stderr, res.stderr
    assert "attaching probes" not in res.stderr, res.stderr
    assert "\r" not in res.stderr and "\x1b[" not in res.stderr, repr(res.stderr)
