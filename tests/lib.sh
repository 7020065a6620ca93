# SPDX-License-Identifier: GPL-2.0
# Helpers for heaptrail's test cases; sourced by run.sh for every test.
# Every process a test starts is recorded and ended by PID on exit.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
HT=${HT:-$ROOT/heaptrail}
TARGET=$ROOT/tests/bin/target
TMPD=$(mktemp -d /tmp/heaptrail-test.XXXXXX)
TOUT=$TMPD/target.out
HOUT=$TMPD/ht.out
HERR=$TMPD/ht.err
TPID= HPID= HRC= STATS0=
EXTRA_PIDS=()	# more processes a test started: SIGTERM at the end
# no debuginfod server unless a test starts its own (on loopback)
unset DEBUGINFOD_URLS

cleanup() {
	[ -n "$STATS0" ] && echo "$STATS0" >/proc/sys/kernel/bpf_stats_enabled
	[ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && kill -INT "$HPID" && wait "$HPID"
	[ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null && kill -TERM "$TPID" && wait "$TPID" 2>/dev/null
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" && wait "$p" 2>/dev/null
	done
	# a cgroup a test made: empty once its processes are gone
	[ -n "${CGROUP_DIR:-}" ] && rmdir "$CGROUP_DIR"
	rm -rf "$TMPD"
}
trap cleanup EXIT
# a timed-out test is sent SIGTERM: still end what it started
trap "exit 143" TERM INT

fail() { echo "    $*"; [ -s "$HERR" ] && sed 's/^/    stderr: /' "$HERR" | head -5; exit 1; }
skip() { echo "    skipped: $*"; exit 77; }

# wait_for FILE PATTERN [TENTHS]: until PATTERN appears in FILE
wait_for() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_target() {
	"$TARGET" "$@" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "target $* did not start"
}

# run_ht ARGS...: heaptrail in the background, returns once it is attached
run_ht() {
	# emptied first: a second run_ht in a test must not find the last
	# run's "tracing PID" before its own heaptrail has opened the file
	: >"$HERR"
	"$HT" "$@" >"$HOUT" 2>"$HERR" &
	HPID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "tracing PID" "$HERR" 2>/dev/null && return 0
		kill -0 "$HPID" 2>/dev/null || break
		sleep 0.1
	done
	fail "heaptrail $* did not attach"
}

trigger_target() {
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" || fail "target did not finish its work"
}

stop_ht() {
	kill -INT "$HPID"
	wait_for_ht
}

wait_for_ht() {
	wait "$HPID"
	HRC=$?
	HPID=
}

stop_target() {
	kill -TERM "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=
}

# The last report in $HOUT.
last_report() {
	awk '/^heaptrail: pid /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$HOUT"
}

# entry FUNC: "BYTES COUNT KIND RANK" of the first stack of the last report
# that has a frame in FUNC; empty if none.
entry() {
	last_report | awk -v f="$1" '
		/^#[0-9]+ / { rank = substr($1, 2); bytes = $2; count = $7
			      kind = $NF; next }
		rank && /^        / { l = substr($0, 9)
			if (index(l, f "+") == 1 || index(l, f " (inlined)") == 1) {
				print bytes, count, kind, rank; exit } }'
}

# frame_lines RANK: the frame lines of stack #RANK, indentation cut:
# "NAME+0xOFF (MODULE)[ FILE:LINE]" or "NAME (inlined)[ FILE:LINE]"
frame_lines() {
	last_report | awk -v r="#$1" '
		/^#[0-9]+ / { on = ($1 == r); next }
		on && /^        / { print substr($0, 9) }
		/^$/ { on = 0 }'
}

# frames RANK: function names of stack #RANK of the last report (C++
# names keep their spaces: "operator new(unsigned long)")
frames() {
	frame_lines "$1" | awk '{
		i = index($0, " (inlined)")
		if (i) $0 = substr($0, 1, i - 1)
		else sub(/\+0x[0-9a-f]+( .*)?$/, "")
		print }'
}

# frame_src RANK NAME: "FILE:LINE" of NAME's frame in stack #RANK
frame_src() {
	frame_lines "$1" | awk -v f="$2" '
		(index($0, f "+0x") == 1 || index($0, f " (inlined)") == 1) &&
		$NF ~ /:[0-9]+$/ { print $NF; exit }'
}

# src_line FILE MARKER: the line of FILE holding "@MARKER"
src_line() {
	grep -n "@$2\b" "$1" | head -1 | cut -d: -f1
}

# expect_entry FUNC BYTES COUNT [KIND]
expect_entry() {
	local e
	e=$(entry "$1")
	[ -n "$e" ] || fail "no stack with $1 in the report"
	set -- "$1" "$2" "$3" "$4" $e
	[ "$5" = "$2" ] || fail "$1: $5 bytes reported, expected $2"
	[ "$6" = "$3" ] || fail "$1: $6 allocations reported, expected $3"
	[ -z "$4" ] || [ "$7" = "$4" ] || fail "$1: kind $7, expected $4"
}

total_line() { last_report | grep '^outstanding:'; }

# bpf_stats_on: BPF run counts on until the test ends, then as they were
bpf_stats_on() {
	STATS0=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
}

# prog_runs NAME: how often heaptrail's BPF program NAME has run (needs
# /proc/sys/kernel/bpf_stats_enabled on); empty if it holds none so named
prog_runs() {
	local f id
	for f in /proc/"$HPID"/fdinfo/*; do
		id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool prog show id "$id" | grep -q " name $1 " || continue
		sed -n 's/^run_cnt:[[:space:]]*//p' "$f"
		return
	done
}
