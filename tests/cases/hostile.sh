# SPDX-License-Identifier: GPL-2.0
# Hostile input: files the traced program names or plants (debug links,
# build-id paths, perf maps) and reports handed to `heaptrail symbolize`.
# heaptrail runs as root: such a file must neither hang it nor lead it
# outside the places it looks in.

BIN=$ROOT/tests/bin

# ht_exits_within TENTHS: heaptrail has exited by then (its status in
# HRC); else it is blocked: SIGKILL it and fail
ht_exits_within() {
	local i
	for ((i = 0; i < $1; i++)); do
		kill -0 "$HPID" 2>/dev/null || { wait_for_ht; return 0; }
		sleep 0.1
	done
	kill -KILL "$HPID"
	wait "$HPID" 2>/dev/null
	HPID=
	fail "heaptrail still running $(($1 / 10)) s later: blocked"
}

# the target outlived heaptrail, unharmed: it ends normally when told to
target_unharmed() {
	local rc
	kill -0 "$TPID" 2>/dev/null || fail "target died"
	kill -TERM "$TPID"
	wait "$TPID"
	rc=$?
	TPID=
	[ "$rc" = 0 ] || fail "target exited $rc"
}

# the 12 x 96 bytes symc's store_record leaks, as stack #RANK
leak_rank() {
	last_report | awk '/^#[0-9]+ 1152 bytes .* in 12 allocations/ { print substr($1, 2); exit }'
}

# .gnu_debuglink names a FIFO next to the binary: -d still ends the run
test_hostile_fifo_debuglink() {
	local d=$TMPD/app
	mkdir "$d"
	# .symtab kept: names without lines
	objcopy --strip-debug "$BIN/symc" "$d/symc-fifo"
	echo stale >"$d/symc-fifo.debug"
	objcopy --add-gnu-debuglink="$d/symc-fifo.debug" "$d/symc-fifo"
	rm "$d/symc-fifo.debug"
	mkfifo "$d/symc-fifo.debug"
	readelf -p .gnu_debuglink "$d/symc-fifo" | grep -q 'symc-fifo\.debug' ||
		fail "no debuglink"
	TARGET=$d/symc-fifo start_target records
	run_ht -p "$TPID" -d 3
	trigger_target
	ht_exits_within 150
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry store_record 1152 12 malloc
	frame_lines "$(entry store_record | cut -d' ' -f4)" | head -1 |
		grep -qE '^store_record\+0x[0-9a-f]+ \(symc-fifo\)$' ||
		fail "frame 1: $(frame_lines "$(entry store_record | cut -d' ' -f4)" | head -1)"
	target_unharmed
}

# a FIFO at the build-id path of a --debug-dir: SIGINT still ends the run
test_hostile_fifo_build_id() {
	local id r
	id=$(readelf -n "$BIN/symc-buildid" | sed -n 's/.*Build ID: //p')
	[ ${#id} = 40 ] || fail "no build ID"
	mkdir -p "$TMPD/dbg/.build-id/${id:0:2}"
	mkfifo "$TMPD/dbg/.build-id/${id:0:2}/${id:2}.debug"
	TARGET=$BIN/symc-buildid start_target records
	run_ht -p "$TPID" --debug-dir "$TMPD/dbg"
	trigger_target
	kill -INT "$HPID"
	ht_exits_within 150
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	r=$(leak_rank)
	[ -n "$r" ] || fail "no 1152-byte stack: $(last_report | grep '^#')"
	frame_lines "$r" | head -1 | grep -qE '^symc-buildid\+0x[0-9a-f]+$' ||
		fail "frame 1: $(frame_lines "$r" | head -1)"
	target_unharmed
}

# /tmp/perf-PID.map replaced by a FIFO: JIT frames stay unnamed, no hang
test_hostile_fifo_perf_map() {
	local map
	TARGET=$BIN/symc start_target jit
	map=/tmp/perf-$TPID.map
	[ -f "$map" ] || fail "no $map"
	rm "$map"
	mkfifo "$map"
	run_ht -p "$TPID" -d 3
	trigger_target
	ht_exits_within 150
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ -z "$(entry jit_alloc_forty)" ] || fail "JIT frame named from a FIFO"
	last_report | grep -qE '^#[0-9]+ 120 bytes .* in 3 allocations' ||
		fail "no 120-byte stack: $(last_report | grep '^#')"
	target_unharmed
	rm -f "$map"
}
