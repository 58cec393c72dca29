"""A target in another mount namespace, running from files the tracer cannot
see under the paths printed in /proc/PID/maps: leakbpf must probe and
symbolize the very files the target maps (its own libc copy), not whatever
lies at those paths in leakbpf's namespace."""

import os
import subprocess

from checks import assert_exact, assert_no_drops, assert_sane
from lbtest import attach, cprog, go_and_wait, parse_expect, start_target, wait_ready

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


def _libc_path():
    out = subprocess.run(["ldd", cprog("leak_basic")], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libc.so" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return LIBC


def test_target_with_private_libc_in_other_mount_namespace(tmp_path):
    hidden = tmp_path / "ns"
    hidden.mkdir()
    libc = _libc_path()
    # Inside a private mount namespace: a tmpfs over `hidden` holding copies of
    # libc and of the program; in leakbpf's namespace `hidden` stays empty.
    script = (f"mount -t tmpfs leakbpf-test {hidden} && cp {libc} {hidden}/ && "
              f"cp {cprog('leak_basic')} {hidden}/leak_basic && "
              f"exec env LD_LIBRARY_PATH={hidden} {hidden}/leak_basic")
    t = start_target(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    wait_ready(t)
    maps = open(f"/proc/{t.pid}/maps").read()
    assert f"{hidden}/libc.so.6" in maps, "the target does not run on its private libc"
    assert not os.listdir(hidden), "the tmpfs leaked into the tracer's namespace"
    box = {}
    res, rep = attach(t.pid, duration=2, trigger=lambda: box.setdefault("l", go_and_wait(t)))
    assert res.returncode == 0, res.stderr
    leaks, clean = parse_expect(box["l"])
    assert leaks, box["l"]
    assert_sane(rep, pid=t.pid)
    assert_no_drops(rep)
    assert_exact(rep, leaks, clean)
    probes = {p["name"]: p for p in rep["probes"]}
    assert probes["malloc"]["status"].startswith("ok"), probes["malloc"]
