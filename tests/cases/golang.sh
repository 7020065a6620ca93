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
# 64 KiB). When the runtime hands it a span to reuse it zeroes it first:
# those pages are charged to memclr under makeslice under leakPages (some
# runs 112 of them), the rest to the store in leakPages itself. The
# faulting instruction is named exactly (line 21, the store; not the
# line of the byte before it, the epilogue of line 25) and the walk from
# it goes straight to main.main (a row looked up before the fault's own
# pc read a local as a return address: a bogus frame split the stack).
test_go_faults() {
	start_go
	run_ht --faults -p "$TPID"
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" || fail "goleak did not leak"
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local e pages rank zeroed
	e=$(entry main.leakPages)
	[ -n "$e" ] || fail "no stack in main.leakPages: $(last_report | head -20)"
	read -r _ pages _ rank <<<"$e"
	[ "$(frame_lines "$rank" | head -2 | sed 's/+0x[0-9a-f]* (goleak)//')" = \
	  "$(printf 'main.leakPages goleak.go:21\nmain.main goleak.go:34')" ] ||
		fail "stack #$rank: $(frame_lines "$rank" | head -3)"
	zeroed=$(last_report | awk '
		/^#[0-9]+ / { pages = $7; n = 0; next }
		/^        / { f[++n] = $1
			if (n == 5 && f[1] ~ /^runtime\.memclrNoHeapPointers\+/ &&
			    f[4] ~ /^runtime\.makeslice\+/ &&
			    f[5] ~ /^main\.leakPages\+/) s += pages }
		END { print s + 0 }')
	pages=$((pages + zeroed))
	[ "$pages" -ge 600 ] && [ "$pages" -le 641 ] ||
		fail "leakPages holds $pages pages ($zeroed zeroed by the runtime)"
}
