# SPDX-License-Identifier: GPL-2.0
# --sample: Poisson byte sampling. target bulk leaks 100 MiB (104857600
# bytes) in 25600 blocks of 4 KiB from leak_bulk(). At one sample per
# 64 KiB that is about 1600 samples: the estimate's standard deviation is
# about 2.5%, so +-15% is a 6-sigma bound.

# sampled_bulk OPTS...: heaptrail's estimate of leak_bulk's bytes
sampled_bulk() {
	start_target bulk
	run_ht -p "$TPID" "$@"
	trigger_target
	stop_ht
	stop_target
	grep -q '^sampled: one allocation per 65536 bytes' "$HOUT" || fail "no 'sampled' line"
	entry leak_bulk | awk '{print $1, $4}'
}

check_estimate() {	# BYTES RANK
	[ -n "$1" ] || fail "leak_bulk not reported"
	[ "$2" = 1 ] || fail "leak_bulk is stack #$2, not #1"
	[ "$1" -ge 89128960 ] && [ "$1" -le 120586240 ] ||
		fail "leak_bulk estimated at $1 bytes, expected 104857600 +-15%"
}

test_sample_estimate_session() {
	local b r
	read -r b r <<<"$(sampled_bulk --sample 65536)"
	grep -q '(session uprobes)' "$HERR" || fail "not attached through session uprobes"
	check_estimate "$b" "$r"
}

test_sample_estimate_fallback() {
	local b r
	read -r b r <<<"$(sampled_bulk --sample 65536 --no-session)"
	grep -q '(uprobe_multi)' "$HERR" || fail "not attached through uprobe_multi"
	check_estimate "$b" "$r"
	read -r b r <<<"$(sampled_bulk --sample 65536 --no-uprobe-multi)"
	check_estimate "$b" "$r"
}

# With session uprobes an unsampled malloc has no return probe: the one
# program runs once per call plus once per sample, not twice per call.
test_sample_session_skips_returns() {
	local stats0 n
	stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	start_target bulk
	run_ht -p "$TPID" --sample 65536
	trigger_target
	n=$(prog_runs alloc_session)
	echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
	stop_ht
	[ -n "$n" ] || fail "no alloc_session program"
	# 25600 entries, about 1600 returns (and a few calls of the target's own)
	[ "$n" -ge 25600 ] && [ "$n" -le 28800 ] ||
		fail "alloc_session ran $n times, expected 25600 + about 1600"
}

test_sample_exclusive_with_faults() {
	"$HT" --sample 4096 --faults -p 1 >"$HOUT" 2>"$HERR"
	[ $? = 2 ] || fail "exit $?, expected 2"
	grep -q 'exclude each other' "$HERR" || fail "said: $(cat "$HERR")"
}
