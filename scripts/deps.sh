#!/bin/sh
# Install the Debian 12 packages leakbpf needs to build, test and benchmark.
# Only what is missing is installed; run as root (the Makefile adds sudo).
set -e
PKGS="clang llvm make gcc g++ libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libiberty-dev
      elfutils binutils python3 python3-pytest golang-go bash-completion python3.11-dbg heaptrack
      python3.11-dev libc6-dbg sqlite3 xz-utils zstd"
# libiberty-dev: the C++ demangler (static library). python3.11-dbg: a real
# debug build (python3.11d, libpython3.11d.so) for the tests of unsupported
# CPython builds. heaptrack: the differential tests (tests/test_heaptrack.py,
# tests/test_nested_calls.py, which reads its data file with zstd).
# python3.11-dev: the C extension built without frame pointers
# (test_native_cfi.py). libc6-dbg: libc's function names (its root frames,
# __restore_rt...); sqlite3, xz-utils: real programs whose stacks must reach
# a root (test_native_cfi.py).
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "leakbpf: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
