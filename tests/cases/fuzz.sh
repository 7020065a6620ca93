# SPDX-License-Identifier: GPL-2.0
# libFuzzer harnesses (tests/fuzz/, built by `make fuzz`) of the readers
# of untrusted input, each run for a bounded time on a copy of its seeds:
# a crash, sanitizer report, leak or hang fails the test.

FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# fuzz_run NAME: tests/bin/fuzz_NAME on tests/fuzz/seeds/NAME
fuzz_run() {
	local bin=$ROOT/tests/bin/fuzz_$1 pid
	[ -x "$bin" ] || skip "no $bin (make fuzz)"
	cp -r "$ROOT/tests/fuzz/seeds/$1" "$TMPD/corpus"
	# HPID: ended by the cleanup (SIGINT) if the test is stopped
	TMPDIR=$TMPD "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=3 -artifact_prefix="$TMPD/" "$TMPD/corpus" \
		>"$TMPD/fuzz.log" 2>&1 &
	HPID=$!
	pid=$HPID
	wait_for_ht
	rm -f "/tmp/perf-$pid.map"
	if [ "$HRC" != 0 ] || ! grep -qE '^Done [0-9]+ runs' "$TMPD/fuzz.log"; then
		grep -A30 -m1 -E 'ERROR|runtime error|deadly signal|timeout' "$TMPD/fuzz.log" | head -40
		ls "$TMPD"/crash-* "$TMPD"/leak-* "$TMPD"/timeout-* 2>/dev/null |
			while read -r f; do echo "input: $(base64 -w0 "$f")"; done
		fail "fuzz_$1 exited $HRC"
	fi
	return 0
}

test_fuzz_elf() { fuzz_run elf; }
test_fuzz_perfmap() { fuzz_run perfmap; }
test_fuzz_diff() { fuzz_run diff; }
test_fuzz_unwind() { fuzz_run unwind; }
test_fuzz_debugfind() { fuzz_run debugfind; }
test_fuzz_symbolize() { fuzz_run symbolize; }
