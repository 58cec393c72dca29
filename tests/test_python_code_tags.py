"""Code objects made in turn at one address (issue 10, item 8).

Six functions made one after another with CodeType.replace and a name
built at runtime (its str hash never computed), each called, then dropped:
the code object, and often its name, take the address of the one before.
On CPython 3.11 (and 3.8-3.10) nothing else tells them apart but the
name's text, which the code tag now includes while the hash is not known;
3.12+ have co_version. Each function's blocks must carry its own name.
"""

import os
import subprocess

import pytest

from checks import assert_sane
from lbtest import load_json, run_leakbpf
from test_nested_calls import pyenv_python

# Each function is kept alive for a while after its allocations, so that
# leakbpf reads its records (every 25 ms) while its code object lives.
SCRIPT = """\
import os, sys, time
KEEP = [None] * 128  # never resized: only the functions' blocks
N = [0]
def template(n):
    for _ in range(n):
        KEEP[N[0]] = bytearray(3000)
        N[0] += 1
def make(i):
    name = (b"made %d fn!" % i).decode()  # built at runtime: no hash computed
    kw = {"co_name": name}
    if sys.version_info >= (3, 11):
        kw["co_qualname"] = name
    code = template.__code__.replace(**kw)
    f = type(template)(code, globals(), name)
    f(10 + i)
    time.sleep(0.5)
    del f, code, name
for i in range(6):
    make(i)
os._exit(0)  # keep the blocks: no finalization
"""


@pytest.mark.parametrize("python", ["debian-3.11", "3.8", "3.9", "3.10", "3.11", "3.12"])
def test_code_objects_made_in_turn(python, tmp_path):
    exe = "/usr/bin/python3.11" if python == "debian-3.11" else pyenv_python(
        int(python.split(".")[1]))
    script = tmp_path / "six.py"
    script.write_text(SCRIPT)
    js = tmp_path / "r.json"
    res = run_leakbpf(["-q", "--json", js, "--", exe, str(script)], timeout=120)
    assert res.returncode == 0, res.stderr
    rep = load_json(js)
    assert_sane(rep)
    assert rep["python"], "Python support must be on"
    counts = {}
    for s in rep["stacks"]:
        names = [f.get("function") or "" for f in s["frames"]]
        if "make" not in names:
            continue
        callee = names[names.index("make") + 1:]
        made = [n for n in callee if n.startswith("made ")]
        if s["outstanding_count"] and made:
            counts[made[0]] = counts.get(made[0], 0) + s["outstanding_count"]
    want = {f"made {i} fn!": 10 + i for i in range(6)}
    assert counts == want, f"blocks by function: {counts}"
