"""CPython object allocator coverage: leakbpf against tracemalloc.

Real interpreters, real BPF. tests/py_alloc/workload.py keeps N objects
of each kind alive on its own line ("leak"), or churns through the same
kinds plus GC-collected cycles and a bounded cache ("churn"). A reference
run of the same script under tracemalloc gives per-line bytes; leakbpf
traces a second run (tracemalloc's own raw mallocs, which leakbpf sees,
would otherwise be charged to the very same lines). Python frames come
from leakbpf's Python support: a block is charged to its innermost frame
in the workload.

Two probe sets (--py-alloc): "objects" (the default: type-slot and GC
entry points, tp_dealloc of the free-listed types, libc above 512 bytes;
works on every build) and "all" (pymalloc's own functions: every block;
only where pymalloc is not inlined, i.e. not on Debian's LTO python3.11).

Measured here (leakbpf bytes / tracemalloc bytes per leaking line):
  --py-alloc all, pyenv 3.8-3.13: 1.00 for every kind.
  objects, Debian python3.11 (LTO+PGO): big 1.00, set 1.00, tuple 1.00,
  instance 0.64, list 0.47, dict 0.35, str/bytes/float 0.00; all leaking
  lines together 0.81; pyenv builds alike (see OBJECTS_MIN).
Churn: nothing charged to the churn lines after the run but freelist
residue (<= 63 tuples, 5 KiB) on every build and probe set.
"""
import json
import os
import signal
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


def leakbpf_run(python, mode, n, extra_args=(), tmp_path=None):
    """Trace one run of the workload from "go" to "done", then stop leakbpf
    with SIGINT: (report, per-line {line: [outstanding B, count, allocated B]})."""
    t = start_workload(python, mode, n)
    path = Path(tmp_path or "/tmp") / f"lb-{mode}-{t.pid}.json"
    lb = lbtest.Leakbpf(["-p", t.pid, "-d", "600", "--json", path, "-q", *extra_args])
    lb.wait_tracing()
    lbtest.go_and_wait(t, 600)
    lb.signal(signal.SIGINT)
    res = lb.wait(120)
    assert path.exists(), f"no JSON report; stderr:\n{res.stderr}"
    rep = lbtest.load_json(path)
    path.unlink()
    return rep, per_line(rep)


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


def pyenv_versions():
    return ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def interpreter(build):
    return DEBIAN if build == "debian-3.11" else pyenv(build.split("-", 1)[1])


# --py-alloc objects (type slots), measured ratios with N=20000 (N/4 before
# 3.11): Debian python3.11 (LTO+PGO, pymalloc inlined): big 1.00, set 1.00,
# tuple 1.00, instance 0.64 (the object, not its values array), list 0.47
# (object, not items), dict 0.35 (object, not keys), str/bytes/float 0.00
# (not probed); all lines together 0.81. pyenv builds: the same but
# instance 0.54 on 3.13 (larger inline values) and dict 0.28 on 3.8.
OBJECTS_MIN = {"big": 0.95, "set": 0.95, "tuple": 0.95, "instance": 0.45, "list": 0.40,
               "dict": 0.25}
OBJECTS_TOTAL_MIN = 0.75
SLOT_PROBES = ["PyObject_GC_Del", "PyType_GenericAlloc", "_PyObject_GC_New",
               "_PyObject_GC_NewVar", "_PyObject_GC_Resize", "PyDict_Type.tp_dealloc",
               "PyList_Type.tp_dealloc", "PyTuple_Type.tp_dealloc"]
PYMALLOC_PROBES = ["_PyObject_Free", "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc"]


def check_probes(rep, want):
    mine = {p["name"]: p["status"] for p in rep["probes"]
            if "python" in (p.get("module") or "")}
    for name in want:
        st = mine.get(name, "absent")
        # every object-allocator probe sits on an instruction the kernel emulates
        assert st.startswith("ok") and "single" not in st, f"{name}: {st} ({mine})"


def n_for(build):
    return N if build in ("debian-3.11", "pyenv-3.11", "pyenv-3.12") else N // 4


@pytest.mark.parametrize("build", ["pyenv-" + v for v in pyenv_versions()])
def test_all_mode_coverage_against_tracemalloc(build, tmp_path):
    """--py-alloc all: pymalloc's own functions, every block, on pyenv builds."""
    python = interpreter(build)
    ref = tracemalloc_reference(python, "leak", n_for(build), tmp_path)
    rep, lines = leakbpf_run(python, "leak", n_for(build), ["--py-alloc", "all"], tmp_path)
    check_probes(rep, PYMALLOC_PROBES)
    assert "every pymalloc block" in rep["allocator_note"], rep["allocator_note"]
    assert sum(rep["drops"].values()) == 0, rep["drops"]
    table = coverage_table(ref, lines)
    msg = f"{build} --py-alloc all, leakbpf/tracemalloc per line:\n{show(table)}"
    print(msg)
    for kind, v in table.items():
        assert 0.95 <= v[0] <= 1.05, f"{kind}: {msg}"


@pytest.mark.parametrize("build", ["debian-3.11", "pyenv-3.8", "pyenv-3.11", "pyenv-3.12",
                                   "pyenv-3.13"])
def test_objects_mode_coverage_against_tracemalloc(build, tmp_path):
    """The default probe set, on the LTO build and on shared builds."""
    python = interpreter(build)
    ref = tracemalloc_reference(python, "leak", n_for(build), tmp_path)
    rep, lines = leakbpf_run(python, "leak", n_for(build), tmp_path=tmp_path)
    check_probes(rep, SLOT_PROBES)
    assert sum(rep["drops"].values()) == 0, rep["drops"]
    table = coverage_table(ref, lines)
    msg = f"{build} objects, leakbpf/tracemalloc per line:\n{show(table)}"
    print(msg)
    # > 512 bytes: pymalloc hands them to malloc; both probed, counted once
    assert 0.95 <= table["big"][0] <= 1.05, msg
    for kind, lo in OBJECTS_MIN.items():
        assert lo <= table[kind][0] <= 1.05, f"{kind}: {msg}"
    lb = sum(v[1] for v in table.values())
    tm = sum(v[2] for v in table.values())
    assert lb / tm >= OBJECTS_TOTAL_MIN, msg
    for kind in ("str", "bytes", "float"):  # not seen, and the note says so
        assert table[kind][0] < 0.05, msg
        assert kind in rep["allocator_note"], rep["allocator_note"]
    # where the other mode exists, the note points at it
    assert ("--py-alloc all" in rep["allocator_note"]) == (build != "debian-3.11"), \
        rep["allocator_note"]


@pytest.mark.parametrize("build", ["debian-3.11", "pyenv-3.8", "pyenv-3.10", "pyenv-3.12",
                                   "pyenv-3.13"])
def test_objects_from_free_lists_keep_their_own_stack(build, tmp_path):
    """Dicts, lists and tuples handed out again by CPython's free lists are
    charged to the line that keeps them (the free-list constructors are
    probed), not lost and not left on the stack of their first life."""
    n = 5000
    rep, lines = leakbpf_run(interpreter(build), "recycle", n, tmp_path=tmp_path)
    assert sum(rep["drops"].values()) == 0, rep["drops"]
    tags = tagged(WORKLOAD, "RECYCLE")
    got = {kind: lines.get(ln, [0, 0, 0])[1] for kind, ln in tags.items()}
    # the churn lines (the tmp list) hold nothing once the step is over
    out_elsewhere = sum(v[1] for ln, v in lines.items() if ln not in tags.values())
    msg = f"{build}: objects kept per line {got}, elsewhere {out_elsewhere}; {lines}"
    print(msg)
    want = {"dict": 0.95, "list": 0.95, "tuple": 0.95}
    if build == "debian-3.11":
        # LTO copies _PyDict_FromItems (dict displays) into the interpreter
        # loop: a dict taken from the free list there is not seen (measured:
        # 0 of 5000; lists and tuples 5000 of 5000). The note says so.
        want = {"list": 0.95, "tuple": 0.95}
        assert "free lists" in rep["allocator_note"], rep["allocator_note"]
    for kind, lo in want.items():
        assert got[kind] >= lo * n, msg
        assert got[kind] <= n + 2, msg
    assert out_elsewhere <= 64, msg


def test_all_mode_refused_where_pymalloc_is_inlined():
    t = start_workload(DEBIAN, "leak", 10)
    r = lbtest.run_leakbpf(["-p", t.pid, "-d", "1", "--py-alloc", "all"])
    err = r.stderr.strip().splitlines()
    assert r.returncode != 0, r.stderr
    assert any("--py-alloc all" in ln and "inlined" in ln and "objects" in ln for ln in err), \
        r.stderr
    assert t.poll() is None  # the target is left running, untouched


def churn_check(rep, lines, build):
    """After the churn everything was freed: what stays charged to the
    churn lines is bounded (freelists, at most a few KiB), never a share of
    what went through them (mismatched keys would leave most of it)."""
    ref_lines = {}
    with open(WORKLOAD) as f:
        for no, line in enumerate(f, 1):
            if "# CHURN:" in line:
                ref_lines[no] = line.split("# CHURN:")[1].split()[0]
    out = sum(lines.get(ln, [0, 0, 0])[0] for ln in ref_lines)
    alloc = sum(lines.get(ln, [0, 0, 0])[2] for ln in ref_lines)
    detail = {ref_lines[ln]: lines[ln] for ln in ref_lines if ln in lines}
    msg = f"{build}: outstanding {out} of {alloc} allocated; per line {detail}"
    print(msg)
    assert alloc > 50_000_000, msg  # the probes did see the churn
    assert out <= 64 * 1024, msg
    assert out <= alloc * 0.001, msg
    # cycles freed by collections that CPython 3.8-3.11 run inside an object
    # allocation: those frees are nested in a probed allocator call and must
    # still count (with frees ignored there, ~500 nodes stayed here)
    cycle = [ln for ln, kind in ref_lines.items() if kind == "cycle"][0]
    assert lines.get(cycle, [0, 0, 0])[1] <= 4, msg


@pytest.mark.parametrize("build,mode", [("debian-3.11", "objects"), ("pyenv-3.11", "all"),
                                        ("pyenv-3.12", "all"), ("pyenv-3.12", "objects")])
def test_churn_leaves_nothing_outstanding(build, mode, tmp_path):
    rep, lines = leakbpf_run(interpreter(build), "churn", 50000, ["--py-alloc", mode],
                             tmp_path)
    assert sum(rep["drops"].values()) == 0, rep["drops"]
    churn_check(rep, lines, build)


@pytest.mark.parametrize("version", ["3.8", "3.10", "3.11", "3.12", "3.13"])
def test_type_slot_probes_match_keys_on_every_layout(version, tmp_path):
    """The type-slot set (the default) on every layout: the pre-header
    arithmetic (GC head; 3.11 managed dict; 3.12+ managed dict and weakref)
    must give allocations and frees the same key."""
    python = pyenv(version)
    rep, lines = leakbpf_run(python, "churn", 50000, tmp_path=tmp_path)
    assert any(p["name"] == "PyObject_GC_Del" and p["status"].startswith("ok")
               for p in rep["probes"]), rep["probes"]
    churn_check(rep, lines, f"{version} (type slots)")
    rep, lines = leakbpf_run(python, "leak", 5000, tmp_path=tmp_path)
    inst = tagged(WORKLOAD, "LEAK")["instance"]
    # one-off extras: the class's shared-keys cache on first use (3.8-3.10)
    assert 5000 <= lines.get(inst, [0, 0])[1] <= 5002, f"instances seen: {lines.get(inst)}"


def tagged(path, prefix):
    out = {}
    with open(path) as f:
        for no, line in enumerate(f, 1):
            if "# " + prefix + ":" in line:
                out[line.split("# " + prefix + ":")[1].split()[0]] = no
    return out
