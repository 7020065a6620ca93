#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The loader's background cost (not a test, not timed by the suite):
# tests/bin/manystacks makes ALLOCS live allocations in STACKS stacks;
# heaptrail is attached with `-i 5`, and its CPU time (utime + stime from
# /proc/PID/stat) is read:
#   - idle: the target leaks 16 bytes a second from one stack; heaptrail
#     samples once a second and never reports (-i 1000);
#   - churn: the same, but every stack changes every second;
#   - --ages: `-i 5 --ages` for SECS seconds; the CPU of one report is
#     the total minus the idle sampling, per report.
#
#   tests/bgcost.sh [ALLOCS] [STACKS] [SECS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HT=$ROOT/heaptrail
ALLOCS=${1:-1000000} STACKS=${2:-50000} SECS=${3:-20}
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
HZ=$(getconf CLK_TCK)

# run SECS CHURN ARGS: prints "ticks reports" of heaptrail ARGS over SECS
# seconds once the target's allocations are made
run() {
	local secs=$1 churn=$2 c0 c1 r0 r1
	shift 2
	"$ROOT/tests/bin/manystacks" "$ALLOCS" "$STACKS" $churn >"$TMPD/t.out" &
	TPID=$!
	wait_for "$TMPD/t.out" '^ready' 50 || { echo "target did not start" >&2; exit 1; }
	"$HT" -p "$TPID" -n 3 "$@" >"$TMPD/h.out" 2>"$TMPD/h.err" &
	HPID=$!
	wait_for "$TMPD/h.err" 'tracing PID' 300 || { echo "heaptrail did not attach" >&2; exit 1; }
	kill -USR1 "$TPID"
	wait_for "$TMPD/t.out" '^done' 6000 || { echo "target did not finish" >&2; exit 1; }
	sleep 2
	c0=$(cpu_ticks "$HPID")
	r0=$(grep -c '^heaptrail: pid' "$TMPD/h.out")
	sleep "$secs"
	c1=$(cpu_ticks "$HPID")
	r1=$(grep -c '^heaptrail: pid' "$TMPD/h.out")
	kill -INT "$HPID"
	wait "$HPID"
	HPID=
	kill -TERM "$TPID"
	wait "$TPID"
	TPID=
	echo $((c1 - c0)) $((r1 - r0))
}
per_s() { awk -v c="$1" -v s="$2" -v hz="$HZ" 'BEGIN { printf "%.1f ms CPU per second (%.2f%% of a core)", 1000 * c / hz / s, 100 * c / hz / s }'; }

echo "heaptrail background cost: $ALLOCS live allocations in $STACKS stacks, $(uname -r), $SECS s each"
read -r idle _ < <(run "$SECS" "" -i 1000)
echo "idle target, sampling only: $(per_s "$idle" "$SECS")"
read -r churn _ < <(run "$SECS" churn -i 1000)
echo "every stack changing each second: $(per_s "$churn" "$SECS")"
read -r ages nrep < <(run "$SECS" "" -i 5 --ages)
echo "reports every 5 s with --ages: $(per_s "$ages" "$SECS"); $nrep reports"
[ "$nrep" -gt 0 ] && awk -v a="$ages" -v i="$idle" -v n="$nrep" -v hz="$HZ" \
	'BEGIN { printf "one --ages report: %.0f ms CPU\n", 1000 * (a - i) / hz / n }'
