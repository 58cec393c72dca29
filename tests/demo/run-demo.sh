#!/bin/sh
# `make demo`: start the bundled leaky demo service, trace it with leakbpf for
# ~10 s (only allocations older than 1 s, so short-lived churn drops out),
# print the table and write a flame graph. Run as root after `make`.
# LEAKBPF_DEMO_DURATION (seconds) and LEAKBPF_DEMO_OUT (directory) override
# the defaults (10, the repository root if writable, else /tmp).
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${LEAKBPF_DEMO_DURATION:-10}
OUT=${LEAKBPF_DEMO_OUT:-}
SERVICE=$REPO/tests/c/build/demo-service
LEAKBPF=$REPO/leakbpf

if [ "$(id -u)" != 0 ]; then
	echo "run-demo.sh: leakbpf needs root: run \`sudo make demo\`" >&2
	exit 1
fi
if [ ! -x "$LEAKBPF" ] || [ ! -x "$SERVICE" ]; then
	echo "run-demo.sh: build first: make all tests-build" >&2
	exit 1
fi
if [ -z "$OUT" ]; then
	if [ -w "$REPO" ]; then OUT=$REPO; else OUT=/tmp; fi
fi
SVG=$OUT/demo-flamegraph.svg
FOLDED=$OUT/demo.folded

LOG=$(mktemp /tmp/leakbpf-demo.XXXXXX)
"$SERVICE" >"$LOG" 2>&1 &
DEMO=$!
cleanup() {
	kill "$DEMO" 2>/dev/null || true
	wait "$DEMO" 2>/dev/null || true
	rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait until the service is up (it prints one line when it starts serving).
i=0
until grep -q ready "$LOG" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$DEMO" 2>/dev/null; then
		echo "run-demo.sh: the demo service did not start:" >&2
		cat "$LOG" >&2
		exit 1
	fi
	sleep 0.1
done

echo "leakbpf demo: demo-service (pid $DEMO) handles fake requests: it parses them,"
echo "caches sessions, renders responses and counts metrics; one code path leaks."
echo "Tracing it for ${DURATION}s, showing allocations older than 1s:"
echo "  $LEAKBPF -p $DEMO -d $DURATION -o 1s --folded $FOLDED --flamegraph $SVG"
echo
"$LEAKBPF" -p "$DEMO" -d "$DURATION" -o 1s --folded "$FOLDED" --flamegraph "$SVG"
# run through sudo: hand the files to the user who asked for them
if [ -n "${SUDO_UID:-}" ] && [ -n "${SUDO_GID:-}" ]; then
	chown "$SUDO_UID:$SUDO_GID" "$SVG" "$FOLDED" 2>/dev/null || true
fi
echo
echo "leakbpf demo: flame graph written to $SVG (open it in a browser)"
echo "leakbpf demo: folded stacks written to $FOLDED (for flamegraph.pl)"
echo "leakbpf demo: the growing stack is metrics_record -> format_label: the label"
echo "is not freed when the metric already exists (tests/demo/demo-service.c)."
echo "leakbpf demo: stopping demo-service (pid $DEMO)"
