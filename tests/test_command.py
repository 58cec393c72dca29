"""Commands started by leakbpf (issue 10, items 10 and 11).

leakbpf [options] -- CMD ARG... runs exactly that argv; -c "STRING" splits
it as a shell would, expanding nothing. The command is detached once
tracing is set up: its signals go straight to it (a 1 ms timer keeps its
pace), leakbpf exits with its status, never writes to its stdout, and
leaves its environment alone.
"""

import json
import os
import subprocess

import pytest

from checks import assert_exact, assert_sane
from lbtest import cprog, parse_expect, run_leakbpf

PACE_SECONDS = 3
# Untraced and traced runs of the timer program share the machine with
# other work; the ratio is measured on units, not time. Under ptrace it
# was 0.014 (103 units of 7,525); detached it is 0.99-1.01 here. Below 0.7
# the command is being slowed by leakbpf.
PACE_RATIO_MIN = 0.7


def units(out):
    lines = [l for l in out.splitlines() if l.startswith("units ")]
    assert lines, out
    return int(lines[-1].split()[1])


def test_timer_command_keeps_its_pace(tmp_path):
    argv = [cprog("timer_pace"), str(PACE_SECONDS)]
    plain = units(subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout)
    js = tmp_path / "r.json"
    res = run_leakbpf(["-q", "--json", js, "--"] + argv, timeout=120)
    assert res.returncode == 0, res.stderr
    traced = units(res.stdout)
    assert plain > 0.5 * PACE_SECONDS * 1000, f"the timer itself is slow here: {plain}"
    assert traced >= PACE_RATIO_MIN * plain, f"{traced} work units traced, {plain} untraced"
    assert_sane(load(js))


def load(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.parametrize("form", ["--", "-c"])
@pytest.mark.parametrize("status", [0, 7])
def test_exit_status_and_stdout(form, status, tmp_path):
    """leakbpf exits with the command's status; its stdout is the command's
    alone (the table goes to stderr)."""
    argv = [cprog("cmd_output"), str(status), "300"]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    js = tmp_path / "r.json"
    cmd = ["--"] + argv if form == "--" else ["-c", " ".join(argv)]
    res = run_leakbpf(["--json", js] + cmd, timeout=120)
    assert res.returncode == status, res.stderr
    assert res.stdout == plain.stdout, "leakbpf wrote into the command's stdout"
    assert "final report" in res.stderr
    rep = load(js)
    assert rep["exit_status"] == status
    leaks, _ = parse_expect(plain.stdout.splitlines())
    assert_exact(rep, leaks, set())


def test_killed_command_status():
    res = run_leakbpf(["-q", "--", "sh", "-c", "kill -TERM $$"], timeout=60)
    assert res.returncode == 128 + 15, res.stderr


def test_ended_by_leakbpf_is_success(tmp_path):
    """-d ends tracing first: the command is stopped as under timeout(1),
    and a complete report is a success."""
    res = run_leakbpf(["-q", "-d", "1", "--json", tmp_path / "r.json", "--", "sleep", "30"],
                      timeout=60)
    assert res.returncode == 0, res.stderr
    assert load(tmp_path / "r.json")["target_exited"] is True


def test_report_to_stdout_after_the_command():
    """--json - with a command: the document is written once the command
    ended, after all it wrote (tables and messages go to stderr)."""
    argv = [cprog("cmd_output"), "0", "50"]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    res = run_leakbpf(["--json", "-", "--"] + argv, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(plain.stdout)
    assert_sane(json.loads(res.stdout[len(plain.stdout):]))


def test_not_found_and_not_runnable(tmp_path):
    res = run_leakbpf(["--", "/nonexistent/program"], timeout=30)
    assert res.returncode == 127, res.stderr
    assert "not found" in res.stderr
    script = tmp_path / "noexec.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    os.chmod(script, 0o644)
    res = run_leakbpf(["--", str(script)], timeout=30)
    assert res.returncode in (126, 127), res.stderr


def test_environment_passes_through():
    """DEBUGINFOD_URLS is unset for leakbpf's own elfutils only."""
    env = dict(os.environ, DEBUGINFOD_URLS="https://debuginfod.example", LB_MARK="x y")
    res = run_leakbpf(["-q", "--", "sh", "-c", 'echo "[$DEBUGINFOD_URLS][$LB_MARK]"'],
                      timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "[https://debuginfod.example][x y]\n"


# --- argv forms -----------------------------------------------------------

ARGS = ["a b", "", "$HOME", "*", "it's", 'say "hi"', "back\\slash", "semi;colon", "--", "-c"]


def test_dashdash_runs_exactly_that_argv():
    res = run_leakbpf(["-q", "--", "/usr/bin/python3", "-c", "import sys; print(sys.argv[1:])"] + ARGS,
                      timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == repr(ARGS) + "\n"


def test_c_splits_as_a_shell_and_expands_nothing():
    cmd = ("/usr/bin/python3 -c 'import sys; print(sys.argv[1:])' 'a b' '' $HOME '*' "
           "\"it's\" 'say \"hi\"' back\\\\slash semi\\;colon -- -c")
    assert subprocess.run(["sh", "-c", "set -f; " + cmd.replace("$HOME", "'$HOME'")],
                          capture_output=True, text=True).stdout == repr(ARGS) + "\n"
    res = run_leakbpf(["-q", "-c", cmd], timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == repr(ARGS) + "\n"


def test_perl_one_liner_of_the_issue(tmp_path):
    if subprocess.run(["which", "perl"], capture_output=True).returncode:
        pytest.skip("no perl")
    js = tmp_path / "r.json"
    res = run_leakbpf(["-q", "--json", js, "-c",
                       "perl -e my@a=map{{k=>$_,v=>[$_]}}1..2000;print(scalar(@a))"],
                      timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "2000"
    assert_sane(load(js))


def test_c_with_dashdash_refused():
    """-c sleep -- 1 used to run sleep without its argument."""
    res = run_leakbpf(["-c", "sleep", "--", "1"], timeout=30)
    assert res.returncode == 2
    assert "-c" in res.stderr and res.stderr.count("\n") == 1, res.stderr


@pytest.mark.parametrize("cmd", ["make | tee log", "python3 -c 'unclosed", "sleep 1 &"])
def test_c_refusals(cmd):
    res = run_leakbpf(["-c", cmd], timeout=30)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("leakbpf: ") and res.stderr.count("\n") == 1, res.stderr
