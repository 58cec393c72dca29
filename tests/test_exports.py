"""--json, --pprof and --speedscope, checked on a real run and parsed back.

A small leaker is compiled into the test's tmp dir: three functions leak
known blocks and never free them, one allocation is freed. It runs under
`leakbpf -c ... --json J --pprof P --speedscope S`; then
  * the JSON is validated against schema leakbpf/v1 (doc/json-schema.md):
    every documented key with its type, and the exact leaks;
  * the pprof profile is read by `go tool pprof` (-top per sample type,
    -traces, -raw), which must show the leaking functions with their exact
    bytes and counts, leaf first;
  * the speedscope file has the file format's structure and the same
    weights.
"""

import gzip
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lbtest import LEAKBPF, REPO, run_leakbpf

LEAKER_C = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep[64];
static int nkeep;

/* Touch and keep the block: never freed. */
__attribute__((noinline)) static void hold(void *p, size_t n)
{
	memset(p, 7, n);
	keep[nkeep++] = p;
}

__attribute__((noinline)) void leak_small(void)
{
	for (int i = 0; i < 12; i++)
		hold(malloc(40), 40);
}

__attribute__((noinline)) void leak_medium(void)
{
	for (int i = 0; i < 4; i++)
		hold(calloc(1, 3000), 3000);
}

__attribute__((noinline)) void leak_large(void)
{
	for (int i = 0; i < 2; i++)
		hold(malloc(70000), 70000);
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 5; i++) {
		void *p = malloc(999);
		memset(p, 1, 999);
		free(p);
	}
}

int main(void)
{
	leak_small();
	leak_medium();
	leak_large();
	churn();
	usleep(300 * 1000);
	return 3;
}
"""

# function -> (blocks, bytes) it leaks
LEAKS = {"leak_small": (12, 12 * 40), "leak_medium": (4, 4 * 3000),
         "leak_large": (2, 2 * 70000)}

# The schema, as documented in doc/json-schema.md: key -> type check.
INT = "int"
FLOAT = "float"


def _is(kind, v):
    if kind == INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == FLOAT:
        return isinstance(v, float) and math.isfinite(v)
    if kind == "str?":
        return v is None or isinstance(v, str)
    if kind == "int?":
        return v is None or (isinstance(v, int) and not isinstance(v, bool))
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "str":
        return isinstance(v, str)
    raise AssertionError(kind)


TOP = {"schema": "str", "mode": "str", "leakbpf_version": "str", "pid": INT, "comm": "str?",
       "cmdline": "str?", "kernel": "str?", "python": "str?", "allocator_note": "str?",
       "time": FLOAT, "elapsed_s": FLOAT, "interval_s": FLOAT, "min_age_s": FLOAT,
       "final": "bool", "target_exited": "bool", "exit_status": "int?", "execs": INT}
COUNTS = ["allocs", "frees", "frees_unknown", "nested_ignored", "filtered"]
DROPS = ["ringbuf_alloc", "ringbuf_free", "thread_map_full", "nest_overflow",
         "returns_unmatched", "stack_errors", "stacks_truncated", "py_errors", "py_truncated",
         "names_unkept", "addr_table_full", "stack_table_full", "ringbuf_page", "ringbuf_range",
         "unwind_tables_full", "cache_bound"]
RSS = {"bytes": INT, "growth_bytes": INT, "at_attach": INT}
TOTALS = {"outstanding_bytes": INT, "outstanding_count": INT, "growth_bytes": INT}
STACK = {"id": INT, "outstanding_bytes": INT, "outstanding_count": INT, "allocated_bytes": INT,
         "allocated_count": INT, "growth_bytes": INT, "growth_count": INT,
         "first_seen_s": FLOAT, "last_seen_s": FLOAT}
FRAME = {"function": "str?", "file": "str?", "line": INT, "module": "str?", "offset": INT,
         "kind": "str", "text": "str"}
FLAGS = {"native_truncated", "python_truncated", "python_missing"}


def check_fields(obj, spec, where):
    assert isinstance(obj, dict), where
    for k, kind in spec.items():
        assert k in obj, f"{where}: no {k!r}"
        assert _is(kind, obj[k]), f"{where}.{k} = {obj[k]!r} is not {kind}"


def frame_text(f):
    """rm_frame_format(): "function (file:line)", "function", or "module+0xOFF"."""
    if f["function"] and f["file"] and f["line"] > 0:
        return f"{f['function']} ({f['file']}:{f['line']})"
    if f["function"]:
        return f["function"]
    if f["module"]:
        return f"{f['module'].rsplit('/', 1)[-1]}+0x{f['offset']:x}"
    return None  # no module: the raw address, which the JSON does not carry


def validate_report(d):
    """Every key of schema leakbpf/v1 with its type, and the invariants the
    documentation states. Returns nothing; asserts."""
    check_fields(d, TOP, "top")
    assert d["schema"] == "leakbpf/v1"
    assert set(d["counts"]) >= set(COUNTS)
    assert set(d["drops"]) >= set(DROPS)
    for k in COUNTS:
        assert _is(INT, d["counts"][k]) and d["counts"][k] >= 0, k
    for k in DROPS:
        assert _is(INT, d["drops"][k]) and d["drops"][k] >= 0, k
    assert isinstance(d["probes"], list) and d["probes"]
    for p in d["probes"]:
        check_fields(p, {"name": "str", "module": "str?", "status": "str"}, "probe")
        assert re.match(r"ok|ok \(single-stepped\)|missing|failed: ", p["status"]), p
    check_fields(d["rss"], RSS, "rss")
    check_fields(d["totals"], TOTALS, "totals")
    stacks = d["stacks"]
    assert isinstance(stacks, list)
    outs = [s["outstanding_bytes"] for s in stacks]
    assert outs == sorted(outs, reverse=True), "stacks not sorted by outstanding bytes"
    assert d["totals"]["outstanding_bytes"] == sum(outs)
    assert d["totals"]["outstanding_count"] == sum(s["outstanding_count"] for s in stacks)
    ids = set()
    for s in stacks:
        check_fields(s, STACK, "stack")
        assert s["id"] not in ids
        ids.add(s["id"])
        assert 0 <= s["outstanding_bytes"] <= s["allocated_bytes"]
        assert 0 <= s["outstanding_count"] <= s["allocated_count"]
        assert s["outstanding_bytes"] or s["allocated_bytes"]
        assert 0 <= s["first_seen_s"] <= s["last_seen_s"] <= d["elapsed_s"] + 1e-6
        assert isinstance(s["flags"], list) and set(s["flags"]) <= FLAGS
        assert isinstance(s["frames"], list) and s["frames"]
        for f in s["frames"]:
            check_fields(f, FRAME, "frame")
            assert f["kind"] in ("native", "python")
            if f["kind"] == "python":
                assert f["module"] is None and f["offset"] == 0
            # present only on inlined frames, which are native
            assert f.get("inlined", True) is True, f
            assert "inlined" not in f or f["kind"] == "native", f
            if frame_text(f) is not None:
                assert f["text"] == frame_text(f)


def test_schema_is_documented():
    """Every key the validator checks is documented in doc/json-schema.md."""
    doc = (REPO / "doc" / "json-schema.md").read_text()
    keys = (list(TOP) + COUNTS + DROPS + list(RSS) + list(TOTALS) + list(STACK) + list(FRAME)
            + list(FLAGS) + ["counts", "drops", "probes", "rss", "totals", "stacks", "flags",
                             "frames", "name", "status", "inlined"])
    missing = [k for k in keys if f"`{k}`" not in doc and f'"{k}"' not in doc]
    assert not missing, f"not documented in doc/json-schema.md: {missing}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One traced run of the leaker writing every export."""
    tmp = tmp_path_factory.mktemp("exports")
    src = tmp / "leaker.c"
    src.write_text(LEAKER_C)
    exe = tmp / "leaker"
    subprocess.run(["cc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe), str(src)],
                   check=True)
    out = {"json": tmp / "out.json", "pprof": tmp / "out.pb.gz",
           "speedscope": tmp / "out.speedscope.json"}
    res = run_leakbpf(["-q", "-c", str(exe), "--json", out["json"], "--pprof", out["pprof"],
                       "--speedscope", out["speedscope"]], timeout=90)
    # leakbpf exits with the command's status (the leaker returns 3)
    assert res.returncode == 3, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    for p in out.values():
        assert p.exists() and p.stat().st_size > 0, f"{p} missing:\n{res.stderr}"
    out["exe"] = exe
    out["result"] = res
    return out


def leaf_function_stacks(report, fn):
    """Stacks whose innermost named frame of the leaker is `fn` (the leak
    functions call malloc directly)."""
    out = []
    for s in report["stacks"]:
        names = [f["function"] for f in s["frames"]]
        if fn in names:
            out.append(s)
    return out


def test_json_schema_and_values(run):
    d = json.loads(run["json"].read_text())
    validate_report(d)
    assert d["comm"] == "leaker"
    assert d["cmdline"].split()[0] == str(run["exe"])
    assert d["final"] is True and d["target_exited"] is True and d["exit_status"] == 3
    assert d["leakbpf_version"] == subprocess.run(
        [str(LEAKBPF), "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert d["counts"]["allocs"] >= 12 + 4 + 2 + 5
    assert d["counts"]["frees"] >= 5
    assert all(v == 0 for v in d["drops"].values()), d["drops"]
    for fn, (count, nbytes) in LEAKS.items():
        st = leaf_function_stacks(d, fn)
        assert sum(s["outstanding_bytes"] for s in st) == nbytes, fn
        assert sum(s["outstanding_count"] for s in st) == count, fn
        assert sum(s["allocated_bytes"] for s in st) == nbytes, fn
        for s in st:
            # root first: main comes before the leaking function
            names = [f["function"] for f in s["frames"]]
            assert names.index("main") < names.index(fn), names
            f = s["frames"][names.index(fn)]
            assert f["kind"] == "native" and f["file"].endswith("leaker.c") and f["line"] > 0
            assert f["module"] == str(run["exe"])
    churn = leaf_function_stacks(d, "churn")
    assert churn, "the freed allocations' stack is missing (allocated, not outstanding)"
    assert sum(s["outstanding_bytes"] for s in churn) == 0
    assert sum(s["allocated_bytes"] for s in churn) == 5 * 999
    assert sum(s["allocated_count"] for s in churn) == 5


def test_json_to_stdout(run):
    """--json - writes the document, and only it, to standard output."""
    res = run_leakbpf(["-q", "-c", str(run["exe"]), "--json", "-"], timeout=90)
    assert res.returncode == 3, res.stderr  # the command's status
    d = json.loads(res.stdout)
    validate_report(d)
    for fn, (count, nbytes) in LEAKS.items():
        assert sum(s["outstanding_bytes"] for s in leaf_function_stacks(d, fn)) == nbytes


def go_pprof(*args):
    if not shutil.which("go"):
        pytest.fail("go is missing: `apt-get install golang-go` (scripts/deps.sh installs it)",
                    pytrace=False)
    r = subprocess.run(["go", "tool", "pprof"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"go tool pprof {args} failed:\n{r.stderr}"
    return r.stdout


def pprof_top(path, index):
    """{function: (flat, cum)} from `go tool pprof -top` in raw units."""
    unit = "-unit=B" if index.endswith("space") else "-unit=count"
    out = go_pprof("-top", "-nodecount=1000", "-nodefraction=0", f"-sample_index={index}", unit,
                   path)
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)(?:B)?\s+[\d.]+%\s+[\d.]+%\s+(\d+)(?:B)?\s+[\d.]+%\s+(.+)$", line)
        if m:
            rows[m.group(3).strip()] = (int(m.group(1)), int(m.group(2)))
    return rows, out


def test_pprof_opens_in_go_tool_pprof(run):
    with gzip.open(run["pprof"]) as f:  # gzipped, as pprof expects
        assert len(f.read()) > 0
    d = json.loads(run["json"].read_text())
    rows, out = pprof_top(run["pprof"], "inuse_space")
    assert "Type: inuse_space" in out
    for fn, (count, nbytes) in LEAKS.items():
        assert rows.get(fn) == (nbytes, nbytes), (fn, out)
    assert rows["main"][1] == d["totals"]["outstanding_bytes"], out
    rows, out = pprof_top(run["pprof"], "inuse_objects")
    for fn, (count, nbytes) in LEAKS.items():
        assert rows.get(fn, (0,))[0] == count, (fn, out)
    rows, out = pprof_top(run["pprof"], "alloc_space")
    assert rows.get("churn", (0,))[0] == 5 * 999, out
    assert rows.get("leak_large", (0,))[0] == 2 * 70000, out
    rows, out = pprof_top(run["pprof"], "alloc_objects")
    assert rows.get("churn", (0,))[0] == 5, out


def test_pprof_tables_and_stacks(run):
    raw = go_pprof("-raw", run["pprof"])
    assert "PeriodType: space bytes" in raw
    assert re.search(r"alloc_objects/count alloc_space/bytes inuse_objects/count "
                     r"inuse_space/bytes\[dflt\]", raw), raw[:2000]
    # functions carry their file and line: "leak_large /path/leaker.c:NN"
    for fn in LEAKS:
        assert re.search(rf"\b{fn} \S*leaker\.c:\d+", raw), fn
    # -traces lists each stack leaf first: the leak function, then main
    traces = go_pprof("-traces", "-sample_index=inuse_space", run["pprof"])
    blocks = traces.split("-----------+")
    for fn, (_, nbytes) in LEAKS.items():
        mine = [b for b in blocks if re.search(rf"^\s+\S+\s+{fn}$", b, re.M)]
        assert mine, (fn, traces)
        names = [ln.split()[-1] for b in mine for ln in b.splitlines() if ln.strip()]
        assert names.index(fn) < names.index("main"), names


def test_speedscope_structure(run):
    d = json.loads(run["speedscope"].read_text())
    report = json.loads(run["json"].read_text())
    assert d["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = d["shared"]["frames"]
    assert frames and all(isinstance(f["name"], str) and f["name"] for f in frames)
    for f in frames:
        assert set(f) <= {"name", "file", "line", "col"}
        if "line" in f:
            assert isinstance(f["line"], int) and f["line"] > 0
    profiles = {p["name"]: p for p in d["profiles"]}
    assert set(profiles) == {"outstanding bytes", "allocations"}
    assert profiles["outstanding bytes"]["unit"] == "bytes"
    assert profiles["allocations"]["unit"] == "none"
    assert 0 <= d.get("activeProfileIndex", 0) < 2
    for p in profiles.values():
        assert p["type"] == "sampled"
        assert len(p["samples"]) == len(p["weights"])
        assert p["startValue"] == 0 and p["endValue"] == sum(p["weights"])
        for s in p["samples"]:
            assert s and all(isinstance(i, int) and 0 <= i < len(frames) for i in s)
    out = profiles["outstanding bytes"]
    assert out["endValue"] == report["totals"]["outstanding_bytes"]
    allocs = profiles["allocations"]
    assert allocs["endValue"] == sum(s["allocated_count"] for s in report["stacks"])

    def weight(p, fn):
        total = 0
        for s, w in zip(p["samples"], p["weights"]):
            names = [frames[i]["name"] for i in s]
            if fn in names:
                assert names.index("main") < names.index(fn)  # root first
                total += w
        return total

    for fn, (count, nbytes) in LEAKS.items():
        assert weight(out, fn) == nbytes, fn
        assert weight(allocs, fn) == count, fn
    assert weight(allocs, "churn") == 5
    assert weight(out, "churn") == 0
    leak = [f for f in frames if f["name"] == "leak_large"]
    assert leak and leak[0]["file"].endswith("leaker.c") and leak[0]["line"] > 0


def test_report_renders_every_format_again(run, tmp_path):
    """`leakbpf report` on the JSON writes the same JSON, pprof and
    speedscope as the live run (the exports depend only on the report)."""
    p = tmp_path / "again.pb.gz"
    s = tmp_path / "again.speedscope.json"
    j = tmp_path / "again.json"
    res = run_leakbpf(["report", run["json"], "--json", j, "--pprof", p, "--speedscope", s])
    assert res.returncode == 0, res.stderr
    assert j.read_bytes() == run["json"].read_bytes()
    assert s.read_bytes() == run["speedscope"].read_bytes()
    with gzip.open(p) as a, gzip.open(run["pprof"]) as b:
        assert a.read() == b.read()
    assert "leak_large" in res.stdout  # the table
