#!/bin/bash
# How soon after a dlopen the library's frames unwind: tests/c/cfi/cfi_dlopen
# loads a library built without frame pointers once leakbpf is attached and
# then leaks one block per millisecond through it for BURST_MS ms. Blocks
# whose stack stops in the library (its unwind table was not built yet)
# were allocated within the window. Measured with the loader watch
# (_dl_debug_state probe, the default) and without it (LEAKBPF_NO_DL_WATCH=1:
# the periodic refresh only, every second once leakbpf has run 2 s),
# REPEATS runs each; the library is loaded SETTLE seconds after attach.
# Run as root after `make` and `make -C tests` (or `make bench`).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
b=$top/tests/c/build
BURST_MS=${BURST_MS:-1500}
SETTLE=${SETTLE:-3}
REPEATS=${REPEATS:-3}
[ "$(id -u)" = 0 ] || { echo "dlopen-window: run as root" >&2; exit 1; }
[ -x "$b/cfi_dlopen_nofp" ] || { echo "dlopen-window: build first: make -C tests" >&2; exit 1; }
tmp=$(mktemp -d /tmp/leakbpf-dlopen.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# one_run: prints "INCOMPLETE TOTAL" (blocks through the library)
one_run() {
	local lp line pid
	coproc T { "$b/cfi_dlopen_nofp" "$b/libcfi_plugin_nofp.so" --burst "$BURST_MS"; }
	read -r line <&"${T[0]}"
	pid=${line#ready }
	"$top/leakbpf" -p "$pid" -q -d 60 --json "$tmp/r.json" >/dev/null 2>"$tmp/err" &
	lp=$!
	for _ in $(seq 400); do grep -q "tracing pid" "$tmp/err" && break; sleep 0.05; done
	# past leakbpf's first seconds, when it refreshes more often
	sleep "$SETTLE"
	echo g >&"${T[1]}"
	while read -r line <&"${T[0]}"; do [ "$line" = done ] && break; done
	kill -INT "$lp"
	wait "$lp"
	echo q >&"${T[1]}"
	wait "$T_PID" 2>/dev/null
	python3 - "$tmp/r.json" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
tot = inc = 0
for s in r["stacks"]:
    mods = [f.get("module") or "" for f in s["frames"]]
    if not any(m.endswith("libcfi_plugin_nofp.so") for m in mods):
        continue
    tot += s["outstanding_count"]
    if "main" not in [f.get("function") for f in s["frames"]]:
        inc += s["outstanding_count"]
print(inc, tot)
P
}

echo "| loader watch | blocks with incomplete stacks, of $BURST_MS (one per ms after dlopen), per run |"
echo "|---|---|"
for mode in on off; do
	runs=
	for ((r = 1; r <= REPEATS; r++)); do
		if [ "$mode" = off ]; then
			res=$(LEAKBPF_NO_DL_WATCH=1 one_run)
		else
			res=$(one_run)
		fi
		runs="$runs${runs:+, }${res% *}"
	done
	echo "| $mode | $runs |"
done
