"""Snapshots of long runs, `leakbpf diff` and `leakbpf report`.

The live test traces a leaker that leaks exactly 5 blocks of 64 KiB each
time it gets SIGUSR1, with `--snapshot-every 1s --snapshot-keep 4`, and sends
the signals about a second apart. Then:
  * only the 4 newest snapshots are left, named leakbpf-PID-SEQ-TIME.json.gz,
    no temporary files, and each is a complete leakbpf/v1 report;
  * every snapshot holds a whole number of steps of the leak;
  * `leakbpf diff first last` shows exactly the growth of the leaking
    stack between them, and the target's RSS growth;
  * `leakbpf report last --json -` gives back the snapshot byte for byte.
The other tests feed hand-made documents to `leakbpf report` and `leakbpf
diff` (unicode, escapes, unknown keys, 64-bit counters, matching across
runs) and check their errors.
"""

import copy
import gzip
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lbtest import Leakbpf, run_leakbpf, start_target, wait_line, wait_ready
from test_exports import frame_text, validate_report

LEAKER_C = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending;

static void on_usr1(int sig)
{
	(void)sig;
	pending++;
}

/* One step of the leak: 5 blocks of 64 KiB, touched so RSS grows too. */
__attribute__((noinline)) void leak_step(void)
{
	for (int i = 0; i < 5; i++) {
		void *p = malloc(65536);
		memset(p, 0x5a, 65536);
		__asm__ volatile("" : : "r"(p) : "memory"); /* kept: never freed */
	}
}

int main(void)
{
	struct sigaction sa;
	sigset_t block, wait;
	int steps = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &wait);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (int i = 0; i < 600; i++) {
		sigsuspend(&wait);
		while (pending) {
			pending--;
			leak_step();
			printf("leaked %d\n", ++steps);
			fflush(stdout);
		}
	}
	return 0;
}
"""

STEP_BLOCKS = 5
BLOCK = 65536
STEP_BYTES = STEP_BLOCKS * BLOCK
KEEP = 4
SNAP_RE = re.compile(r"leakbpf-(\d+)-(\d{6})-(\d+)\.json\.gz$")


def load_gz(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def leak_stacks(report):
    return [s for s in report["stacks"]
            if any(f["function"] == "leak_step" for f in s["frames"])]


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """A traced run of the stepping leaker with snapshots every second."""
    tmp = tmp_path_factory.mktemp("snapshots")
    src = tmp / "stepper.c"
    src.write_text(LEAKER_C)
    exe = tmp / "stepper"
    subprocess.run(["cc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe), str(src)],
                   check=True)
    snapdir = tmp / "snaps"  # created by leakbpf
    t = start_target([exe])
    wait_ready(t)
    lb = Leakbpf(["-p", t.pid, "-q", "--snapshot-every", "1s", "--snapshot-dir", snapdir,
                  "--snapshot-keep", KEEP])
    lb.wait_tracing()
    steps = 6
    for k in range(1, steps + 1):
        time.sleep(1.1)
        os.kill(t.pid, signal.SIGUSR1)
        wait_line(t, f"leaked {k}", timeout=10)
    time.sleep(0.3)
    lb.signal(signal.SIGINT)
    res = lb.wait(60)
    t.kill()
    assert res.returncode == 0, res.stderr
    return {"dir": snapdir, "pid": t.pid, "steps": steps, "result": res, "tmp": tmp}


def snapshot_files(series):
    files = sorted(p for p in series["dir"].iterdir())
    named = [(int(SNAP_RE.search(p.name).group(2)), p) for p in files if SNAP_RE.search(p.name)]
    return files, sorted(named)


def test_series_is_bounded_and_complete(series):
    files, named = snapshot_files(series)
    assert len(named) == len(files), f"unexpected files: {[p.name for p in files]}"
    assert len(named) == KEEP, [p.name for p in files]
    seqs = [s for s, _ in named]
    # ~7 s traced at one per second, plus the final one: older ones were deleted
    assert seqs[-1] >= 6 and seqs == list(range(seqs[-1] - KEEP + 1, seqs[-1] + 1)), seqs
    for seq, p in named:
        pid, _, when = SNAP_RE.search(p.name).groups()
        assert int(pid) == series["pid"]
        d = load_gz(p)
        validate_report(d)
        assert d["pid"] == series["pid"] and d["comm"] == "stepper"
        assert int(d["time"]) == int(when)
        assert d["rss"]["bytes"] > 0
    # the disk-use bound is stated when tracing starts
    assert re.search(rf"keeping the last {KEEP}\b.*at most", series["result"].stderr), \
        series["result"].stderr


def test_each_snapshot_holds_whole_steps(series):
    _, named = snapshot_files(series)
    prev = -1
    for _, p in named:
        d = load_gz(p)
        st = leak_stacks(d)
        count = sum(s["outstanding_count"] for s in st)
        nbytes = sum(s["outstanding_bytes"] for s in st)
        assert count % STEP_BLOCKS == 0 and nbytes == count * BLOCK, (p.name, count, nbytes)
        assert count >= prev
        prev = count
    # the last one (the final report) has every step
    assert prev == series["steps"] * STEP_BLOCKS
    assert load_gz(named[-1][1])["final"] is True


def test_diff_shows_exact_growth(series):
    _, named = snapshot_files(series)
    first, last = named[0][1], named[-1][1]
    a, b = load_gz(first), load_gz(last)
    a_count = sum(s["outstanding_count"] for s in leak_stacks(a))
    b_count = sum(s["outstanding_count"] for s in leak_stacks(b))
    grew = b_count - a_count
    assert grew > 0, "no step happened between the first and the last snapshot kept"

    res = run_leakbpf(["diff", first, last, "--json", "-"])
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["schema"] == "leakbpf/diff/v1"
    assert d["a"]["path"] == str(first) and d["b"]["path"] == str(last)
    top = d["stacks"][0]
    assert any(t.startswith("leak_step (") for t in top["frames"]), top
    assert top["growth_bytes"] == grew * BLOCK and top["growth_count"] == grew
    assert top["outstanding_bytes"] == b_count * BLOCK
    assert top["previous_bytes"] == a_count * BLOCK
    assert d["growth_bytes"] == b["totals"]["outstanding_bytes"] - a["totals"]["outstanding_bytes"]
    assert d["rss_growth_bytes"] == b["rss"]["bytes"] - a["rss"]["bytes"]
    # touched heap blocks: RSS grows along with the traced bytes
    assert d["rss_growth_bytes"] >= grew * BLOCK // 2, d

    res = run_leakbpf(["diff", first, last])
    assert res.returncode == 0, res.stderr
    out = res.stdout
    m = re.search(r"^#1 \+(\S+ \S+) \(\+(\d+) blocks\) to (\S+ \S+) in (\d+) blocks", out, re.M)
    assert m, out
    assert int(m.group(2)) == grew and int(m.group(4)) == b_count
    assert m.group(1) == human(grew * BLOCK), out
    entry = out[m.end():].split("\n#2", 1)[0]
    assert re.search(r"^\s+leak_step \(\S*stepper\.c:\d+\)$", entry, re.M), entry
    assert re.search(r"^target RSS: .* -> .* \(\+", out, re.M), out


def human(b):
    """report_text's human_bytes()."""
    v, units = float(b), ["B", "KiB", "MiB", "GiB", "TiB"]
    u = 0
    while v >= 1024 and u < 4:
        v /= 1024
        u += 1
    return f"{v:.0f} B" if u == 0 else f"{v:.1f} {units[u]}"


def test_report_round_trips(series, tmp_path):
    _, named = snapshot_files(series)
    last = named[-1][1]
    res = run_leakbpf(["report", last, "--json", "-"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.encode() == gzip.decompress(last.read_bytes())
    # and the table, with the leak at the top
    res = run_leakbpf(["report", last, "-T", "1"])
    assert res.returncode == 0, res.stderr
    assert re.search(r"^#1 .*\n\s+leak_step \(", res.stdout, re.M), res.stdout
    assert "#2" not in res.stdout


# ---- hand-made documents -------------------------------------------------

def frame(fn, file, line, module=None, offset=0, kind="native"):
    f = {"function": fn, "file": file, "line": line, "module": module, "offset": offset,
         "kind": kind}
    f["text"] = frame_text(f)
    return f


def stack(sid, frames, out_b, out_c, alloc_b=None, alloc_c=None, flags=()):
    return {"id": sid, "outstanding_bytes": out_b, "outstanding_count": out_c,
            "allocated_bytes": out_b if alloc_b is None else alloc_b,
            "allocated_count": out_c if alloc_c is None else alloc_c,
            "growth_bytes": -5, "growth_count": -1, "first_seen_s": 0.25,
            "last_seen_s": 1.5, "flags": list(flags), "frames": frames}


def document(stacks, t=1700000000.5, rss=1 << 20, pid=4242):
    stacks = sorted(stacks, key=lambda s: -s["outstanding_bytes"])
    return {
        "schema": "leakbpf/v1", "mode": "exact", "leakbpf_version": "0.1.0", "pid": pid,
        "comm": "caf\u00e9 \u6f22\u5b57", "cmdline": "./x --name \"q\"\t\\ \u0001",
        "kernel": "6.18.0", "python": "CPython 3.11.2", "allocator_note": None,
        "time": t, "elapsed_s": 12.0, "interval_s": 0.1, "min_age_s": 0.0, "final": False,
        "target_exited": False, "exit_status": None, "execs": 0,
        "counts": {"allocs": 2**64 - 1, "frees": 3, "frees_unknown": 0, "nested_ignored": 1,
                   "filtered": 0},
        "drops": {k: i for i, k in enumerate(
            ["ringbuf_alloc", "ringbuf_free", "thread_map_full", "nest_overflow",
             "returns_unmatched", "stack_errors", "stacks_truncated", "py_errors",
             "py_truncated", "names_unkept", "addr_table_full", "stack_table_full",
             "ringbuf_page", "ringbuf_range", "unwind_tables_full", "procs_untraced",
             "procs_forgotten", "children_unheld", "samples_unkept", "windows_failed",
             "cache_bound"])},
        "probes": [{"name": "malloc", "module": "/lib/libc.so.6", "status": "ok"},
                   {"name": "PyObject_Malloc", "module": None, "status": "missing"}],
        "rss": {"bytes": rss, "growth_bytes": -4096, "at_attach": 1 << 19},
        "totals": {"outstanding_bytes": sum(s["outstanding_bytes"] for s in stacks),
                   "outstanding_count": sum(s["outstanding_count"] for s in stacks),
                   "growth_bytes": 0},
        "stacks": stacks,
    }


MAIN = frame("main", "/src/app.c", 10, "/usr/bin/app", 0x1234)
PY = frame("h\u00e9llo_\U0001F600", "/srv/app/\u00fcber.py", 7, kind="python")
ANON = frame(None, None, 0, "/usr/lib/libfoo.so.1", 0xbeef)


def with_unknown_keys(d):
    """The same document with keys a newer writer might add, everywhere."""
    d = copy.deepcopy(d)
    d["zz_new"] = {"nested": [1, 2.5e-3, {"a": [None, True, False, "s"]}], "e": -0.0}
    d["counts"]["future"] = 7
    d["drops"]["future"] = 1
    d["rss"]["extra"] = [[]]
    for s in d["stacks"]:
        s["labels"] = {"k": "v"}
        for f in s["frames"]:
            f["column"] = 3
            f["inlined"] = False
    return d


def test_report_reads_any_valid_document(tmp_path):
    doc = document([
        stack(1, [MAIN, PY, frame("leak\t\"x\"\\", "/src/a b.c", 3, "/usr/bin/app", 0x10)],
              3000, 3, 2**63, 2**40, flags=["python_truncated"]),
        stack(2, [MAIN, ANON], 0, 0, 100, 1, flags=["native_truncated", "python_missing"]),
    ])
    src = tmp_path / "doc.json"
    # ASCII-only with \\u escapes (surrogate pairs for the emoji), indented
    src.write_text(json.dumps(with_unknown_keys(doc), ensure_ascii=True, indent=2))
    res = run_leakbpf(["report", src, "--json", "-"])
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == doc
    validate_report(json.loads(res.stdout))
    first = res.stdout
    # raw UTF-8, compact, gzipped: the same report
    gz = tmp_path / "doc.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(doc, ensure_ascii=False,
                                            separators=(",", ":")).encode()))
    res = run_leakbpf(["report", gz, "--json", "-"])
    assert res.returncode == 0, res.stderr
    assert res.stdout == first
    # and from standard input
    res = run_leakbpf(["report", "-", "--json", "-"], input=first)
    assert res.returncode == 0, res.stderr
    assert res.stdout == first


def write_doc(path, d):
    path.write_bytes(gzip.compress(json.dumps(d).encode()))
    return path


def test_diff_matches_stacks_by_frames(tmp_path):
    leak = frame("leak", "/src/app.c", 20, "/usr/bin/app", 0x2000)
    other = frame("other", "/src/app.c", 30, "/usr/bin/app", 0x3000)
    gone = frame("gone", "/src/app.c", 40, "/usr/bin/app", 0x4000)
    fresh = frame("fresh", "/src/app.c", 50, "/usr/bin/app", 0x5000)
    a = document([stack(1, [MAIN, leak], 1000, 10), stack(2, [MAIN, other], 500, 5),
                  stack(3, [MAIN, gone], 4096, 1)], t=1700000000.0, rss=10 << 20, pid=11)
    # B comes from another run: other ids, the leak split over two stacks
    # that print alike (same frames, another offset inside the same line)
    leak2 = dict(leak, offset=0x2004)
    b = document([stack(7, [MAIN, leak], 1500, 15), stack(9, [MAIN, leak2], 700, 7),
                  stack(8, [MAIN, other], 500, 5), stack(5, [MAIN, fresh], 64, 2)],
                 t=1700000060.0, rss=12 << 20, pid=12)
    pa, pb = write_doc(tmp_path / "a.json.gz", a), write_doc(tmp_path / "b.json.gz", b)

    res = run_leakbpf(["diff", pa, pb, "--json", "-"])
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["interval_s"] == 60.0
    assert d["growth_bytes"] == (1500 + 700 + 500 + 64) - (1000 + 500 + 4096)
    assert d["growth_count"] == (15 + 7 + 5 + 2) - (10 + 5 + 1)
    assert d["rss_growth_bytes"] == 2 << 20
    got = [(s["frames"][-1], s["growth_bytes"], s["growth_count"], s["outstanding_bytes"],
            s["previous_bytes"]) for s in d["stacks"]]
    assert got == [
        (leak["text"], 1200, 12, 2200, 1000),
        (fresh["text"], 64, 2, 64, 0),
        (gone["text"], -4096, -1, 0, 4096),
    ]  # "other" did not change: not listed
    assert d["stacks"][0]["frames"] == [MAIN["text"], leak["text"]]

    res = run_leakbpf(["diff", pa, pb, "-T", "1"])
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert re.search(r"^#1 \+1\.2 KiB \(\+12 blocks\) to 2\.1 KiB in 22 blocks\n"
                     r"    leak \(/src/app\.c:20\)\n    main \(/src/app\.c:10\)$", out, re.M), out
    assert "#2" not in out and "1 more stacks grew by +64 B" in out, out
    assert "1 stacks shrank by -4.0 KiB" in out, out
    assert "note: A is pid 11, B is pid 12" in out
    assert re.search(r"^target RSS: 10\.0 MiB -> 12\.0 MiB \(\+2\.0 MiB\)$", out, re.M), out


def test_errors(tmp_path):
    good = write_doc(tmp_path / "good.json.gz", document([stack(1, [MAIN], 1, 1)]))
    cases = {
        "schema.json": b'{"schema": "leakbpf/v2", "stacks": []}',
        "noschema.json": b'{"stacks": []}',
        "truncated.json": b'{"schema": "leakbpf/v1", "stacks": [{"id": 1',
        "trailing.json": b'{"schema": "leakbpf/v1"} {}',
        "badnum.json": b'{"schema": "leakbpf/v1", "pid": 01}',
        "badtype.json": b'{"schema": "leakbpf/v1", "stacks": [{"outstanding_bytes": -1}]}',
        "ctrl.json": b'{"schema": "leakbpf/v1", "comm": "a\x01b"}',
        "corrupt.json.gz": good.read_bytes()[:40],
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        res = run_leakbpf(["report", p])
        assert res.returncode == 1, (name, res.stdout, res.stderr)
        assert res.stderr.startswith(f"leakbpf: {p}: "), (name, res.stderr)
        res = run_leakbpf(["diff", good, p])
        assert res.returncode == 1, (name, res.stderr)
    res = run_leakbpf(["report", tmp_path / "missing.json"])
    assert res.returncode == 1 and "No such file" in res.stderr
    for args in (["diff", good], ["diff", good, good, good], ["report"],
                 ["report", good, good], ["report", good, "-T", "0"], ["diff", good, good, "-x"],
                 ["report", good, "--json"], ["report", good, "--json", "-", "--pprof", "-"]):
        res = run_leakbpf(args)
        assert res.returncode == 2, (args, res.stderr)
        assert "--help" in res.stderr, (args, res.stderr)
    for sub in ("diff", "report"):
        res = run_leakbpf([sub, "--help"])
        assert res.returncode == 0 and res.stdout.startswith(f"Usage: leakbpf {sub}")
    # an unwritable output is an error, the others are still written
    res = run_leakbpf(["report", good, "-q", "--json", tmp_path / "nodir" / "x.json",
                       "--speedscope", tmp_path / "s.json"])
    assert res.returncode == 1 and "cannot write" in res.stderr
    assert json.loads((tmp_path / "s.json").read_text())["profiles"]
