"""Outputs of a root process next to other users and hostile targets.

  * Symbolic-link attacks by an unprivileged user (`nobody`) in a sticky
    (1777) and in a world-writable non-sticky (0777) directory: a link
    planted at an output path before leakbpf starts, or while it traces, or
    at a snapshot's name; another user's file at the output path. The file
    the link points to is never touched and leakbpf says why it refused.
  * Files are 0644 whatever the umask, and belong to SUDO_UID/SUDO_GID.
  * A Python target whose function and file names hold escape sequences,
    CR, LF, BEL, DEL, a C1 control and ';': no raw control byte reaches the
    table (stdout or stderr), the folded file has one line per stack, and
    `leakbpf report` / `leakbpf diff` of its snapshots escape as well.
  * A process whose name (comm) holds an escape sequence and a bidi
    override, under --children and --growth -a: its root frame "process
    PID (COMM)" is escaped exactly once in the table and the folded file,
    raw in JSON, and in the flame graph without what a label cannot show.
  * `leakbpf report` and `diff` inputs are bounded: a gzip bomb, /dev/zero,
    a FIFO, a huge file and absurd counts are each one clear error.
  * --output-stacks: a file holds N stacks plus one "[K other stacks]"
    entry, and every total still adds up.
  * A bad output path fails before tracing starts; a failed write (/dev/full)
    is reported and exits 1.
"""

import gzip
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from lbtest import (TRACING_PREFIX, Leakbpf, cprog, go, load_json, run_leakbpf, start_target,
                    wait_done, wait_ready)

NOBODY = pwd.getpwnam("nobody")
SHORT_RUN = ["-q", "-c", "/bin/sleep 1"]


def one_error_line(res, *must_mention):
    lines = res.stderr.splitlines()
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert len(lines) == 1 and lines[0].startswith("leakbpf: "), res.stderr
    for m in must_mention:
        assert m in lines[0], (m, lines[0])
    return lines[0]


def as_nobody(script, *args):
    """Run a Python snippet as `nobody` (the unprivileged attacker)."""
    subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", script]
                   + [str(a) for a in args], check=True, timeout=60)


def plant_links(target, *links):
    as_nobody("import os, sys\nfor l in sys.argv[2:]: os.symlink(sys.argv[1], l)", target, *links)
    for link in links:
        assert os.lstat(link).st_uid == NOBODY.pw_uid


@pytest.fixture
def shared(request):
    """A sticky and a world-writable directory `nobody` can write in, and a
    file of root's that an attacker would like overwritten."""
    base = Path(tempfile.mkdtemp(prefix="leakbpf-safety-", dir="/tmp"))
    base.chmod(0o755)
    d = base / request.param
    d.mkdir()
    d.chmod(0o1777 if request.param == "sticky" else 0o777)
    victim = base / "victim"
    victim.write_text("root's file\n")
    yield d, victim
    shutil.rmtree(base)


DIRS = pytest.mark.parametrize("shared", ["sticky", "world-writable"], indirect=True)


@DIRS
def test_link_planted_before_start(shared):
    d, victim = shared
    link = d / "out.json"
    plant_links(victim, link)
    res = run_leakbpf(SHORT_RUN + ["--json", link])
    line = one_error_line(res, f"JSON report {link}", "symbolic link")
    assert TRACING_PREFIX not in res.stderr, line
    assert victim.read_text() == "root's file\n"
    assert os.readlink(link) == str(victim)


@DIRS
def test_link_planted_while_tracing(shared):
    """Files are written at the end: the link appears after the start check."""
    d, victim = shared
    out = {fmt: d / f"out.{fmt}" for fmt in ("folded", "json", "pprof")}
    lb = Leakbpf(["-q", "-c", "/bin/sleep 2"] + [a for fmt, p in out.items()
                                                 for a in (f"--{fmt}", p)])
    lb.wait_tracing()
    plant_links(victim, *out.values())
    res = lb.wait(60)
    assert res.returncode == 1, res.stderr
    for p in out.values():
        assert re.search(rf"^leakbpf: cannot write .* {re.escape(str(p))}: it is a symbolic link",
                         res.stderr, re.M), res.stderr
        assert os.readlink(p) == str(victim)
    assert victim.read_text() == "root's file\n"
    # nothing left behind: the temporary files were removed
    assert sorted(os.listdir(d)) == sorted(p.name for p in out.values())


@DIRS
def test_another_users_file_is_not_replaced(shared):
    d, victim = shared
    theirs = d / "report.folded"
    as_nobody("import sys; open(sys.argv[1], 'w').write('mine\\n')", theirs)
    res = run_leakbpf(SHORT_RUN + ["--folded", theirs])
    one_error_line(res, "another user's file", f"uid {NOBODY.pw_uid}")
    assert theirs.read_text() == "mine\n" and theirs.stat().st_uid == NOBODY.pw_uid


@DIRS
def test_snapshot_names_cannot_be_planted(shared):
    """Links at the old predictable temporary names (.leakbpf-PID-SEQ.tmp) of
    every snapshot, and at the final name of the second one."""
    d, victim = shared
    t = start_target(["/bin/sleep", "60"], stdout=subprocess.DEVNULL)
    now = int(time.time())
    links = [d / f".leakbpf-{t.pid}-{seq:06d}.tmp" for seq in range(1, 30)]
    links += [d / f"leakbpf-{t.pid}-000002-{when}.json.gz" for when in range(now, now + 40)]
    plant_links(victim, *links)
    res = run_leakbpf(["-p", t.pid, "-d", "3.5", "-q", "--snapshot-every", "1s",
                       "--snapshot-dir", d, "--snapshot-keep", "10"], timeout=60)
    t.kill()
    assert res.returncode == 0, res.stderr
    assert victim.read_text() == "root's file\n"
    assert all(os.readlink(p) == str(victim) for p in links)
    assert re.search(rf"^leakbpf: warning: snapshot {re.escape(str(d))}/leakbpf-{t.pid}-000002-"
                     r"\d+\.json\.gz: it is a symbolic link", res.stderr, re.M), res.stderr
    written = sorted(p for p in d.iterdir() if not p.is_symlink())
    assert len(written) >= 3, res.stderr
    for p in written:
        assert re.fullmatch(rf"leakbpf-{t.pid}-\d{{6}}-\d+\.json\.gz", p.name), p.name
        assert json.loads(gzip.decompress(p.read_bytes()))["schema"] == "leakbpf/v1"


def test_modes_and_ownership(tmp_path):
    """0644 under umask 077; owned by SUDO_UID/SUDO_GID when they are set,
    the snapshot directories leakbpf creates too."""
    formats = {"folded": "f.folded", "flamegraph": "f.svg", "json": "f.json",
               "pprof": "f.pb.gz", "speedscope": "f.speedscope.json"}
    for sudo in (False, True):
        out = tmp_path / ("sudo" if sudo else "root")
        out.mkdir()
        env = dict(os.environ)
        if sudo:
            env.update(SUDO_UID=str(NOBODY.pw_uid), SUDO_GID=str(NOBODY.pw_gid))
        args = ["-c", "/bin/sleep 1.5", "-q", "--snapshot-every", "1s", "--snapshot-dir",
                out / "snaps" / "deeper"]
        for fmt, name in formats.items():
            args += [f"--{fmt}", out / name]
        res = run_leakbpf(args, env=env, preexec_fn=lambda: os.umask(0o077))
        assert res.returncode == 0, res.stderr
        files = [out / n for n in formats.values()] + list((out / "snaps" / "deeper").iterdir())
        assert len(files) >= len(formats) + 1
        uid, gid = (NOBODY.pw_uid, NOBODY.pw_gid) if sudo else (0, 0)
        for p in files:
            st = p.lstat()
            assert oct(st.st_mode & 0o7777) == oct(0o644), p
            assert (st.st_uid, st.st_gid) == (uid, gid), p
        for p in (out / "snaps", out / "snaps" / "deeper"):
            assert (p.stat().st_uid, p.stat().st_gid) == (uid, gid), p


# ---- text from the target ------------------------------------------------

HOSTILE_PY = r"""
import os, sys, types
keep = []

def template(n):
    keep.append(bytearray(n))

NAMES = ["evil\x1b[2J\x1b]0;pwned\x07", "cr\rlf\nfake;frame 999999999",
         "semi;colon\u009b", "bell\x07del\x7f"]
FILE = "/srv/\x1b[31mred\r\nx;y.py"
funcs = []
for i, name in enumerate(NAMES):
    code = template.__code__.replace(co_name=name, co_qualname=name, co_filename=FILE,
                                     co_firstlineno=10 + i)
    funcs.append(types.FunctionType(code, globals(), name))
print("ready", os.getpid(), flush=True)
sys.stdin.read(1)
for f in funcs:
    for _ in range(40):
        f(5000)
print("done", flush=True)
sys.stdin.read(1)
"""

# what a terminal acts on: C0 but the line feed, DEL, C1
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def raw_controls(text):
    return sorted(set(RAW_CONTROL.findall(text)))


def test_hostile_names_are_escaped(tmp_path):
    src = tmp_path / "hostile.py"
    src.write_text(HOSTILE_PY)
    folded, js, snaps = tmp_path / "out.folded", tmp_path / "out.json", tmp_path / "snaps"
    t = start_target(["/usr/bin/python3.11", src])
    wait_ready(t)
    lb = Leakbpf(["-p", t.pid, "-d", "5", "1", "--folded", folded, "--json", js,
                  "--snapshot-every", "1s", "--snapshot-dir", snaps])
    lb.wait_tracing()
    # a first snapshot before the leaks, for the diff below
    deadline = time.monotonic() + 30
    while not (snaps.exists() and any(snaps.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    go(t)
    wait_done(t)
    res = lb.wait(60)
    t.kill()
    assert res.returncode == 0, res.stderr
    # the table (periodic and final) and every message
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in res.stdout, res.stdout
    assert "cr\\x0dlf\\x0afake;frame 999999999" in res.stdout
    assert "semi;colon\\xc2\\x9b" in res.stdout and "bell\\x07del\\x7f" in res.stdout
    assert "/srv/\\x1b[31mred\\x0d\\x0ax;y.py" in res.stdout
    assert raw_controls(res.stdout) == [] and raw_controls(res.stderr) == []

    # folded: exactly one line per stack, ';' only between frames
    report = json.loads(js.read_text())
    stacks = [s for s in report["stacks"] if s["outstanding_bytes"]]
    raw = folded.read_bytes()
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", raw)
    lines = raw.decode().splitlines()
    assert len(lines) == len(stacks), res.stdout
    for line, s in zip(lines, stacks):
        frames, nbytes = line.rsplit(" ", 1)
        assert int(nbytes) == s["outstanding_bytes"]
        assert len(frames.split(";")) == len(s["frames"]), line
    assert sum(int(l.rsplit(" ", 1)[1]) for l in lines) == report["totals"]["outstanding_bytes"]
    assert any("fake\\x3bframe 999999999 (/srv/\\x1b[31mred\\x0d\\x0ax\\x3by.py:" in l
               for l in lines), res.stdout
    assert not any(l.startswith("fake") for l in lines)
    # JSON keeps the names as they are (JSON escapes them itself)
    names = {f["function"] for s in stacks for f in s["frames"]}
    assert "cr\rlf\nfake;frame 999999999" in names, names

    # the snapshots replayed: report and diff escape the same way
    files = sorted(snaps.iterdir())
    assert len(files) >= 2
    rep = run_leakbpf(["report", files[-1], "-T", "20"])
    assert rep.returncode == 0, rep.stderr
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in rep.stdout, rep.stdout
    assert raw_controls(rep.stdout) == [] and raw_controls(rep.stderr) == []
    diff = run_leakbpf(["diff", files[0], files[-1], "-T", "20"])
    assert diff.returncode == 0, diff.stderr
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in diff.stdout, diff.stdout
    assert raw_controls(diff.stdout) == [] and raw_controls(diff.stderr) == []


# an escape sequence and a right-to-left override: 11 bytes, a whole comm
HOSTILE_COMM = "\x1b[7m\u202eevil"
COMM_ESCAPED = "\\x1b[7m\\xe2\\x80\\xaeevil"


def hostile_named(tmp_path, prog):
    """prog under a link named HOSTILE_COMM: executed through it, that name
    is the process's comm."""
    link = tmp_path / HOSTILE_COMM
    link.symlink_to(cprog(prog))
    return link


@pytest.mark.parametrize("mode", ["children", "growth-all"])
def test_hostile_comm_escaped_once(tmp_path, mode):
    js, folded, svg = tmp_path / "r.json", tmp_path / "r.folded", tmp_path / "r.svg"
    outputs = ["--json", js, "--folded", folded, "--flamegraph", svg]
    if mode == "children":  # the parent and its children (forked later)
        t = start_target([hostile_named(tmp_path, "fork_leak")])
        wait_ready(t)
        lb = Leakbpf(["-p", t.pid, "--children", "-d", "60"] + outputs)
        lb.wait_tracing()
        go(t)
        leakers = [line.split()[1] for line in wait_done(t) if line.startswith("child ")]
        lb.signal(signal.SIGINT)
    else:  # a process started after attach, leaking pages until killed
        lb = Leakbpf(["--growth", "-a", "-d", "6"] + outputs)
        lb.wait_tracing()
        t = start_target([hostile_named(tmp_path, "growth_leak"), "--now", "heap", "1024"])
        leakers = [t.pid]
    res = lb.wait(90)
    t.kill()
    assert res.returncode == 0, res.stderr
    rep = load_json(js)
    # JSON holds the text as it is (JSON escapes it itself)
    roots = {f"process {pid} ({HOSTILE_COMM})" for pid in leakers}
    assert roots <= {s["frames"][0]["function"] for s in rep["stacks"]}, (
        roots, [s["frames"][0]["function"] for s in rep["stacks"][:10]])
    shown = {r.replace(HOSTILE_COMM, COMM_ESCAPED) for r in roots}
    # the table and the folded stacks: escaped once, never twice, never raw
    lines = folded.read_text().splitlines()
    for root in shown:
        assert any(line.startswith(root + ";") for line in lines), (root, lines[:5])
    assert any(root in res.stdout for root in shown), res.stdout
    for text in (res.stdout, res.stderr, folded.read_text()):
        assert "\\\\x1b" not in text and "\u202e" not in text and not raw_controls(text)
    # the flame graph's labels: what a label cannot show is one '?' each
    labels = svg.read_text()
    for pid in leakers:
        assert f"process {pid} (?[7m?evil)" in labels, pid
    assert "\u202e" not in labels and not raw_controls(labels)


# ---- inputs of `leakbpf report` and `leakbpf diff` ------------------------

def minimal_doc(stacks="[]", extra=""):
    return ('{"schema":"leakbpf/v1","pid":1,' + extra + '"stacks":' + stacks + "}").encode()


def gzip_stream(chunks):
    """Gzip of the concatenated chunks, compressed piece by piece."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(c) for c in chunks]
    out.append(z.flush())
    return b"".join(out)


def check_refused(path, *mention, timeout=120):
    """`report` and `diff` of path: exit 1 with one line naming path."""
    good = path.parent / "good.json"
    good.write_bytes(minimal_doc())
    for args in (["report", path], ["diff", good, path]):
        res = run_leakbpf(args, timeout=timeout)
        one_error_line(res, f"leakbpf: {path}: ", *mention)
        assert res.stdout == "", res.stdout


def test_report_refuses_what_it_cannot_bound(tmp_path):
    # a gzip bomb: 300 MiB of JSON whitespace in ~300 KiB
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip_stream([b" " * (1 << 20)] * 300 + [minimal_doc()]))
    assert bomb.stat().st_size < 1 << 20
    check_refused(bomb, "more than 256 MiB of JSON")
    # files that are not files
    check_refused(Path("/dev/zero"), "not a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    check_refused(fifo, "not a regular file")
    # a file larger than anything leakbpf writes (sparse: no disk used)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(300 << 20)
    check_refused(huge, "MiB, more than the 256 MiB leakbpf reads")
    # absurd counts, each in a small file
    cases = {
        "stacks": (minimal_doc("[" + ",".join(["{}"] * ((1 << 20) + 1)) + "]"),
                   "more than 1048576 stacks"),
        "frames": (minimal_doc('[{"frames":[' + ",".join(["{}"] * 4097) + "]}]"),
                   "more than 4096 frames in a stack"),
        "all_frames": (minimal_doc("[" + ",".join(['{"frames":[' + ",".join(["{}"] * 4000)
                                                   + "]}"] * 1100) + "]"),
                       "more than 4194304 frames in all"),
        "string": (minimal_doc(extra='"comm":"' + "x" * ((1 << 20) + 1) + '",'),
                   "more than the 1048576 leakbpf reads"),
        "probes": (minimal_doc(extra='"probes":[' + ",".join(["{}"] * 65537) + "],"),
                   "more than 65536 probes"),
    }
    for name, (doc, mention) in cases.items():
        p = tmp_path / f"{name}.json.gz"
        p.write_bytes(gzip.compress(doc))
        check_refused(p, mention)


# ---- --output-stacks -----------------------------------------------------

DEPTHS_C = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep[64];

/* Depth d of recursion makes a stack of its own: 40 distinct stacks. */
__attribute__((noinline)) static void *down(int d, size_t n)
{
	void *p;

	if (d == 0) {
		p = malloc(n);
		memset(p, 1, n);
		return p;
	}
	p = down(d - 1, n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

int main(void)
{
	for (int i = 0; i < 40; i++)
		keep[i] = down(i, 1000 + i);
	usleep(300 * 1000);
	return 0;
}
"""


def check_bounded(d, kept, others):
    """A JSON report of `kept` stacks and one sum of `others`; totals add up."""
    assert d["other_stacks"] == others
    assert len(d["stacks"]) == kept + 1
    summed = [s for s in d["stacks"] if "other_stacks" in s["flags"]]
    assert len(summed) == 1 and summed[0]["frames"][0]["function"] == f"[{others} other stacks]"
    for key in ("outstanding_bytes", "outstanding_count"):
        assert sum(s[key] for s in d["stacks"]) == d["totals"][key], key
    outs = [s["outstanding_bytes"] for s in d["stacks"]]
    assert outs == sorted(outs, reverse=True)


def test_output_stacks_bound(tmp_path):
    src, exe = tmp_path / "depths.c", tmp_path / "depths"
    src.write_text(DEPTHS_C)
    subprocess.run(["cc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", exe, src], check=True)
    # without the option: every stack (fewer than the default 1000)
    full = tmp_path / "full.json"
    res = run_leakbpf(["-q", "-c", exe, "--json", full], timeout=90)
    assert res.returncode == 0, res.stderr
    d = json.loads(full.read_text())
    assert "other_stacks" not in d and len(d["stacks"]) >= 40
    nstacks = len(d["stacks"])

    out = {"folded": tmp_path / "b.folded", "flamegraph": tmp_path / "b.svg",
           "json": tmp_path / "b.json", "speedscope": tmp_path / "b.speedscope.json",
           "pprof": tmp_path / "b.pb.gz"}
    args = ["-q", "-c", exe, "--output-stacks", "10"]
    for fmt, p in out.items():
        args += [f"--{fmt}", p]
    res = run_leakbpf(args, timeout=90)
    assert res.returncode == 0, res.stderr
    d = json.loads(out["json"].read_text())
    others = d["other_stacks"]
    check_bounded(d, 10, others)
    assert others >= 30, others
    assert re.search(rf"wrote JSON report to {re.escape(str(out['json']))}: the 10 stacks with "
                     rf"most outstanding bytes, and {others} other stacks summed into one",
                     res.stderr), res.stderr
    total = d["totals"]["outstanding_bytes"]
    folded = out["folded"].read_text().splitlines()
    assert len(folded) == sum(1 for s in d["stacks"] if s["outstanding_bytes"])
    assert sum(int(l.rsplit(" ", 1)[1]) for l in folded) == total
    assert any(l.startswith(f"[{others} other stacks] ") for l in folded), folded
    svg = ET.parse(out["flamegraph"]).getroot()
    assert int(svg.get("data-total")) == total
    ss = json.loads(out["speedscope"].read_text())
    assert sum(ss["profiles"][0]["weights"]) == total
    assert gzip.decompress(out["pprof"].read_bytes())  # a whole gzip member

    # rendered again with a smaller bound: the old sum joins the new one
    res = run_leakbpf(["report", out["json"], "--output-stacks", "4", "--json", "-"])
    assert res.returncode == 0, res.stderr
    again = json.loads(res.stdout)
    check_bounded(again, 4, others + 6)
    assert again["totals"] == d["totals"]
    assert "the 4 stacks with most outstanding bytes" in res.stderr
    # --output-stacks 0: everything
    res = run_leakbpf(["report", full, "--output-stacks", "0", "--json", "-"])
    assert len(json.loads(res.stdout)["stacks"]) == nstacks


# ---- when outputs are checked ---------------------------------------------

def test_bad_outputs_fail_before_tracing(tmp_path):
    marker = tmp_path / "ran"
    cmd = ["-c", f"/bin/touch {marker}"]
    for args, mention in (
            (["--json", "/no/such/dir/x.json"], "JSON report /no/such/dir/x.json: /no: No such"),
            (["--folded", tmp_path], "it is a directory"),
            (["--snapshot-every", "1s", "--snapshot-dir", "/proc/version/x"],
             "snapshot directory '/proc/version/x'")):
        res = run_leakbpf(cmd + args, timeout=30)
        line = one_error_line(res, mention)
        assert TRACING_PREFIX not in res.stderr, line
        assert not marker.exists(), "the command ran although an output was bad"


def test_failed_write_is_reported():
    res = run_leakbpf(SHORT_RUN + ["--folded", "/dev/full", "--json", "/dev/null"])
    assert res.returncode == 1, res.stderr
    assert re.search(r"^leakbpf: writing folded stacks /dev/full failed: No space left on "
                     r"device$", res.stderr, re.M), res.stderr
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")
