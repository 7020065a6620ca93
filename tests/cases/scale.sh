# SPDX-License-Identifier: GPL-2.0
# Many stacks and many live allocations (tests/bin/manystacks): the figures
# stay exact while the loader reads only the stacks that changed, and
# --ages (read in batches) accounts for every allocation.

# Sums of the final report in $HOUT (run with -n larger than the stacks):
# "STACKS BYTES COUNT BAD TRICKLE ROWBYTES ROWCOUNT" where STACKS, BYTES
# and COUNT are those through level(), BAD the stacks whose age histogram
# does not add up to their count, TRICKLE the count of trickle()'s stack,
# ROWBYTES and ROWCOUNT the sums over every stack listed.
many_sums() {
	awk '
		/^#[0-9]+ / { in_lv = 0; bytes = $2; count = $7
			      rb += bytes; rc += count
			      h = $0; sub(/.*\[/, "", h); sub(/\].*/, "", h)
			      n = split(h, b, " "); hsum = 0
			      for (i = 1; i <= n; i++) { split(b[i], kv, ":"); hsum += kv[2] }
			      if (hsum != count) bad++
			      next }
		/^        level\+/ && !in_lv { in_lv = 1; stacks++; sb += bytes; sc += count }
		/^        trickle\+/ { tc = count }
		END { printf "%d %d %d %d %d %d %d\n", stacks, sb, sc, bad + 0, tc, rb, rc }' "$HOUT"
}

# ALLOCS STACKS [churn]: attach, make them, let a few seconds of samples
# go by (the changed stacks alone are read), then the final report
many_run() {
	"$ROOT/tests/bin/manystacks" "$@" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "manystacks did not start"
	# -i 600: the final report alone, however long the run takes (under
	# ASan, symbolizing 86,000 frames takes longer than the default 10 s)
	run_ht -p "$TPID" -n 10000 --ages -v -i 600
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" 600 || fail "manystacks did not finish"
	sleep 3.5
	# stopped, the target changes nothing while heaptrail's final
	# report and its self-check (-v) read the maps
	kill -STOP "$TPID"
	stop_ht
	kill -CONT "$TPID"
	[ "$(grep -c '^heaptrail: pid' "$HOUT")" = 1 ] || fail "more than one report"
}

# "heap since attach: allocated B bytes in N calls, freed F bytes in M calls"
# and "outstanding: X bytes ... = heap H in C allocations ..." as numbers
many_totals() {
	sed -n 's/^heap since attach: allocated \([0-9]*\) bytes in \([0-9]*\) calls\?, freed \([0-9]*\) bytes in \([0-9]*\) calls\?.*/\1 \2 \3 \4/p' "$HOUT"
	sed -n 's/^outstanding: \([0-9]*\) bytes.* = heap \([0-9]*\) in \([0-9]*\) allocations\?.*/\1 \2 \3/p' "$HOUT"
}

test_many_stacks_exact_with_ages() {
	many_run 100000 4096
	read -r stacks bytes count bad trickle rowb rowc < <(many_sums)
	[ "$stacks" = 4096 ] || fail "$stacks stacks through level(), expected 4096"
	[ "$bytes" = 1600000 ] || fail "$bytes bytes through level(), expected 1600000"
	[ "$count" = 100000 ] || fail "$count allocations through level(), expected 100000"
	[ "$bad" = 0 ] || fail "$bad stacks whose age histogram does not add up to their count"
	# one 16-byte trickle a second, and nothing else made since attach
	[ "$trickle" -ge 3 ] || fail "trickle() has $trickle allocations, expected 3 or more"
	{ read -r ab ac fb fc; read -r ob hb hc; } < <(many_totals)
	local live=$((100000 + trickle))
	[ "$hc" = "$live" ] && [ "$hb" = $((16 * live)) ] && [ "$ob" = "$hb" ] ||
		fail "outstanding $ob bytes, heap $hb in $hc, expected $((16 * live)) in $live"
	[ "$ac $ab $fc $fb" = "$live $((16 * live)) 0 0" ] ||
		fail "since attach: $ac calls $ab bytes, freed $fc/$fb; expected $live calls"
	[ "$rowb $rowc" = "$hb $hc" ] || fail "stacks sum to $rowb bytes in $rowc, totals say $hb in $hc"
	# the idle seconds read only the stacks that changed, and the copy
	# they kept matches a full read of the aggregates
	grep -qE '^heaptrail: aggregates: [0-9]+ full reads, [1-9][0-9]* stacks read as changed, 0 stale at the end' "$HERR" ||
		fail "incremental reads: $(grep aggregates: "$HERR")"
}

test_many_stacks_churn_exact() {
	many_run 100000 4096 churn
	read -r stacks bytes count bad trickle rowb rowc < <(many_sums)
	# each second one allocation of every stack is freed and remade
	# from a second call site in main(): 4096 more stacks, same figures
	[ "$stacks $bytes $count $bad" = "8192 1600000 100000 0" ] ||
		fail "level(): $stacks stacks, $bytes bytes in $count, $bad bad histograms"
	{ read -r ab ac fb fc; read -r ob hb hc; } < <(many_totals)
	local live=$((100000 + trickle)) rounds=$((fc / 4096))
	[ "$rounds" -ge 3 ] && [ "$fc" = $((4096 * rounds)) ] && [ "$fb" = $((16 * fc)) ] ||
		fail "freed $fb bytes in $fc calls: not whole rounds of 4096"
	[ "$hc" = "$live" ] && [ "$ac" = $((live + fc)) ] && [ "$ab" = $((16 * ac)) ] ||
		fail "heap $hc live, $ac calls, $fc frees; expected $live live"
	[ "$rowb $rowc" = "$hb $hc" ] || fail "stacks sum to $rowb bytes in $rowc, totals say $hb in $hc"
	grep -qE '^heaptrail: aggregates: .*, 0 stale at the end' "$HERR" ||
		fail "copy of the aggregates: $(grep aggregates: "$HERR")"
}

# More stacks than --max-stacks: allocations whose stack does not fit are
# kept under one [unrecorded stacks] entry, so the stacks still add up to
# the totals; nothing is dropped, and each unrecorded allocation is
# counted once (the stack map was full, not also the aggregate map).
test_unrecorded_stacks_keep_totals() {
	"$ROOT/tests/bin/manystacks" 4000 1000 >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "manystacks did not start"
	run_ht -p "$TPID" -n 10000 --max-stacks 200
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" 600 || fail "manystacks did not finish"
	kill -STOP "$TPID"
	stop_ht
	kill -CONT "$TPID"
	local heap rows unrec drop
	heap=$(last_report | sed -n 's/^outstanding: .* = heap \([0-9]*\) in .*/\1/p')
	rows=$(last_report | awk '/^#[0-9]+ / { s += $2 } END { print s + 0 }')
	[ -n "$heap" ] && [ "$heap" = "$rows" ] || fail "stacks sum to $rows, heap is $heap"
	unrec=$(last_report | awk '/^#[0-9]+ / { b = $2; c = $7 } /^        \[unrecorded stacks\]/ { print b, c; exit }')
	[ -n "$unrec" ] || fail "no [unrecorded stacks] entry"
	read -r ub uc <<<"$unrec"
	drop=$(last_report | grep '^dropped:')
	[[ $drop == "dropped: 0 (live map full 0, mapping map full 0, thread map full 0); unrecorded stacks $uc (stack map full $uc, aggregate map full 0: "* ]] ||
		fail "unrecorded $ub bytes in $uc: $drop"
	[ "$ub" = $((uc * 16)) ] && [ "$uc" -gt 3000 ] || fail "[unrecorded stacks] holds $ub bytes in $uc"
}
