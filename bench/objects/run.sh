#!/bin/sh
# `leakbpf objects` benchmark: a census of a heap of about a million objects
# (bench/objects/service.py) every second for SECONDS, every 10 s for 20 s,
# and every second with --pause, against the service's request rate
# untraced and beside a busy loop, in one run per interpreter (Debian's
# python3.11 and one pyenv 3.12 build by default); see bench.py.
# Needs root (process_vm_readv, ptrace for --pause) and a built ./leakbpf.
# Usage: sudo bench/objects/run.sh [SECONDS [REPEAT]] (a row per run);
# PYTHONS="py1 py2" overrides the interpreters.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-8}
repeat=${2:-1}
. "$here/../pythons.sh"
[ -x "$repo/leakbpf" ] || { echo "$repo/leakbpf missing: run make" >&2; exit 1; }

echo "| interpreter | objects | census wall | leakbpf CPU | CPU per 1M objects | reads | leakbpf memory | requests/s untraced | a busy loop on the other CPU | a census every 1 s | every 10 s (default) | every 1 s with --pause | --pause stops the target |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for py in $PYTHONS; do
	for _ in $(seq "$repeat"); do
	"$driver" "$here/bench.py" --python "$py" --leakbpf "$repo/leakbpf" --seconds "$seconds" |
		"$driver" -c '
import json, sys
r = json.loads(sys.stdin.read())
def pct(x): return "%+.1f%%" % (100 * (x / r["rate_untraced"] - 1))
def cell(k): return "%s (%s)" % (format(int(r[k]), ","), pct(r[k]))
print("| %s | %s | %.2f s | %.2f s | %.2f s | %d | %.0f MiB | %s | %s | %s | %s | %s | %.2f s (max %.2f s) |" % (
    r["python"].split(" (")[0], format(int(r["objects"]), ","), r["wall_s"], r["cpu_s"],
    r["cpu_s"] / r["objects"] * 1e6, r["reads"], r["memory_mb"],
    format(int(r["rate_untraced"]), ","), cell("rate_busy"), cell("rate_census"),
    cell("rate_default"), cell("rate_pause"), r["paused_s"], r["paused_max_s"]))
'
	done
done
