"""pytest configuration shared by every leakbpf suite.

The suites drive real BPF on real processes, so they need root: nothing is
skipped, a non-root run fails with a message saying how to run it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import lbtest  # noqa: E402
from lbtest import CBUILD, LEAKBPF, REPO  # noqa: E402,F401


@pytest.fixture(scope="session", autouse=True)
def require_root_and_build():
    """Fail (never skip) when not root; build the test programs if needed."""
    if os.geteuid() != 0:
        pytest.fail("leakbpf tests load BPF programs and must run as root: "
                    "run `sudo make test` (or `sudo python3 -m pytest tests`)",
                    pytrace=False)
    if not LEAKBPF.exists():
        pytest.fail(f"{LEAKBPF} is missing: run `make` first (or `sudo make test`)",
                    pytrace=False)
    r = subprocess.run(["make", "-s", "-C", str(REPO / "tests")], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.fail(f"building the test programs failed (make -C tests):\n{r.stdout}{r.stderr}",
                    pytrace=False)
    yield


@pytest.fixture(autouse=True)
def _kill_leftover_processes():
    """Whatever a test started through lbtest is killed when it ends."""
    yield
    lbtest.kill_started()


@pytest.fixture
def lb():
    """The lbtest module, for tests that prefer a fixture to an import."""
    return lbtest
