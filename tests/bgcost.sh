#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The loader's background cost (not a test): tests/bin/manystacks makes
# ALLOCS live allocations in STACKS stacks under `heaptrail -i 5`; then,
# with the target idle but for one small leak, heaptrail's CPU time per
# second (from /proc/PID/stat), and the CPU time of one --ages report.
#
#   tests/bgcost.sh [ALLOCS] [STACKS] [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HT=$ROOT/heaptrail
ALLOCS=${1:-1000000} STACKS=${2:-50000} SECS=${3:-10}
TMPD=$(mktemp -d /tmp/heaptrail-bgcost.XXXXXX)
TPID= HPID=
cleanup() {
	[ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && kill -INT "$HPID" && wait "$HPID"
	[ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null && kill -TERM "$TPID" && wait "$TPID"
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {	# FILE PATTERN TENTHS
	local i
	for ((i = 0; i < $3; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

# run ARGS: CPU seconds per second of heaptrail ARGS over SECS idle seconds
run() {
	"$ROOT/tests/bin/manystacks" "$ALLOCS" "$STACKS" >"$TMPD/t.out" &
	TPID=$!
	wait_for "$TMPD/t.out" '^ready' 50 || { echo "target did not start"; exit 1; }
	"$HT" -p "$TPID" -n 3 "$@" >"$TMPD/h.out" 2>"$TMPD/h.err" &
	HPID=$!
	wait_for "$TMPD/h.err" 'tracing PID' 300 || { echo "heaptrail did not attach"; exit 1; }
	kill -USR1 "$TPID"
	wait_for "$TMPD/t.out" '^done' 6000 || { echo "target did not finish"; exit 1; }
	sleep 2
	local hz c0 c1
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks "$HPID")
	sleep "$SECS"
	c1=$(cpu_ticks "$HPID")
	kill -INT "$HPID"
	wait "$HPID"
	HPID=
	kill -TERM "$TPID"
	wait "$TPID"
	TPID=
	awk -v c=$((c1 - c0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.1f ms CPU per second (%.2f%% of a core)", 1000 * c / hz / s, 100 * c / hz / s }'
	grep -m1 '^outstanding:' "$TMPD/h.out" | sed 's/^/; /'
}

echo "heaptrail background cost: $ALLOCS live allocations in $STACKS stacks, target idle, $(uname -r)"
echo "sampling only (-i 1000): $(run -i 1000)"
echo "reports every 5 s (-i 5): $(run -i 5)"
echo "reports every 5 s with --ages: $(run -i 5 --ages)"
