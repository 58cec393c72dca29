#!/bin/bash
# What leakbpf costs per malloc+free pair, next to the cost of the probes
# alone, on three loops (LOOPS):
#   flat       malloc+free called from main's callee, frame pointers
#   nofp20     the same 20 frames down a call chain, built without frame
#              pointers (as distributions build): stacks need CFI
#   fp20       the same chain built with frame pointers
# One run measures each loop under each configuration, REPEATS times
# (round robin, median kept):
#   untraced   the loop alone
#   floor      empty BPF programs at leakbpf's sites (malloc+0, malloc
#              return, free past its NULL guard): the price of the uprobes
#   leakbpf    ./leakbpf -p PID -q, stacks on every allocation
#   memleak    bcc's libbpf-tools memleak, when a `memleak` binary exists
# and the placement of the free probe: one empty program at free+0 (test,
# single-stepped) against free+9 (push, emulated).
# Prints markdown tables for the README. Run as root after `make -C bench`
# and `make` (or `make bench` from the top).
#
# Environment: REPEATS (3), BENCH_TIME seconds per run (1.5), SIZE bytes (64),
# LEAKBPF (path of leakbpf), MEMLEAK (path of libbpf-tools memleak),
# CONFIGS (space list, default "untraced floor leakbpf memleak free0 free9";
# memleak, free0 and free9 run on the flat loop only), LOOPS (default
# "flat nofp20 fp20").
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=$here/build
REPEATS=${REPEATS:-3}
BENCH_TIME=${BENCH_TIME:-1.5}
SIZE=${SIZE:-64}
LEAKBPF=${LEAKBPF:-$top/leakbpf}
MEMLEAK=${MEMLEAK:-$(command -v memleak || true)}
CONFIGS=${CONFIGS:-untraced floor leakbpf memleak free0 free9}
LOOPS=${LOOPS:-flat nofp20 fp20}

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (uprobes and BPF): sudo $0"
if [ ! -x "$build/mallocbench" ] || [ ! -x "$build/mallocbench-nofp" ] ||
	[ ! -x "$build/floor" ]; then
	die "build first: make -C $here"
fi

tmp=$(mktemp -d /tmp/leakbpf-bench.XXXXXX)
bench_pid=
tracer_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null; fi
	if [ -n "$tracer_pid" ]; then kill "$tracer_pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE REGEX SECONDS PID: until FILE has a line matching REGEX;
# fails when PID dies first or time runs out.
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || {
			grep -qE "$2" "$1" 2>/dev/null
			return
		}
		sleep 0.05
	done
	return 1
}

# stop_tracer [SECONDS]: it should exit by itself when the target does
# (memleak does not); SIGINT after SECONDS (10).
stop_tracer() {
	local i
	for ((i = 0; i < ${1:-10} * 20; i++)); do
		kill -0 "$tracer_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -INT "$tracer_pid" 2>/dev/null
	wait "$tracer_pid" 2>/dev/null
	tracer_pid=
}

# cpu_ticks PID: user + system clock ticks of a process so far.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# loop_cmd LOOP: the loop's binary and arguments.
loop_cmd() {
	case $1 in
	flat) echo "$build/mallocbench" ;;
	nofp20) echo "$build/mallocbench-nofp -d 20" ;;
	fp20) echo "$build/mallocbench -d 20" ;;
	*) die "unknown loop $1" ;;
	esac
}

# run_one LOOP CONFIG: one timed loop under CONFIG; sets result to "WALL
# CPU TRACER" (ns per pair; TRACER: the tracer process's own CPU time per
# pair, "-" untraced), or to "FAIL reason". Not run in a subshell: cleanup
# must see the pids.
run_one() {
	local loop=$1 cfg=$2 out=$tmp/bench.out terr=$tmp/$2.err tout=$tmp/$2.out ready
	: >"$out"
	: >"$terr"
	: >"$tout"
	# shellcheck disable=SC2046 # the command's words
	$(loop_cmd "$loop") -w -t "$BENCH_TIME" -s "$SIZE" >"$out" 2>"$tmp/bench.err" &
	bench_pid=$!
	if ! wait_for "$out" '^ready' 10 "$bench_pid"; then
		result="FAIL mallocbench did not start: $(head -c 200 "$tmp/bench.err")"
		return
	fi
	case $cfg in
	untraced) ready= ;;
	floor) "$build/floor" -p "$bench_pid" >"$tout" 2>"$terr" &
		ready='^floor: tracing pid' ;;
	free0 | free9)
		"$build/floor" -p "$bench_pid" -s "$([ "$cfg" = free0 ] && echo free0 || echo free)" \
			>"$tout" 2>"$terr" &
		ready='^floor: tracing pid' ;;
	leakbpf) "$LEAKBPF" -p "$bench_pid" -q --folded "$tmp/$loop.folded" >"$tout" 2>"$terr" &
		ready="^leakbpf: tracing pid $bench_pid" ;;
	memleak) stdbuf -oL "$MEMLEAK" -p "$bench_pid" >"$tout" 2>"$terr" &
		ready='Tracing outstanding memory allocs' ;;
	esac
	if [ -n "$ready" ]; then
		tracer_pid=$!
		# A tracer that prints its ready line on stdout is fine too.
		if ! wait_for "$terr" "$ready" 60 "$tracer_pid" &&
			! grep -qE "$ready" "$tout"; then
			kill "$bench_pid" 2>/dev/null
			wait "$bench_pid" 2>/dev/null
			bench_pid=
			stop_tracer
			result="FAIL not attached: $(grep -v '^$' "$terr" | tail -n 1 | head -c 200)"
			return
		fi
		[ "$cfg" = floor ] && head -n 1 "$terr" >"$tmp/floor.sites"
	fi
	local t0='' t1=''
	[ -n "$ready" ] && t0=$(cpu_ticks "$tracer_pid")
	kill -USR1 "$bench_pid"
	wait "$bench_pid"
	bench_pid=
	[ -n "$ready" ] && t1=$(cpu_ticks "$tracer_pid")
	if [ -n "$ready" ]; then
		if [ "$cfg" = memleak ]; then stop_tracer 0; else stop_tracer; fi
	fi
	result=$(awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '/^ns_per_pair=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		tr = (t0 == "" || t1 == "") ? "-" : (t1 - t0) * 1e9 / hz / v["traced_pairs"]
		print v["ns_per_pair"], v["cpu_ns_per_pair"], tr }' "$out")
	if [ -z "$result" ]; then
		result="FAIL no result: $(head -c 200 "$tmp/bench.err")"
		return
	fi
	[ -n "$ready" ] || return 0
	cat "$tout" "$terr" >"$tmp/$loop.$cfg.last" # the last report that went with a result
	# A leakbpf that lost events did less work than it should: not a figure.
	local seen want
	seen=$(sed -n 's/.*events: \([0-9]*\) allocs.*/\1/p' "$tmp/$loop.$cfg.last" | tail -n 1)
	want=$(sed -n 's/.* traced_pairs=\([0-9]*\) .*/\1/p' "$out")
	if [ "$cfg" = leakbpf ] && [ -n "$seen" ] && [ -n "$want" ] && [ "$seen" -lt "$want" ]; then
		result="FAIL saw $seen of $want allocations"
	fi
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Which configurations can run at all.
declare -A skip
for cfg in $CONFIGS; do
	case $cfg in
	leakbpf) [ -x "$LEAKBPF" ] || skip[$cfg]="not built ($LEAKBPF)" ;;
	memleak) [ -n "$MEMLEAK" ] && [ -x "$MEMLEAK" ] ||
		skip[$cfg]="no memleak binary (Debian 12's libbpf-tools 0.26 does not ship it; bpfcc-tools' memleak-bpfcc needs kernel headers, absent here); set MEMLEAK=PATH" ;;
	untraced | floor | free0 | free9) ;;
	*) die "unknown configuration $cfg" ;;
	esac
done

# on_loop LOOP CONFIG: whether CONFIG runs on LOOP (the comparisons with
# memleak and the probe placement need the flat loop only).
on_loop() {
	case $2 in
	memleak | free0 | free9) [ "$1" = flat ] ;;
	*) true ;;
	esac
}

declare -A runs cpus trs fail nfail
for ((r = 1; r <= REPEATS; r++)); do
	for loop in $LOOPS; do
		for cfg in $CONFIGS; do
			[ -n "${skip[$cfg]:-}" ] && continue
			on_loop "$loop" "$cfg" || continue
			k=$loop:$cfg
			run_one "$loop" "$cfg"
			echo "bench: run $r/$REPEATS $loop $cfg: $result" >&2
			case $result in
			FAIL*)
				fail[$k]=${result#FAIL }
				nfail[$k]=$((${nfail[$k]:-0} + 1))
				;;
			*)
				read -r wall cpu tr <<<"$result"
				runs[$k]="${runs[$k]:-} $wall"
				cpus[$k]="${cpus[$k]:-} $cpu"
				trs[$k]="${trs[$k]:-} $tr"
				;;
			esac
		done
	done
done

declare -A med cmed tmed
for k in "${!runs[@]}"; do
	med[$k]=$(echo "${runs[$k]}" | median)
	cmed[$k]=$(echo "${cpus[$k]}" | median)
	tmed[$k]=$(echo "${trs[$k]}" | tr ' ' '\n' | grep -v -- - | median)
done

fmt_ns() { awk -v v="$1" 'BEGIN { printf (v < 100 ? "%.1f" : "%.0f"), v }'; }
# fmt_runs LOOP:CFG: its wall-clock figures, and how many runs failed.
fmt_runs() {
	for v in ${runs[$1]}; do printf '%s ' "$(fmt_ns "$v")"; done | sed 's/ $//; s/ /, /g'
	if [ -n "${nfail[$1]:-}" ]; then printf ' (%s failed: %s)' "${nfail[$1]}" "${fail[$1]}"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
minus() { fmt_ns "$(awk -v a="$1" -v b="$2" 'BEGIN { print a - b }')"; }

label() {
	case $1 in
	untraced) echo "untraced" ;;
	floor) echo "floor: empty BPF programs at malloc+0, malloc return, free+9" ;;
	leakbpf) echo "leakbpf -p PID -q (stack on every allocation)" ;;
	memleak) echo "libbpf-tools memleak -p PID" ;;
	free0) echo "one empty program at free+0 (\`test %rdi,%rdi\`: single-stepped)" ;;
	free9) echo "one empty program at free+9 (\`push %rbp\`: emulated)" ;;
	esac
}

loop_label() {
	case $1 in
	flat) echo "flat loop (main -> churn -> malloc; frame pointers)" ;;
	nofp20) echo "20-frame call chain, built without frame pointers (CFI unwinding)" ;;
	fp20) echo "20-frame call chain, built with frame pointers" ;;
	esac
}

# status LOOP:CFG: true when it has figures; else prints why not.
status() {
	if [ -n "${med[$1]:-}" ]; then
		return 0
	elif [ -n "${skip[${1#*:}]:-}" ]; then
		echo "skipped: ${skip[${1#*:}]}"
	else
		echo "failed: ${fail[$1]:-no result}"
	fi
	return 1
}

wanted() { [[ " $CONFIGS " == *" $1 "* ]]; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
libc=$(ldd --version 2>/dev/null | head -n 1 | sed 's/.* //')
echo
echo "malloc($SIZE)+free loop, ns per pair, median of $REPEATS runs of ~${BENCH_TIME}s" \
	"(kernel $(uname -r), glibc $libc, $(nproc) CPUs: $cpu; load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg) at the end). CPU ns: the loop thread's own" \
	"CPU time (user + kernel, where the probes run), which other load inflates less." \
	"Tracer CPU: the tracer process's CPU time (reading the ring buffer, on another" \
	"CPU when one is free), per traced pair, at 1/$(getconf CLK_TCK) s resolution."
if [ -s "$tmp/floor.sites" ]; then
	echo "Floor sites: $(sed 's/^floor: tracing pid [0-9]*: //' "$tmp/floor.sites")."
fi
echo
for loop in $LOOPS; do
	echo "$(loop_label "$loop"):"
	echo
	echo "| configuration | ns per pair | vs floor | CPU ns per pair | vs floor (CPU) | tracer CPU ns per pair | runs (ns per pair) |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for cfg in untraced floor leakbpf memleak; do
		wanted "$cfg" && on_loop "$loop" "$cfg" || continue
		k=$loop:$cfg f=$loop:floor
		if s=$(status "$k"); then
			vs='' cvs=''
			if [ "$cfg" != untraced ] && [ -n "${med[$f]:-}" ]; then
				vs=$(ratio "${med[$k]}" "${med[$f]}")
				cvs=$(ratio "${cmed[$k]}" "${cmed[$f]}")
			fi
			trc=''
			[ -n "${tmed[$k]:-}" ] && trc=$(fmt_ns "${tmed[$k]}")
			echo "| $(label "$cfg") | $(fmt_ns "${med[$k]}") | $vs | $(fmt_ns "${cmed[$k]}") |" \
				"$cvs | $trc | $(fmt_runs "$k") |"
		else
			echo "| $(label "$cfg") | $s | | | | | |"
		fi
	done
	echo
done

if wanted free0 || wanted free9; then
	echo "Probe placement (flat loop): one empty program alone; cost per hit = pair minus untraced."
	echo
	echo "| probe | ns per pair | cost per hit | CPU ns per pair | CPU cost per hit | runs (ns per pair) |"
	echo "|---|---:|---:|---:|---:|---|"
	for cfg in free0 free9; do
		wanted "$cfg" || continue
		k=flat:$cfg u=flat:untraced
		if s=$(status "$k"); then
			hit='' chit=''
			if [ -n "${med[$u]:-}" ]; then
				hit="$(minus "${med[$k]}" "${med[$u]}") ns"
				chit="$(minus "${cmed[$k]}" "${cmed[$u]}") ns"
			fi
			echo "| $(label "$cfg") | $(fmt_ns "${med[$k]}") | $hit |" \
				"$(fmt_ns "${cmed[$k]}") | $chit | $(fmt_runs "$k") |"
		else
			echo "| $(label "$cfg") | $s | | | | |"
		fi
	done
	echo
fi

# leakbpf's last final reports: did it see every event, drop none, and
# are the chain's stacks complete (every frame of the chain, down to libc's
# start)?
for loop in $LOOPS; do
	last=$tmp/$loop.leakbpf.last
	[ -s "$last" ] || continue
	echo "leakbpf's last report on the $loop loop, event and drop lines (it should have seen every pair):"
	echo '```'
	grep -iE 'event|drop|lost|seen' "$last" | tail -n 6
	echo '```'
	if [ "$loop" != flat ] && [ -s "$tmp/$loop.folded" ]; then
		# the block kept at the bottom of the chain: its whole stack
		stack=$(grep 'descend' "$tmp/$loop.folded" | head -n 1 | tr ';' '\n')
		echo "The stack of the block kept at the bottom of the chain: $(echo "$stack" | grep -c '^descend') descend frames (21 expected)," \
			"$(echo "$stack" | grep -qE '^(__libc_start_call_main|_start)' && echo "reaches" || echo "does NOT reach") libc's start."
	fi
	echo
done

for k in "${!fail[@]}"; do
	[ -z "${med[$k]:-}" ] && exit 1
done
exit 0
