#!/bin/sh
# Run leakbpf's test suites (real BPF on real processes; needs root).
# Extra arguments go to pytest, e.g. scripts/run-tests.sh -k native; test files
# or folders among them replace the default (every suite under tests/).
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "leakbpf tests need root (they load BPF programs): run 'sudo make test'" >&2
	exit 1
fi
# Debian's interpreter runs the suites (pytest comes from python3-pytest),
# whatever python3 comes first in PATH.
paths=tests
for a in "$@"; do
	case "$a" in
	tests/*) paths= ;;
	esac
done
exec /usr/bin/python3 -m pytest -p no:cacheprovider -ra $paths "$@"
