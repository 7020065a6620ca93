# SPDX-License-Identifier: GPL-2.0
# Many stacks and many live allocations (tests/bin/manystacks): the figures
# stay exact, and --ages (read in batches) accounts for every allocation.

test_many_stacks_exact_with_ages() {
	"$ROOT/tests/bin/manystacks" 100000 4096 >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "manystacks did not start"
	run_ht -p "$TPID" -n 10000 --ages
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" 600 || fail "manystacks did not finish"
	stop_ht
	# the stacks through level(): 4096 of them, 100000 x 16 bytes (the
	# run is shorter than -i, so $HOUT holds the final report alone)
	[ "$(grep -c '^heaptrail: pid' "$HOUT")" = 1 ] || fail "more than one report"
	awk '
		/^#[0-9]+ / { in_lv = 0; bytes = $2; count = $7
			      h = $0; sub(/.*\[/, "", h); sub(/\].*/, "", h)
			      n = split(h, b, " "); hsum = 0
			      for (i = 1; i <= n; i++) { split(b[i], kv, ":"); hsum += kv[2] }
			      if (hsum != count) bad++
			      next }
		/^        level\+/ && !in_lv { in_lv = 1; stacks++; sb += bytes; sc += count }
		END { printf "%d %d %d %d\n", stacks, sb, sc, bad + 0 }' "$HOUT" >"$TMPD/sum"
	read -r stacks bytes count bad <"$TMPD/sum"
	[ "$stacks" = 4096 ] || fail "$stacks stacks through level(), expected 4096"
	[ "$bytes" = 1600000 ] || fail "$bytes bytes through level(), expected 1600000"
	[ "$count" = 100000 ] || fail "$count allocations through level(), expected 100000"
	[ "$bad" = 0 ] || fail "$bad stacks whose age histogram does not add up to their count"
}
