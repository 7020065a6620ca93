# SPDX-License-Identifier: GPL-2.0
# Probe placement (user/probeplace.c): probes sit on an instruction the
# kernel emulates, and counts stay exact.

# runs OPTS...: BPF runs of alloc_enter while target freenull works
# (1000 free(NULL), 100 malloc+free), with the BPF statistics on
enter_runs() {
	local stats0 n
	stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	start_target freenull
	run_ht -p "$TPID" "$@"
	trigger_target
	n=$(prog_runs alloc_enter)
	echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
	stop_ht
	stop_target
	echo "${n:-none}"
}

test_free_null_costs_no_trap() {
	local placed entry
	placed=$(enter_runs)
	entry=$(enter_runs --probe-at-entry)
	# glibc's free: +0 test %rdi, +3 je -> ret, +9 push %rbp: moved to
	# +9, a NULL free returns before the probe
	[ "$placed" = 200 ] || fail "alloc_enter ran $placed times, expected 200 (100 malloc + 100 free)"
	[ "$entry" = 1200 ] || fail "at entry: alloc_enter ran $entry times, expected 1200"
}

test_placement_verbose_and_exact() {
	start_target encode
	run_ht -v -p "$TPID"
	grep -q '^heaptrail: free: probe at +0x9 (push rbp; skipped: test, je -> ret)$' "$HERR" ||
		fail "free's probe: $(grep 'free: probe' "$HERR")"
	grep -q '^heaptrail: malloc: probe at +0 (push r12)$' "$HERR" ||
		fail "malloc's probe: $(grep 'malloc: probe' "$HERR")"
	trigger_target
	stop_ht
	expect_entry encode 50000 50 malloc
}

test_placement_jemalloc_exact() {
	local je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
	[ -e "$je" ] || skip "no jemalloc"
	LD_PRELOAD=$je "$TARGET" encode >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "target did not start"
	run_ht -v -p "$TPID"
	grep -q '^heaptrail: malloc: probe at +0x7 (ja ' "$HERR" ||
		fail "jemalloc malloc's probe: $(grep 'malloc: probe' "$HERR")"
	grep -q '^heaptrail: free: probe at +0x30 (jne ' "$HERR" ||
		fail "jemalloc free's probe: $(grep 'free: probe' "$HERR")"
	trigger_target
	stop_ht
	expect_entry encode 50000 50 malloc
}
