"""--flamegraph: the SVG leakbpf writes itself, checked against a real run.

A tiny leaker is compiled into the test's tmp dir (three functions leaking
known byte totals), run under `leakbpf -c ... --flamegraph F --folded G`,
and the SVG is compared with the merged tree rebuilt from the folded stacks
of the same run: one <rect class="f"> per frame box, the same names and byte
totals, and the three leaks with their exact totals in the tooltips.
"""

import os
import re
import signal
import subprocess
import xml.etree.ElementTree as ET

from lbtest import LEAKBPF, run_leakbpf

SVG = "{http://www.w3.org/2000/svg}"

LEAKER_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep[32];
static int nkeep;

/* Touch and keep the block: nothing is ever freed. */
__attribute__((noinline)) static void hold(void *p, size_t n)
{
	memset(p, 1, n);
	keep[nkeep++] = p;
}

__attribute__((noinline)) void leak_small(void)
{
	for (int i = 0; i < 10; i++)
		hold(malloc(48), 48);
}

__attribute__((noinline)) void leak_medium(void)
{
	for (int i = 0; i < 5; i++)
		hold(malloc(1000), 1000);
}

__attribute__((noinline)) void leak_large(void)
{
	for (int i = 0; i < 2; i++)
		hold(malloc(65536), 65536);
}

int main(int argc, char **argv)
{
	FILE *f = fopen(argv[1], "w");
	int null = open("/dev/null", O_RDWR);

	/* let go of leakbpf's stdio: whoever reads it must not wait for us */
	for (int fd = 0; fd < 3; fd++)
		dup2(null, fd);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	leak_small();
	leak_medium();
	leak_large();
	/* stay alive (and readable) past leakbpf's -d; the test kills us */
	for (int i = 0; i < 60; i++)
		sleep(1);
	return 0;
}
"""

# function -> outstanding bytes it leaks
LEAKS = {"leak_small": 10 * 48, "leak_medium": 5 * 1000, "leak_large": 2 * 65536}


def build_leaker(tmp_path):
    src = tmp_path / "leaker.c"
    src.write_text(LEAKER_C)
    exe = tmp_path / "leaker"
    subprocess.run(["cc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe), str(src)],
                   check=True)
    return exe


def kill_leaker(pidfile, exe):
    """Kill the leaker by the pid it wrote, after checking it is still ours."""
    try:
        pid = int(pidfile.read_text())
        if os.readlink(f"/proc/{pid}/exe") == str(exe):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def folded_tree(path):
    """Merged tree of a folded file: {(frame, ...): bytes}, () is the root."""
    tree = {(): 0}
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        stack, nbytes = line.rsplit(" ", 1)
        frames = tuple(stack.split(";"))
        tree[()] += int(nbytes)
        for i in range(1, len(frames) + 1):
            tree[frames[:i]] = tree.get(frames[:i], 0) + int(nbytes)
    return tree


def svg_frames(root):
    """[(depth, start, bytes, name, tooltip)] of every frame box, checking the
    one-rectangle-per-box structure on the way."""
    out = []
    for g in root.iter(SVG + "g"):
        if g.get("class") != "fg":
            continue
        rects = [r for r in g.iter(SVG + "rect") if r.get("class") == "f"]
        assert len(rects) == 1, f"frame group with {len(rects)} frame rects"
        tip = g.find(SVG + "title").text
        name, info = tip.split("\n", 1)
        m = re.search(r"\((\d+) bytes\)", info)
        assert m and int(m.group(1)) == int(g.get("data-b")), tip
        out.append((int(g.get("data-d")), int(g.get("data-s")), int(g.get("data-b")), name, tip))
    return out


def human(b):
    units = ["B", "KiB", "MiB", "GiB"]
    i = 0
    v = float(b)
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    return f"{b} B" if i == 0 else f"{v:.2f} {units[i]}"


def outermost_total(frames, pattern):
    """Bytes of the frames whose name matches, not counting a match nested in
    a counted one (the same rule as the SVG's search)."""
    hits = sorted((s, d, b) for d, s, b, name, _ in frames if re.match(pattern, name))
    total, end = 0, -1
    for s, _, b in hits:
        if s >= end:
            total += b
            end = s + b
    return total


def test_flamegraph_matches_folded_and_leaks(tmp_path):
    assert LEAKBPF.exists(), f"{LEAKBPF} is missing: run `make` first"
    exe = build_leaker(tmp_path)
    pidfile = tmp_path / "leaker.pid"
    svg_path = tmp_path / "out.svg"
    folded_path = tmp_path / "out.folded"
    try:
        res = run_leakbpf(["-c", f"{exe} {pidfile}", "-d", "4", "--flamegraph", svg_path,
                           "--folded", folded_path], timeout=90)
    finally:
        kill_leaker(pidfile, exe)
    assert res.returncode == 0, f"leakbpf failed ({res.returncode}):\n{res.stderr}"
    assert svg_path.exists() and folded_path.exists(), res.stderr

    root = ET.parse(svg_path).getroot()  # well-formed XML, or this raises
    assert root.tag == SVG + "svg"
    assert root.find(SVG + "script") is not None, "no interactivity script"

    # Every rectangle is either a frame box or carries another class.
    rects = list(root.iter(SVG + "rect"))
    assert all(r.get("class") for r in rects), "rectangle without a class"
    frects = [r for r in rects if r.get("class") == "f"]
    frames = svg_frames(root)
    assert len(frects) == len(frames)

    # The merged tree of the folded output, less frames under 0.1 px, is
    # exactly the set of boxes drawn ("all" is the root box).
    tree = folded_tree(folded_path)
    total = tree[()]
    fw = float(root.get("data-fw"))
    assert total > 0 and int(root.get("data-total")) == total
    drawn = {k: b for k, b in tree.items() if b * fw >= 0.1 * total}
    expected = sorted((len(k), k[-1] if k else "all", b) for k, b in drawn.items())
    # the folded output turns ';' in names into ':'
    got = sorted((d, name.replace(";", ":"), b) for d, _, b, name, _ in frames)
    assert len(frects) == len(drawn), f"{len(frects)} frame rects, tree has {len(drawn)} boxes"
    assert got == expected
    assert int(root.get("data-omitted")) == len(tree) - len(drawn)

    # The three leaks, with their exact and human-readable totals.
    for fn, nbytes in LEAKS.items():
        pattern = rf"{fn}\b"
        assert outermost_total(frames, pattern) == nbytes, (fn, [f[4] for f in frames
                                                                   if re.match(pattern, f[3])])
        tips = [tip for _, _, _, name, tip in frames if re.match(pattern, name)]
        assert any(f"{human(nbytes)} ({nbytes} bytes)" in t for t in tips), (fn, tips)

    # Header: total outstanding, target, drop summary (always present).
    header = {t.get("id"): "".join(t.itertext()) for t in root.findall(SVG + "text")}
    text = " | ".join(header.values()) + " | " + " | ".join(
        "".join(t.itertext()) for t in root.findall(SVG + "text") if not t.get("id"))
    assert f"({total} bytes)" in text, text
    assert "(leaker)" in text, text
    assert header.get("drops", "").startswith("drops: "), header

