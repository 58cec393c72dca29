"""The Python field scenarios (tests/py_scenarios/) as both modes' suites use
them: the interpreters that run them, the line each marks "# LEAK", and
what a report says of that line."""

import ast
import glob
import os
import re
import subprocess
from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "py_scenarios"
DEBIAN_PY = "/usr/bin/python3.11"

LEAK_SCENARIOS = [
    "s1_sync_job",
    "s2_root_handlers",
    "s3_connection_loggers",
    "s4_tcp_server",
    "s5_gc_cycles",
    "s6_queue_backlog",
    "s7_ctypes_malloc",
]
CONTROL = "s8_control_churn"


def _pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if not root:
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = ""
    return root or os.path.expanduser("~/.pyenv")


def pyenv_latest(minor):
    """Newest installed pyenv CPython 3.MINOR.x (a plain release: no -dev,
    no free-threaded 't' build), or None."""
    best = None
    for d in glob.glob(os.path.join(_pyenv_root(), "versions", "3.%d.*" % minor)):
        m = re.fullmatch(r"3\.%d\.(\d+)" % minor, os.path.basename(d))
        exe = os.path.join(d, "bin", "python3")
        if m and os.access(exe, os.X_OK) and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), exe)
    return best[1] if best else None


def label(exe, fallback):
    if exe is None:
        return fallback
    if exe == DEBIAN_PY:
        return "debian3.11"
    return "pyenv" + Path(exe).parent.parent.name


def leak_lines(path):
    """Line numbers (1-based) of the lines that end with '# LEAK'."""
    with open(path) as f:
        return [i for i, line in enumerate(f, 1) if line.rstrip().endswith("# LEAK")]


def is_python(frame):
    return frame.get("kind") == "python"


def through(stack, basename, lines):
    """Whether the stack has a Python frame at basename:line (line in lines)."""
    return any(is_python(f) and f.get("file") and os.path.basename(f["file"]) == basename
               and f.get("line") in lines for f in stack.get("frames", []))


def through_file(stack, basename):
    return any(is_python(f) and f.get("file") and os.path.basename(f["file"]) == basename
               for f in stack.get("frames", []))


def out_bytes(stacks):
    return sum(s.get("outstanding_bytes", 0) for s in stacks)


def scenario_argv(exe, scenario, args, tmp_path):
    """The command line of a scenario under exe (s7 builds its library in tmp_path)."""
    argv = [exe, str(SCENARIO_DIR / (scenario + ".py"))] + list(args)
    if scenario == "s7_ctypes_malloc" and "--libc" not in args:
        argv += ["--lib-dir", str(tmp_path)]
    return argv


def module_constant(path, name):
    """An integer constant of a scenario (the scenario is not imported: it
    runs in the interpreter under test, not in pytest's). Top-level
    assignments of integer arithmetic over earlier such constants only."""
    env = {}

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.Sub)):
            a, b = value(node.left), value(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b if isinstance(
                node.op, ast.Mult) else a - b
        raise ValueError(ast.dump(node))

    for node in ast.parse(Path(path).read_text()).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            try:
                env[node.targets[0].id] = value(node.value)
            except (ValueError, KeyError):
                pass
    return env[name]
