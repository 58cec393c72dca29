#!/bin/sh
# --children: attach time and leakbpf's memory (RSS, BPF map memory) for a
# pre-fork Python server with 1, 4 and 16 workers (tests/py/prefork_server.py).
# Attach time: from leakbpf's start to its last "tracing pid" line.
set -eu
cd "$(dirname "$0")/.."
for n in 1 4 16; do
	fifo=$(mktemp -u /tmp/leakbpf-procs.XXXXXX)
	mkfifo "$fifo"
	python3 tests/py/prefork_server.py "$n" < "$fifo" > "$fifo.out" &
	server=$!
	exec 9> "$fifo"
	while ! grep -q ready "$fifo.out" 2>/dev/null; do sleep 0.1; done
	master=$(awk '/ready/ {print $2}' "$fifo.out")
	: > "$fifo.err" # counted below before leakbpf may have written it
	start=$(date +%s.%N)
	./leakbpf -p "$master" --children -q -d 600 2> "$fifo.err" > /dev/null &
	lb=$!
	while [ "$(grep -c 'tracing pid' "$fifo.err")" -lt $((n + 1)) ]; do sleep 0.02; done
	end=$(date +%s.%N)
	sleep 1
	rss=$(awk '/VmRSS/ {print $2}' /proc/$lb/status)
	# each map once: the maps every object shares (unwind rows, held
	# processes) are open in several fds
	maps=$(for fd in /proc/$lb/fdinfo/*; do
		awk '/^memlock:/ {m = $2} /^map_id:/ {print $2, m}' "$fd"
	done | sort -u -k1,1 | awk '{s += $2} END {print s}')
	printf '%2d workers: attach %.2f s, leakbpf RSS %d MiB, BPF maps %d MiB (%d processes)\n' \
		"$n" "$(echo "$end - $start" | bc)" $((rss / 1024)) $((maps / 1048576)) $((n + 1))
	kill -INT $lb
	wait $lb || true
	exec 9>&-
	wait $server || true
	rm -f "$fifo" "$fifo.out" "$fifo.err"
done
