# SPDX-License-Identifier: GPL-2.0
# Go programs: refused with uprobes (Go's heap is not malloc's, and return
# probes can crash its runtime), traced with --faults.

start_go() {
	[ -x "$ROOT/tests/bin/goleak" ] || skip "tests/bin/goleak not built (golang-go missing)"
	"$ROOT/tests/bin/goleak" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "goleak did not start"
}

# -p and -- both refuse in one line naming --faults; the target is
# untouched (no uprobe page, still answers), the command never started
test_go_refused() {
	start_go
	"$HT" -p "$TPID" -d 1 >"$HOUT" 2>"$HERR"
	[ $? = 1 ] || fail "-p: exit $?, expected 1"
	[ "$(wc -l <"$HERR")" = 1 ] &&
		grep -qx "heaptrail: PID $TPID (goleak) is a Go program: .* use --faults (no probes) .*" "$HERR" ||
		fail "-p said: $(cat "$HERR")"
	grep -q '\[uprobes\]' /proc/"$TPID"/maps && fail "the Go program has a uprobe page"
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" || fail "the Go program stopped answering"
	"$HT" -d 1 -- "$ROOT/tests/bin/goleak" >"$HOUT" 2>"$HERR"
	[ $? = 1 ] || fail "--: exit $?, expected 1"
	grep -qx "heaptrail: $ROOT/tests/bin/goleak is a Go program: .*" "$HERR" || fail "-- said: $(cat "$HERR")"
	grep -q '^ready' "$HOUT" && fail "the command was started"
	return 0
}

# --faults finds the Go leak: main.leakPages writes 640 new pages (40 x
# 64 KiB); those the runtime zeroed first are charged to its own frames
# under leakPages, so the stack whose first frame is leakPages holds 600
# to 640 of them, with main.main below it
test_go_faults() {
	start_go
	run_ht --faults -p "$TPID"
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" || fail "goleak did not leak"
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local e pages
	e=$(entry main.leakPages)
	[ -n "$e" ] || fail "no stack in main.leakPages: $(last_report | head -20)"
	read -r _ pages _ rank <<<"$e"
	[ "$(frame_lines "$rank" | head -1 | cut -d+ -f1)" = main.leakPages ] ||
		fail "stack #$rank starts at $(frame_lines "$rank" | head -1)"
	frame_lines "$rank" | grep -q '^main\.main+' || fail "no main.main under leakPages"
	[ "$pages" -ge 600 ] && [ "$pages" -le 640 ] || fail "leakPages holds $pages pages"
}
