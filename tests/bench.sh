#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Cost of tracing: an allocator-heavy workload (tests/bench.c: N rounds of
# malloc(64..4096) + free, 9 frames below main) alone, then under
# `heaptrail -p` with each unwinding mode. Prints the loop's wall-clock time,
# its ratio to the untraced run and the overhead per allocator call.
# Not part of tests/run.sh. Needs root and `make -C tests targets`.
#
#   tests/bench.sh [N]      (default N=50000; about 20 s in all)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HT=$ROOT/heaptrail
BIN=$ROOT/tests/bin
N=${1:-50000}
TMPD=$(mktemp -d /tmp/heaptrail-bench.XXXXXX)
BPID= HPID=

cleanup() {
	[ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && kill -INT "$HPID" && wait "$HPID"
	[ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null && kill -TERM "$BPID"
	rm -rf "$TMPD"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench.sh must run as root"; exit 1; }
for f in "$HT" "$BIN/bench-fp" "$BIN/bench-nofp"; do
	[ -x "$f" ] || { echo "missing $f: run make && make -C tests targets"; exit 1; }
done

wait_for() {	# FILE PATTERN: up to 10 s
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# bpf_stats: run time of heaptrail's BPF programs, "name count ns/run" for
# the busiest ones (read from its prog fds while it runs)
bpf_stats() {
	local f id cnt ns
	for f in /proc/"$1"/fdinfo/*; do
		id=$(sed -n 's/^prog_id:\t*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		cnt=$(sed -n 's/^run_cnt:\t*//p' "$f")
		ns=$(sed -n 's/^run_time_ns:\t*//p' "$f")
		[ "${cnt:-0}" -gt 0 ] || continue
		echo "$(bpftool prog show id "$id" | sed -n 's/^[0-9]*: [a-z_]*  name \([a-z_]*\) .*/\1/p') $cnt $((ns / cnt))"
	done
}

# run BINARY [MODE]: prints the workload's loop time in ns, traced with
# --unwind MODE if given; then the BPF run time of the stack-walking
# program (alloc_exit) per call, in ns
run() {
	local out=$TMPD/bench.out err=$TMPD/ht.err ns bpf=-
	: >"$out"
	"$1" "$N" >"$out" 2>&1 &
	BPID=$!
	wait_for "$out" '^ready' || { echo "bench did not start" >&2; return 1; }
	if [ -n "${2:-}" ]; then
		"$HT" -p "$BPID" --unwind "$2" >"$TMPD/ht.out" 2>"$err" &
		HPID=$!
		wait_for "$err" 'tracing PID' || { echo "heaptrail did not attach" >&2; return 1; }
	fi
	kill -USR1 "$BPID"
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q '^ns ' "$out" && break
		sleep 0.1
	done
	[ -n "$HPID" ] && bpf=$(bpf_stats "$HPID" | awk '$1 == "alloc_exit" {print $3}')
	kill -TERM "$BPID"
	wait "$BPID" 2>/dev/null
	BPID=
	if [ -n "$HPID" ]; then
		wait "$HPID"
		HPID=
	fi
	ns=$(sed -n 's/^ns //p' "$out")
	echo "${ns:-0} ${bpf:--}"
	# a traced run must have seen every malloc
	[ -z "${2:-}" ] || grep -q "^heap since attach: allocated [0-9]* bytes in $N calls" "$TMPD/ht.out"
}

# BPF run-time statistics are off by default; on only while we measure
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 >/proc/sys/kernel/bpf_stats_enabled
trap 'echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled; cleanup' EXIT

printf 'heaptrail bench: %d x (malloc + free), 11 frames deep, %s\n' "$N" "$(uname -r)"
read -r base _ <<<"$(run "$BIN/bench-nofp")"
read -r base_fp _ <<<"$(run "$BIN/bench-fp")"
printf '%-32s %9s %8s %13s %11s\n' "configuration" "ms" "ratio" "ns/alloc call" "walk ns/run"
line() {	# LABEL BASE BINARY [MODE]
	local t bpf r try
	for try in 1 2 3; do
		r=$(run "$3" "${4:-}") && break
		echo "($1: heaptrail saw fewer than $N mallocs, run again)" >&2
	done
	read -r t bpf <<<"$r"
	awk -v l="$1" -v t="$t" -v b="$2" -v n="$N" -v w="$bpf" 'BEGIN {
		printf "%-32s %9.1f %7.2fx %13.0f %11s\n", l, t / 1e6, t / b,
			(t - b) / (2 * n), w }'
}
line "untraced (no-fp binary)" "$base" "$BIN/bench-nofp"
line "untraced (fp binary)" "$base_fp" "$BIN/bench-fp"
line "--unwind fp    (fp binary)" "$base_fp" "$BIN/bench-fp" fp
line "--unwind auto  (fp binary)" "$base_fp" "$BIN/bench-fp" auto
line "--unwind dwarf (fp binary)" "$base_fp" "$BIN/bench-fp" dwarf
line "--unwind fp    (no-fp binary)" "$base" "$BIN/bench-nofp" fp
line "--unwind auto  (no-fp binary)" "$base" "$BIN/bench-nofp" auto
line "--unwind dwarf (no-fp binary)" "$base" "$BIN/bench-nofp" dwarf
echo "ms: the loop's wall-clock time; ratio: to the untraced run of the same binary"
echo "ns/alloc call: extra time per malloc or free (uprobe traps included)"
echo "walk ns/run: BPF run time of alloc_exit (stack walk + maps) per malloc"
echo "(fp on the no-fp binary is cheap only because its stacks stop after 1 frame)"
