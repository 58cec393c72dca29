#!/bin/sh
# What resolving code addresses to frames costs (user/symbols/): the first
# time a report sees an address (symbol, DWARF line and inline frames, C++
# demangling) and from the per-address cache, on a live Python 3.12 from
# pyenv (libpython with its DWARF) and on the libc it maps. Prints a
# markdown table for the README. Run as root after `make -C bench`.
# Environment: PY (the interpreter), N (addresses per module, 5000).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-$(pyenv root 2>/dev/null || echo /nonexistent)/versions/3.12.1/bin/python3}
N=${N:-5000}
[ "$(id -u)" = 0 ] || { echo "bench: run as root (/proc/PID/map_files): sudo $0" >&2; exit 1; }
[ -x "$here/build/symbolize" ] || { echo "bench: build first: make -C $here" >&2; exit 1; }
[ -x "$PY" ] || { echo "bench: no $PY (set PY to a Python with a shared libpython)" >&2; exit 1; }
"$PY" -c 'import time; time.sleep(600)' &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 1
echo "| module | addresses | first lookup, µs/address | cached, µs/address | frames/address |"
echo "|---|---|---|---|---|"
"$here/build/symbolize" "$pid" libpython "$N"
"$here/build/symbolize" "$pid" libc.so "$N"
