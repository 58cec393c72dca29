"""CPython object allocator coverage: leakbpf against tracemalloc.

Real interpreters, real BPF. tests/py_alloc/workload.py keeps N objects
of each kind alive on its own line ("leak"), or churns through the same
kinds plus GC-collected cycles and a bounded cache ("churn"). A reference
run of the same script under tracemalloc gives per-line bytes; leakbpf
traces a second run (tracemalloc's own raw mallocs would otherwise be
attributed to the very same lines). Python frames come from leakbpf's
Python support: a block is charged to the innermost frame in the workload.

Coverage measured on this machine (leakbpf bytes / tracemalloc bytes per
line, N=20000), see the *_RATIO tables below for what is asserted:
  Debian /usr/bin/python3.11 (LTO+PGO, type-slot probes): see DEBIAN_RATIO
  pyenv shared builds (pymalloc probes): every kind 1.00
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

import lbtest

WORKLOAD = Path(__file__).resolve().parent / "py_alloc" / "workload.py"
PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
DEBIAN = "/usr/bin/python3.11"
N = 20000


def pyenv(version_prefix):
    """Path of a pyenv interpreter whose version starts with the prefix."""
    for d in sorted(PYENV.glob(version_prefix + "*")):
        exe = d / "bin" / ("python" + version_prefix)
        if exe.exists():
            return str(exe)
    pytest.fail(f"no pyenv CPython {version_prefix} under {PYENV} (install it with pyenv)",
                pytrace=False)


def start_workload(python, mode, n, tm_out=None, env=None):
    argv = [python, str(WORKLOAD), mode, str(n)]
    if tm_out:
        argv += ["--tracemalloc", str(tm_out)]
    t = lbtest.start_target(argv, env=env)
    lbtest.wait_ready(t, timeout=60)
    return t


def tracemalloc_reference(python, mode, n, tmp_path):
    """Per-kind {"line", "size", "count"} from a tracemalloc run."""
    out = tmp_path / f"tm-{mode}.json"
    t = start_workload(python, mode, n, tm_out=out)
    lbtest.go(t)
    lbtest.wait_done(t, timeout=300)
    return json.loads(out.read_text())


def leakbpf_run(python, mode, n, extra_env=None, duration=None):
    """(report, per-line {line: [outstanding bytes, count, allocated bytes]})."""
    env = dict(os.environ)
    t = start_workload(python, mode, n)
    lbenv = dict(os.environ, **(extra_env or {}))
    dur = duration or (12 if mode == "leak" else 15)
    res, rep = lbtest.attach(t.pid, duration=dur, trigger=lambda: lbtest.go_and_wait(t, 300),
                             timeout=dur + 120) if not extra_env else _attach_env(t, dur, lbenv)
    assert rep is not None, f"no report; stderr:\n{res.stderr}"
    del env
    return rep, per_line(rep)


def _attach_env(t, dur, env):
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    os.unlink(path)
    lb = lbtest.Leakbpf(["-p", t.pid, "-d", dur, "--json", path, "-q"], env=env)
    lb.wait_tracing()
    lbtest.go_and_wait(t, 300)
    res = lb.wait(dur + 120)
    rep = lbtest.load_json(path) if os.path.exists(path) else None
    if rep is not None:
        os.unlink(path)
    return res, rep


def per_line(rep):
    """Charge each stack to its innermost Python frame in the workload."""
    lines = {}
    for s in rep.get("stacks", []):
        ln = None
        for f in s.get("frames", []):
            if f.get("kind") == "python" and f.get("file") == str(WORKLOAD):
                ln = f.get("line")
        if ln is None:
            continue
        acc = lines.setdefault(ln, [0, 0, 0])
        acc[0] += s["outstanding_bytes"]
        acc[1] += s["outstanding_count"]
        acc[2] += s.get("allocated_bytes", 0)
    return lines


def coverage_table(ref, lines):
    """{kind: (leakbpf bytes / tracemalloc bytes, lb bytes, tm bytes)}."""
    out = {}
    for kind, r in ref.items():
        lb = lines.get(r["line"], [0, 0, 0])[0]
        out[kind] = (lb / r["size"] if r["size"] else float("nan"), lb, r["size"])
    return out


def show(table):
    return "\n".join(f"  {k:9s} {v[0]:6.2f}  leakbpf {v[1]:>9d}  tracemalloc {v[2]:>9d}"
                     for k, v in sorted(table.items()))
