#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What heaptrail --kernel costs the kernel (not a test, not timed by the
# suite): tests/bin/kpipes -b N runs N pipe()+close() pairs (each pair
# about 10 kernel allocations and their frees), alone and with
# `heaptrail --kernel` attached, interleaved round by round; printed: the
# medians, ns added per pair and the ratio. Every task's allocations pay
# while --kernel runs, not only this loop's.
#
#   tests/kbench.sh [-n N] [-r ROUNDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HT=$ROOT/heaptrail
KP=$ROOT/tests/bin/kpipes
N=200000 ROUNDS=3
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-r) ROUNDS=$2; shift 2 ;;
	*) echo "usage: $0 [-n N] [-r ROUNDS]" >&2; exit 2 ;;
	esac
done
TMPD=$(mktemp -d /tmp/heaptrail-kbench.XXXXXX)
HPID=
cleanup() {
	[ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && kill -INT "$HPID" && wait "$HPID"
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x "$HT" ] && [ -x "$KP" ] || { echo "build first: make && make -C tests targets" >&2; exit 1; }

loop() { "$KP" -b "$N" | sed -n 's/^done //p'; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for ((r = 0; r < ROUNDS; r++)); do
	loop >>"$TMPD/alone"
	"$HT" --kernel -i 1000 >/dev/null 2>"$TMPD/err" &
	HPID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q "tracing the kernel" "$TMPD/err" && break
		sleep 0.1
	done
	grep -q "tracing the kernel" "$TMPD/err" || { cat "$TMPD/err" >&2; exit 1; }
	loop >>"$TMPD/kernel"
	kill -INT "$HPID"
	wait "$HPID"
	HPID=
done
a=$(median <"$TMPD/alone")
k=$(median <"$TMPD/kernel")
awk -v a="$a" -v k="$k" -v n="$N" -v r="$ROUNDS" 'BEGIN {
	printf "%d x pipe()+close(), medians of %d: alone %.3f s, --kernel %.3f s: +%.0f ns a pair, ratio %.2f\n",
		n, r, a, k, (k - a) * 1e9 / n, k / a
}'
