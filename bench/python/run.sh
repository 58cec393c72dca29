#!/bin/sh
# Python benchmark: an allocation-heavy request loop untraced, under
# tracemalloc (1 and 25 frames, in-process) and under leakbpf (attached with
# -p, full Python stacks; and --no-python to split the cost), for Debian's
# python3.11 and one pyenv shared build. Needs root (BPF) and a built
# ./leakbpf. Usage: sudo bench/python/run.sh [SECONDS [REPEAT]]
# Environment: PYTHONS="py1 py2" overrides the interpreters; BPF_STATS=0
# skips the BPF run-time split (statistics held on by bpf(BPF_ENABLE_STATS)
# for the run only; the sysctl is not touched).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-5}
repeat=${2:-1}
. "$here/../pythons.sh"
[ -x "$repo/leakbpf" ] || { echo "$repo/leakbpf missing: run make" >&2; exit 1; }

stats=--bpf-stats
[ "${BPF_STATS:-1}" = 0 ] && stats=

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0
for py in $PYTHONS; do
	i=$((i + 1))
	"$driver" "$here/bench.py" --python "$py" --leakbpf "$repo/leakbpf" \
		--seconds "$seconds" --repeat "$repeat" $stats --json "$out/$i.json"
done

# One summary table over all interpreters (slowdowns per CPU second).
"$driver" - "$out"/*.json <<'PY'
import json, sys
modes = ["untraced", "tracemalloc-1", "tracemalloc-25", "leakbpf", "leakbpf-all",
         "leakbpf-nopy"]
print("\nSummary: requests per CPU-second of the target (slowdown vs untraced)")
print("%-40s" % "interpreter" + "".join("%18s" % m for m in modes))
for path in sys.argv[1:]:
    d = json.load(open(path))
    res = d["results"]
    def rate(m):
        r = res[m]["median"]
        return r["requests"] / max(r["cpu_seconds"], 1e-9)
    base = rate("untraced") if "untraced" in res else None
    cells = []
    for m in modes:
        if m not in res:
            cells.append("%18s" % "-")
            continue
        v = rate(m)
        cells.append("%18s" % ("%.0f (%.1fx)" % (v, base / v) if base else "%.0f" % v))
    ver = next(iter(res.values()))["median"].get("python")
    print("%-40s" % ("%s (%s)" % (d["python"], ver))[:40] + "".join(cells))
PY
