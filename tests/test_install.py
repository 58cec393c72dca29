"""`make install`: the binary, the leakbpf(8) man page and bash completion.

Installs into a DESTDIR under the test's tmp dir, then checks the files and
their modes, that the man page renders without a single groff warning and
has every section a system tool's page has, and that the man page and the
completion both know every option `leakbpf --help` lists (so they cannot
drift from the code).
"""

import os
import re
import shutil
import stat
import subprocess

import pytest

from lbtest import LEAKBPF, REPO

SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS", "OUTPUT FORMATS",
            "EXAMPLES", "EXIT STATUS", "FILES", "SEE ALSO"]


def make_install(destdir, *args):
    r = subprocess.run(["make", "-s", "-C", str(REPO), "install", f"DESTDIR={destdir}"]
                       + list(args), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make install failed:\n{r.stdout}{r.stderr}"


@pytest.fixture(scope="module")
def dest(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    make_install(d, "PREFIX=/usr")
    return d


def long_options(*sub):
    r = subprocess.run([str(LEAKBPF)] + list(sub) + ["--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    opts = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", r.stdout))
    assert len(opts) >= 3, r.stdout
    return opts


def test_files_and_modes(dest):
    files = {
        "usr/sbin/leakbpf": 0o755,
        "usr/share/man/man8/leakbpf.8": 0o644,
        "usr/share/bash-completion/completions/leakbpf": 0o644,
    }
    for rel, mode in files.items():
        p = dest / rel
        assert p.is_file(), f"{rel} not installed"
        assert stat.S_IMODE(p.stat().st_mode) == mode, (rel, oct(p.stat().st_mode))
    assert (dest / "usr/share/man/man8/leakbpf.8").read_bytes() == \
        (REPO / "doc/leakbpf.8").read_bytes()
    r = subprocess.run([str(dest / "usr/sbin/leakbpf"), "--version"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.startswith("leakbpf ")
    # nothing outside PREFIX
    assert sorted(p.name for p in dest.iterdir()) == ["usr"]


def test_default_prefix_is_usr_local(tmp_path):
    make_install(tmp_path)
    assert (tmp_path / "usr/local/sbin/leakbpf").is_file()
    assert (tmp_path / "usr/local/share/man/man8/leakbpf.8").is_file()


def render(page):
    """The page through groff (every warning enabled) and through man."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stderr == "", f"groff warnings:\n{r.stderr}"
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                           text=True, env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="",
                                               MANPAGER="cat", PAGER="cat"))
    else:
        r = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=100n", str(page)],
                           capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    # plain text: drop overstrike bold/underline if any
    return re.sub(r".\x08", "", r.stdout)


def test_man_page_renders_with_every_section(dest):
    text = render(dest / "usr/share/man/man8/leakbpf.8")
    assert re.match(r"LEAKBPF\(8\)", text.lstrip()), text[:200]
    headings = re.findall(r"^([A-Z][A-Z ]+)$", text, re.M)
    for s in SECTIONS:
        assert s in headings, f"no {s} section; sections: {headings}"
    assert headings.index("NAME") == 0
    assert re.search(r"^\s+leakbpf - ", text, re.M)


def test_man_page_documents_every_option(dest):
    text = render(dest / "usr/share/man/man8/leakbpf.8")
    # hyphenation must not split an option name
    flat = re.sub(r"\u2010|\u2011", "-", text)
    for opt in (long_options() | long_options("diff") | long_options("report") |
                long_options("objects")):
        assert re.search(rf"(?<![\w-]){opt}(?![\w-])", flat), f"{opt} not in the man page"
    for short in "pcdoTzZqvh":
        assert re.search(rf"(?<![\w-])-{short}\b", flat), f"-{short} not in the man page"
    for sub in ("leakbpf diff", "leakbpf report", "leakbpf objects"):
        assert sub in flat


COMPLETE_SH = r"""
if [ -r /usr/share/bash-completion/bash_completion ]; then
    . /usr/share/bash-completion/bash_completion
else
    # the few bash-completion helpers the script uses
    _init_completion() {
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
    }
    _filedir() {
        if [ "$1" = -d ]; then mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
    }
    _pids() { mapfile -t COMPREPLY < <(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur"); }
fi
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
$(complete -p leakbpf | sed -E 's/.*-F ([^ ]+).*/\1/') leakbpf "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def complete(dest, *words):
    script = dest / "usr/share/bash-completion/completions/leakbpf"
    r = subprocess.run(["bash", "-c", COMPLETE_SH, "complete", str(script)] + list(words),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return set(r.stdout.split())


def test_bash_completion(dest, tmp_path):
    assert complete(dest, "leakbpf", "") >= {"diff", "report", "objects"}
    assert long_options() <= complete(dest, "leakbpf", "--")
    assert complete(dest, "leakbpf", "--snap") == {"--snapshot-every", "--snapshot-dir",
                                                   "--snapshot-keep"}
    assert long_options("report") <= complete(dest, "leakbpf", "report", "--")
    assert long_options("diff") <= complete(dest, "leakbpf", "diff", "--")
    assert long_options("objects") <= complete(dest, "leakbpf", "objects", "--")
    assert str(os.getpid()) in complete(dest, "leakbpf", "objects", "-p", str(os.getpid()))
    assert str(os.getpid()) in complete(dest, "leakbpf", "-p", str(os.getpid()))
    (tmp_path / "snapdir").mkdir()
    (tmp_path / "snapfile").write_text("")
    got = complete(dest, "leakbpf", "--snapshot-dir", str(tmp_path / "snap"))
    assert str(tmp_path / "snapdir") in got and str(tmp_path / "snapfile") not in got
    # values that are not files get no file names
    assert complete(dest, "leakbpf", "-d", "") == set()
