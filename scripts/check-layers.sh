#!/bin/sh
# user/ is layered (doc/architecture.md): a file may include headers of its
# own folder and of folders listed before it here, never of one after it.
# Prints every include that points up and exits 1 when there is one.
LAYERS="util report out snapshot target symbols attach unwind account python session cli"
cd "$(dirname "$0")/../user" || exit 2
rank() {
	i=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}
bad=0
for dir in */; do
	dir=${dir%/}
	r=$(rank "$dir")
	if [ "$r" -lt 0 ]; then
		echo "user/$dir: folder missing from LAYERS in scripts/check-layers.sh"
		bad=1
		continue
	fi
	for inc in $(grep -ho '^#include "[a-z_0-9]*/' "$dir"/*.[ch] | sed 's/#include "//; s|/$||' | sort -u); do
		ri=$(rank "$inc")
		if [ "$ri" -lt 0 ] || [ "$ri" -gt "$r" ]; then
			grep -Hn "^#include \"$inc/" "$dir"/*.[ch] | sed 's/^/user\//; s/$/  (points up)/'
			bad=1
		fi
	done
done
[ "$bad" = 0 ] && echo "layers: every include of user/ points down"
exit $bad
