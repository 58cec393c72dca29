#!/bin/sh
# Run the unit test binaries given as arguments; fail when any fails.
failed=0
for t in "$@"; do
	"$t" || { echo "unit: FAILED: $t" >&2; failed=1; }
done
[ "$failed" = 0 ] && echo "unit: $# test programs passed"
exit $failed
