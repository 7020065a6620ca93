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

# symbolize: lines shorter than a frame's indentation pass through intact
test_hostile_symbolize_short_lines() {
	local in
	for in in abc '' ' ' '       ' '        ' '        x' '        +0x'; do
		printf '%s' "$in" | "$HT" symbolize >"$TMPD/out" 2>"$HERR" ||
			fail "'$in': exit $?"
		[ "$(cat "$TMPD/out")" = "$in" ] || fail "'$in' became '$(cat "$TMPD/out")'"
		[ -s "$HERR" ] && fail "'$in': $(cat "$HERR")"
	done
	return 0
}

# symbolize: gzip or binary data is one error line and exit 1, not echoed
test_hostile_symbolize_binary_input() {
	printf 'heaptrail: pid 1\n' | gzip >"$TMPD/rep.gz"
	"$HT" symbolize "$TMPD/rep.gz" >"$TMPD/out" 2>"$HERR" && fail "gzip input accepted"
	[ "$(cat "$HERR")" = "heaptrail: $TMPD/rep.gz: gzip data at line 1, not a heaptrail report" ] ||
		fail "stderr: $(cat "$HERR")"
	[ -s "$TMPD/out" ] && fail "gzip data echoed"
	printf 'heaptrail: pid 1\n        a+0x1\nx\0y\n' >"$TMPD/rep.bin"
	"$HT" symbolize <"$TMPD/rep.bin" >"$TMPD/out" 2>"$HERR" && fail "binary input accepted"
	[ "$(cat "$HERR")" = "heaptrail: standard input: binary data at line 3, not a heaptrail report" ] ||
		fail "stderr: $(cat "$HERR")"
	[ -s "$TMPD/out" ] && fail "binary data echoed: $(head -c 100 "$TMPD/out")"
	return 0
}

# symbolize: a build ID is a path under the debug directories; '../..' in
# one would reach a file planted outside them
test_hostile_symbolize_build_id_path() {
	local vaddr off good=abcdef0123456789abcdef0123456789abcdef01
	vaddr=$(nm "$BIN/symc" | awk '$3 == "store_record" { print $1 }')
	[ -n "$vaddr" ] || fail "no store_record in symc"
	off=$(printf '%x' $((0x$vaddr + 5)))
	mkdir -p "$TMPD/dbg/.build-id/${good:0:2}"
	cp "$BIN/symc" "$TMPD/planted.debug"
	cp "$BIN/symc" "$TMPD/dbg/.build-id/${good:0:2}/${good:2}.debug"
	# the same report with a real build ID is named: the setup works
	printf '        symc+0x%s\nunsymbolized module: symc build-id %s path /nonexistent\n' \
		"$off" "$good" >"$TMPD/good.txt"
	"$HT" symbolize --debug-dir "$TMPD/dbg" "$TMPD/good.txt" >"$TMPD/out" 2>"$HERR" ||
		fail "exit $?"
	grep -qE '^        store_record\+0x5 \(symc\) symc\.c:[0-9]+$' "$TMPD/out" ||
		fail "not named: $(head -1 "$TMPD/out")"
	printf '        symc+0x%s\nunsymbolized module: symc build-id ../../planted path /nonexistent\n' \
		"$off" >"$TMPD/evil.txt"
	"$HT" symbolize --debug-dir "$TMPD/dbg" "$TMPD/evil.txt" >"$TMPD/out" 2>"$HERR" ||
		fail "exit $?"
	cmp -s "$TMPD/evil.txt" "$TMPD/out" || fail "rewritten: $(head -1 "$TMPD/out")"
	[ "$(cat "$HERR")" = "heaptrail: line 2: build ID '../../planted' is not hex: symc left as is" ] ||
		fail "stderr: $(cat "$HERR")"
}

# corrupt_inline_origin FILE: make_record's inlined call in FILE refers to
# an abstract origin past the end of .debug_info
corrupt_inline_origin() {
	local sec origin at
	sec=$(readelf -S -W "$1" | awk '{ for (i = 1; i < NF; i++)
		if ($i == ".debug_info") print $(i + 3) }')
	origin=$(readelf -wi "$1" 2>/dev/null | awk '/DW_AT_name .*: make_record$/ {
		print prev; exit } { prev = $0 }' | sed -n 's/^ *<1><\([0-9a-f]*\)>.*/\1/p')
	at=$(readelf -wi "$1" 2>/dev/null | awk -v o="<0x$origin>" '
		/DW_AT_abstract_origin/ && $NF == o { gsub(/[<>]/, "", $1); print $1 }')
	[ -n "$sec" ] && [ -n "$origin" ] && [ "$(echo "$at" | wc -w)" = 1 ] ||
		fail "no inlined make_record in $1: '$sec' '$origin' '$at'"
	printf '\360\377\377\377' | dd of="$1" bs=1 seek=$((0x$sec + 0x$at)) conv=notrunc status=none
	readelf -wi "$1" 2>/dev/null | grep -q "DW_AT_abstract_origin: <0xfffffff0>" ||
		fail "not corrupted"
}

# a debug file whose inlined call has a broken abstract origin: the call
# is still a frame (unnamed), the caller and lines are right, and libdw
# leaks nothing (the sanitized run checks)
test_hostile_corrupt_debug_file() {
	local id vaddr l1 l2
	id=$(readelf -n "$BIN/symc" | sed -n 's/.*Build ID: //p')
	mkdir -p "$TMPD/dbg/.build-id/${id:0:2}"
	cp "$BIN/symc" "$TMPD/dbg/.build-id/${id:0:2}/${id:2}.debug"
	corrupt_inline_origin "$TMPD/dbg/.build-id/${id:0:2}/${id:2}.debug"
	# the return address of store_record's call to malloc
	vaddr=$(objdump -d --no-show-raw-insn "$BIN/symc" | awk '
		/<store_record>:/ { on = 1 } on && /call.*<malloc@plt>/ { f = 1; next }
		on && f { sub(":", "", $1); print $1; exit }')
	[ -n "$vaddr" ] || fail "no call to malloc in store_record"
	printf '        symc+0x%s\nunsymbolized module: symc build-id %s path /nonexistent\n' \
		"$vaddr" "$id" >"$TMPD/rep.txt"
	"$HT" symbolize --debug-dir "$TMPD/dbg" "$TMPD/rep.txt" >"$TMPD/out" 2>"$HERR" ||
		fail "exit $?: $(cat "$TMPD/out")"
	l1=$(src_line "$ROOT/tests/symc.c" record-alloc)
	l2=$(src_line "$ROOT/tests/symc.c" record-call)
	[ "$(sed -n 1p "$TMPD/out")" = "        ? (inlined) symc.c:$l1" ] ||
		fail "line 1: $(sed -n 1p "$TMPD/out")"
	sed -n 2p "$TMPD/out" | grep -qE "^        store_record\+0x[0-9a-f]+ \(symc\) symc\.c:$l2$" ||
		fail "line 2: $(sed -n 2p "$TMPD/out")"
}

# diff: a pprof whose mapping is a varint, not a message (found by
# fuzz_diff): one error line, no crash
test_hostile_diff_pprof_varint_message() {
	printf '\030\001' | gzip >"$TMPD/v.pb.gz"
	"$HT" diff "$TMPD/v.pb.gz" "$TMPD/v.pb.gz" >"$TMPD/out" 2>"$HERR"
	[ $? = 1 ] || fail "exit status not 1"
	[ "$(cat "$HERR")" = "heaptrail: cannot read $TMPD/v.pb.gz: bad protobuf wire type" ] ||
		fail "stderr: $(cat "$HERR")"
}
