# SPDX-License-Identifier: GPL-2.0
# --sample: Poisson byte sampling. target bulk leaks 100 MiB (104857600
# bytes) in 25600 blocks of 4 KiB from leak_bulk(). At one sample per
# 64 KiB that is about 1600 samples: the estimate's standard deviation is
# about 2.5%, so +-15% is a 6-sigma bound.

# sampled_bulk BYTES OPTS...: heaptrail --sample BYTES's estimate of
# leak_bulk: "bytes allocations rank"
sampled_bulk() {
	local rate=$1
	shift
	start_target bulk
	run_ht -p "$TPID" --sample "$rate" "$@"
	trigger_target
	stop_ht
	stop_target
	grep -q "^sampled: one allocation per $rate bytes" "$HOUT" ||
		fail "no 'sampled' line"
	entry leak_bulk | awk '{print $1, $2, $4}'
}

# check_estimate BYTES COUNT RANK PERCENT: within PERCENT of 100 MiB in
# 25600 allocations, and the top stack
check_estimate() {
	[ -n "$1" ] || fail "leak_bulk not reported"
	[ "$3" = 1 ] || fail "leak_bulk is stack #$3, not #1"
	[ "$1" -ge $((104857600 * (100 - $4) / 100)) ] &&
		[ "$1" -le $((104857600 * (100 + $4) / 100)) ] ||
		fail "leak_bulk estimated at $1 bytes, expected 104857600 +-$4%"
	[ "$2" -ge $((25600 * (100 - $4) / 100)) ] &&
		[ "$2" -le $((25600 * (100 + $4) / 100)) ] ||
		fail "leak_bulk estimated at $2 allocations, expected 25600 +-$4%"
}

# estimate_via LABEL [OPTIONS...]: --sample 65536 attached through LABEL
# (as heaptrail names the attach path), within 15% of the truth
estimate_via() {
	local label=$1 b n r
	shift
	read -r b n r <<<"$(sampled_bulk 65536 "$@")"
	grep -q "($label)" "$HERR" || fail "not attached through $label: $(head -1 "$HERR")"
	check_estimate "$b" "$n" "$r" 15
}

test_sample_estimate_session() {
	estimate_via "session uprobes"
}

test_sample_estimate_fallback() {
	estimate_via uprobe_multi --no-session
	estimate_via uprobes --no-uprobe-multi
}

# One sample per 512 KiB: about 200 samples, a standard deviation of about
# 7%; the figure is printed, the bound (+-50%) is loose.
test_sample_estimate_coarse() {
	local b n r
	read -r b n r <<<"$(sampled_bulk 524288)"
	echo "--sample 524288: leak_bulk estimated at $b bytes, $n allocations" \
	     "(true: 104857600, 25600)"
	check_estimate "$b" "$n" "$r" 50
}

# A thread's first distance is drawn like the others: 200 threads leaking
# 64 bytes each (12.8 KB, 0.01 samples expected at 1 MiB) must not each
# have their first allocation sampled (1 MiB apiece, 200 MiB in all).
test_sample_new_threads() {
	local b
	start_target manythreads
	run_ht -p "$TPID" --sample 1048576
	trigger_target
	stop_ht
	stop_target
	b=$(entry thread_once | awk '{print $1}')
	echo "--sample 1048576: thread_once estimated at ${b:-0} bytes (true: 12800)"
	[ "${b:-0}" -le $((8 * 1048576)) ] ||
		fail "thread_once estimated at $b bytes: threads' first calls sampled"
}

# With session uprobes an unsampled malloc has no return probe: the one
# program runs once per call plus once per sample, not twice per call as
# the entry and return programs do without sessions.
test_sample_session_skips_returns() {
	local n e x
	bpf_stats_on
	start_target bulk
	run_ht -p "$TPID" --sample 65536
	trigger_target
	n=$(prog_runs alloc_session)
	stop_ht
	stop_target
	[ -n "$n" ] || fail "no alloc_session program"
	# 25600 entries, about 1600 returns (and a few calls of the target's own)
	[ "$n" -ge 25600 ] && [ "$n" -le 28800 ] ||
		fail "alloc_session ran $n times, expected 25600 + about 1600"
	start_target bulk
	run_ht -p "$TPID" --sample 65536 --no-session
	trigger_target
	e=$(prog_runs alloc_enter) x=$(prog_runs alloc_exit)
	stop_ht
	[ -n "$x" ] || fail "no alloc_exit program"
	echo "runs: session $n; entry $e + return $x without (25600 calls)"
	[ "$x" -ge 25600 ] && [ "$((e + x))" -ge 51200 ] ||
		fail "without sessions: entry $e, return $x runs, expected 25600 each"
}

test_sample_exclusive_with_faults() {
	"$HT" --sample 4096 --faults -p 1 >"$HOUT" 2>"$HERR"
	[ $? = 2 ] || fail "exit $?, expected 2"
	grep -q 'exclude each other' "$HERR" || fail "said: $(cat "$HERR")"
}

# Every output says its figures are estimates, and at what rate.
test_sample_outputs_say_estimates() {
	local fo=$TMPD/out.folded pp=$TMPD/out.pb.gz
	start_target bulk
	run_ht -p "$TPID" --sample 65536 --json -f "$fo" --pprof "$pp"
	trigger_target
	stop_ht
	stop_target
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	/usr/bin/python3 - "$ROOT/user/report.schema.json" "$HOUT" <<'PY' || fail "JSON check failed"
import json, sys
last = [json.loads(l) for l in open(sys.argv[2])][-1]
assert last["sample_bytes"] == 65536, last["sample_bytes"]
try:
    import jsonschema
except ImportError:
    sys.exit(0)
jsonschema.validate(last, json.load(open(sys.argv[1])))
PY
	grep -q '^#' "$fo" && fail "folded file has a comment line: $(grep '^#' "$fo")"
	zcat "$pp" | grep -aq 'one per 65536 bytes on average; values are estimates' ||
		fail "no pprof comment on sampling"
}

# --sample 0 is the default, every allocation; past 4 GiB is refused.
test_sample_zero_and_limit() {
	start_target encode
	run_ht -p "$TPID" --sample 0
	trigger_target
	stop_ht
	stop_target
	grep -q '^sampled:' "$HOUT" && fail "--sample 0 said it sampled"
	expect_entry encode 50000 50 malloc
	"$HT" --sample 4294967297 -p 1 >"$HOUT" 2>"$HERR"
	[ $? = 2 ] || fail "--sample 4294967297: exit $?, expected 2"
}

# --ages and --min-age read the live records: each counts as the
# allocations it stands for, as the BPF side's totals do.
test_sample_min_age_weighs() {
	local b n r h
	start_target bulk
	run_ht -p "$TPID" --sample 65536 --min-age 1 -i 0.5
	trigger_target
	sleep 1.7
	stop_ht
	stop_target
	read -r b n r <<<"$(entry leak_bulk | awk '{print $1, $2, $4}')"
	check_estimate "$b" "$n" "$r" 15
	# every one of them is 1-10 s old, in the histogram as in the count
	h=$(last_report | sed -n 's/^#1 .*\[<10s:\([0-9]*\)\].*/\1/p')
	[ "$h" = "$n" ] || fail "histogram <10s:$h, count $n: $(last_report | grep '^#1 ')"
}

# Another tracer's return probes on the same libc (here a second
# heaptrail, tracing another process through uprobe_multi) make the kernel
# put its trampoline in place of the return address of every call, the
# ones --sample skips included: the brk glibc makes inside a skipped
# malloc is still the allocator's. It was counted as the program's (tens
# of MiB of brk next to leak_bulk's 100 MiB).
test_sample_skipped_call_under_other_return_probes() {
	local opid ohpid
	"$TARGET" encode >"$TMPD/other.out" 2>&1 &
	opid=$!
	EXTRA_PIDS+=("$opid")
	wait_for "$TMPD/other.out" "^ready" || fail "other target did not start"
	"$HT" -p "$opid" >/dev/null 2>"$TMPD/other.err" &
	ohpid=$!
	EXTRA_PIDS=("$ohpid" "$opid")	# the tracer first
	wait_for "$TMPD/other.err" "uprobe_multi" || fail "other heaptrail: $(cat "$TMPD/other.err")"
	start_target bulk
	run_ht -p "$TPID" --sample 524288
	trigger_target
	stop_ht
	stop_target
	kill -INT "$ohpid"
	wait "$ohpid"
	kill -TERM "$opid"
	wait "$opid" 2>/dev/null
	grep -q "(session uprobes)" "$HERR" || skip "no session uprobes here"
	total_line | grep -q ' + brk 0$' || fail "brk of skipped mallocs counted: $(total_line)"
	[ "$(entry leak_bulk | awk '{print $4}')" = 1 ] || fail "leak_bulk not #1"
}
