"""C++ names and inline frames, on programs built with -O2 -g.

tests/c/cxx_service.cc keeps a `new Session` per request in a std::map: at
-O2 the STL code between open_session(int) and operator new is inlined, so
only DWARF names it. Every output must show the demangled names, and the
table, JSON and pprof the inlined functions as frames of their own, marked
inlined, between open_session(int) and operator new, exactly as elfutils'
eu-addr2line -i reads them from the same DWARF at the same address.
tests/c/leak_inline.c allocates in two nested static inline functions: each
appears with its own file:line, and its caller at the line of the call.

The program is also built without frame pointers: until leakbpf unwinds
with DWARF CFI (issue 9), the frame-pointer walk loses open_session's
callers there, so those stack assertions are expected to fail.
"""

import gzip
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from checks import assert_exact, assert_no_drops, assert_sane
from lbtest import REPO, cprog, describe, run_leakbpf, stack_with, trace_target
from test_exports import go_pprof, validate_report

VECTOR_CTOR = "std::vector<int, std::allocator<int> >::vector("
OPERATOR_NEW = "operator new(unsigned long)"


def names(stack):
    return [f.get("function") or "" for f in stack["frames"]]


def index_of(stack, prefix):
    """Index of the first frame whose function starts with prefix, or None."""
    return next((i for i, n in enumerate(names(stack)) if n.startswith(prefix)), None)


def addr2line_chain(binary, offset):
    """[(function, file basename, line)] at a return address, innermost first,
    as eu-addr2line -i reads DWARF (the oracle for the inline frames)."""
    out = subprocess.run(["eu-addr2line", "-i", "-f", "-C", "-e", binary, f"{offset - 1:#x}"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) % 2 == 0 and out, out
    chain = []
    for fn, loc in zip(out[0::2], out[1::2]):
        fn = re.sub(r" inlined at .* in .*$", "", fn)
        m = re.match(r"(.*?):(\d+)(?::\d+)?$", loc)
        assert m, loc
        chain.append((fn, os.path.basename(m.group(1)), int(m.group(2))))
    return chain


def session_stacks(rep):
    """Stacks of the session's buffer: a vector constructor below open_session."""
    return [s for s in stack_with(rep, "open_session") if index_of(s, VECTOR_CTOR) is not None]


def check_service_stacks(tr, binary):
    rep = tr.report
    assert_sane(rep, pid=tr.target.pid)
    assert_no_drops(rep)
    assert_exact(rep, tr.leaks, tr.clean)
    exe = os.path.basename(binary)
    bufs = session_stacks(rep)
    assert bufs, f"no stack with {VECTOR_CTOR} below open_session:\n{describe(rep)}"
    for s in bufs:
        n = names(s)
        main, handle, sess = index_of(s, "main"), n.index("handle(int)"), n.index(
            "open_session(int)")
        new = n.index(OPERATOR_NEW)
        assert main is not None and main < handle < sess < new, n
        # the frames between open_session and operator new are its inlined
        # callees, at open_session's address, exactly as DWARF has them
        inl = s["frames"][sess + 1:new]
        assert inl and all(f.get("inlined") is True for f in inl), s["frames"]
        own = s["frames"][sess]
        assert "inlined" not in own and os.path.basename(own["module"]) == exe, own
        assert all(f["offset"] == own["offset"] for f in inl), s["frames"]
        ours = [(f["function"], os.path.basename(f["file"] or ""), f["line"])
                for f in reversed(s["frames"][sess:new])]
        assert ours == addr2line_chain(binary, own["offset"]), ours
        vec = s["frames"][index_of(s, VECTOR_CTOR)]
        assert vec["file"].endswith("stl_vector.h") and vec["line"] > 0, vec
    # C++ names are demangled everywhere in the report
    for s in rep["stacks"]:
        for f in s["frames"]:
            assert not (f.get("function") or "").startswith("_Z"), f
    # the map node: operator[] inlined in handle
    nodes = [s for s in stack_with(rep, "handle")
             if any(n.startswith("std::map<int, Session*") and "operator[]" in n
                    for n in names(s))]
    assert nodes, describe(rep)
    for s in nodes:
        k = next(i for i, n in enumerate(names(s)) if "operator[]" in n)
        assert s["frames"][k].get("inlined") is True and names(s)[k - 1] == "handle(int)", \
            names(s)


def check_service_table(stdout):
    """The table, leaf first: operator new, the inlined STL frames marked
    (inlined), then open_session(int), handle(int), main."""
    blocks = stdout.split("\n#")
    mine = [b for b in blocks if VECTOR_CTOR in b and "open_session(int)" in b]
    assert mine, stdout
    for b in mine:
        lines = [l.strip() for l in b.splitlines()[1:] if l.strip()]
        at = {key: next(i for i, l in enumerate(lines) if l.startswith(key))
              for key in (OPERATOR_NEW, VECTOR_CTOR, "open_session(int)", "handle(int)",
                          "main ")}
        assert at[OPERATOR_NEW] < at[VECTOR_CTOR] < at["open_session(int)"] < \
            at["handle(int)"] < at["main "], lines
        for l in lines[at[OPERATOR_NEW] + 1:at["open_session(int)"]]:
            assert l.endswith(" (inlined)"), l
        assert not lines[at["open_session(int)"]].endswith("(inlined)"), lines


def check_service_pprof(path):
    """go tool pprof -traces: the inlined frames are Lines of open_session's
    Location, which pprof marks (inline)."""
    traces = go_pprof("-traces", "-sample_index=inuse_space", path)
    blocks = [b for b in traces.split("-----------+") if "open_session(int)" in b]
    good = 0
    for b in blocks:
        lines = [re.sub(r"^\s*\S+\s{2,}", "", l).strip() for l in b.splitlines()]
        lines = [l for l in lines if l and not l.startswith("-")]
        if not any(l.startswith("std::vector::vector") for l in lines):
            continue
        vec = next(i for i, l in enumerate(lines) if l.startswith("std::vector::vector"))
        sess = lines.index("open_session(int)")
        assert lines[0] == OPERATOR_NEW and 0 < vec < sess, lines
        assert all(l.endswith("(inline)") for l in lines[1:sess]), lines
        # (-traces lists handle_and_close's samples too, with 0 bytes)
        assert lines[sess + 1] in ("handle(int)", "handle_and_close(int)"), lines
        assert lines[sess + 2] == "main", lines
        good += 1
    assert good, traces


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """One traced run of cxx_service_fp writing every output."""
    d = tmp_path_factory.mktemp("cxx")
    out = {"pprof": d / "out.pb.gz", "folded": d / "out.folded", "svg": d / "out.svg",
           "speedscope": d / "out.speedscope.json", "snapshots": d / "snap"}
    tr = trace_target([cprog("cxx_service_fp")], duration=3,
                      extra_args=["--pprof", out["pprof"], "--folded", out["folded"],
                                  "--flamegraph", out["svg"], "--speedscope",
                                  out["speedscope"], "--snapshot-every", "1",
                                  "--snapshot-dir", out["snapshots"]])
    assert tr.result.returncode == 0, tr.result.stderr
    tr.out = out
    return tr


def test_service_stacks_with_frame_pointers(service):
    check_service_stacks(service, cprog("cxx_service_fp"))
    check_service_table(service.result.stdout)
    check_service_pprof(service.out["pprof"])


def test_service_stacks_without_frame_pointers(tmp_path):
    pprof = tmp_path / "out.pb.gz"
    tr = trace_target([cprog("cxx_service_nofp")], extra_args=["--pprof", pprof])
    assert tr.result.returncode == 0, tr.result.stderr
    check_service_stacks(tr, cprog("cxx_service_nofp"))
    check_service_table(tr.result.stdout)
    check_service_pprof(pprof)


def test_service_without_frame_pointers_names_and_bytes():
    """What does not depend on the walk: every byte the service leaks is
    there, below a demangled operator new, with its inlined STL frames."""
    tr = trace_target([cprog("cxx_service_nofp")])
    rep = tr.report
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(rep, pid=tr.target.pid)
    assert_no_drops(rep)
    total = sum(s["outstanding_bytes"] for s in stack_with(rep, "operator new"))
    assert total == tr.leaks["handle"][1], describe(rep)
    assert session_stacks(rep), describe(rep)
    assert OPERATOR_NEW in tr.result.stdout and "(inlined)" in tr.result.stdout


def test_names_in_every_output(service):
    """Demangled names and inline frames in folded, SVG, speedscope and the
    snapshots; `leakbpf report` renders a snapshot with the marks kept."""
    folded = service.out["folded"].read_text()
    line = next((l for l in folded.splitlines() if VECTOR_CTOR in l), None)
    assert line, folded[:3000]
    frames = [re.sub(r" \([^()]*:\d+\)$", "", f) for f in line.rpartition(" ")[0].split(";")]
    k = frames.index("open_session(int)")
    assert frames[k - 1] == "handle(int)" and frames[k + 1] == "Session::Session(int)", frames

    svg = service.out["svg"].read_text()
    ET.fromstring(svg)
    assert "open_session(int)" in svg and "Session::Session(int)" in svg
    assert "std::vector&lt;int, std::allocator&lt;int&gt; &gt;::vector(" in svg

    sp = json.loads(service.out["speedscope"].read_text())
    spnames = {f["name"] for f in sp["shared"]["frames"]}
    assert {"open_session(int)", "handle(int)", "Session::Session(int)"} <= spnames, spnames
    assert any(n.startswith(VECTOR_CTOR) for n in spnames), spnames

    snaps = sorted(service.out["snapshots"].glob("*.json.gz"))
    assert snaps, "no snapshot written"
    snap = json.loads(gzip.decompress(snaps[-1].read_bytes()))
    validate_report(snap)
    assert session_stacks(snap), describe(snap)
    res = run_leakbpf(["report", snaps[-1]])
    assert res.returncode == 0, res.stderr
    assert re.search(r"Session::Session\(int\) \(\S*cxx_service\.cc:\d+\) \(inlined\)",
                     res.stdout), res.stdout
    check_service_table(res.stdout)


def test_report_round_trip_keeps_inline_frames(service, tmp_path):
    """JSON -> `leakbpf report` -> JSON and pprof: the same bytes."""
    j1, j2, p2 = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "b.pb.gz"
    res = run_leakbpf(["report", sorted(service.out["snapshots"].glob("*.json.gz"))[-1],
                       "--json", j1])
    assert res.returncode == 0, res.stderr
    res = run_leakbpf(["report", j1, "--json", j2, "--pprof", p2])
    assert res.returncode == 0, res.stderr
    assert j1.read_bytes() == j2.read_bytes()
    assert '"inlined":true' in j2.read_text()
    check_service_pprof(p2)


def _marker_line(source, marker):
    for i, line in enumerate(open(source).read().split("\n"), 1):
        if f"MARK:{marker}" in line:
            return i
    raise AssertionError(f"no MARK:{marker} in {source}")


def test_static_inline_c_function(tmp_path):
    """leak_records calls new_record, which calls make_item, which calls
    malloc; both are inlined: each is a frame with its own line, marked
    inlined, and each caller's frame shows the line of its call."""
    src = str(REPO / "tests" / "c" / "leak_inline.c")
    pprof = tmp_path / "out.pb.gz"
    tr = trace_target([cprog("leak_inline")], extra_args=["--pprof", pprof])
    rep = tr.report
    assert tr.result.returncode == 0, tr.result.stderr
    assert_sane(rep, pid=tr.target.pid)
    assert_no_drops(rep)
    assert_exact(rep, tr.leaks, tr.clean)
    want = [("leak_records", _marker_line(src, "new_record"), False),
            ("new_record", _marker_line(src, "make_item"), True),
            ("make_item", _marker_line(src, "alloc"), True)]
    st = stack_with(rep, "leak_records")
    assert st, describe(rep)
    for s in st:
        n = names(s)
        k = n.index("leak_records")
        got = [(f["function"], f["line"], f.get("inlined", False))
               for f in s["frames"][k:k + 3]]
        assert got == want, s["frames"]
        assert all(f["file"].endswith("leak_inline.c") for f in s["frames"][k:k + 3])
        assert n[k - 1] == "main", n
    text = tr.result.stdout
    assert re.search(rf"make_item \(\S*leak_inline\.c:{want[2][1]}\) \(inlined\)\n\s+"
                     rf"new_record \(\S*leak_inline\.c:{want[1][1]}\) \(inlined\)\n\s+"
                     rf"leak_records \(\S*leak_inline\.c:{want[0][1]}\)\n", text), text
    traces = go_pprof("-traces", "-sample_index=inuse_space", pprof)
    assert re.search(r"make_item \(inline\)\n\s+new_record \(inline\)\n\s+leak_records\n",
                     traces), traces
