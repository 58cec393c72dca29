# Sourced by the Python benchmarks (bench/python/run.sh, bench/objects/run.sh):
# sets $driver (the interpreter that runs the drivers) and, unless PYTHONS is
# set, $PYTHONS: Debian's python3.11 and the newest pyenv 3.12 build.
driver=/usr/bin/python3
[ -x "$driver" ] || driver=python3
if [ -z "${PYTHONS:-}" ]; then
	PYTHONS=""
	[ -x /usr/bin/python3.11 ] && PYTHONS="/usr/bin/python3.11"
	root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
	for d in "$root"/versions/3.12.*; do
		[ -x "$d/bin/python3" ] && pyenv_py="$d/bin/python3"
	done
	[ -n "${pyenv_py:-}" ] && PYTHONS="$PYTHONS $pyenv_py"
fi
[ -n "$PYTHONS" ] || { echo "no interpreter found" >&2; exit 1; }
