# SPDX-License-Identifier: GPL-2.0
# What an allocator maps for itself, in-house allocators named on the
# command line, allocators linked into the executable, and redis.

JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

# anon_bytes PID: bytes of the process's anonymous mappings without a name
anon_bytes() {
	awk 'NF == 5 { split($1, r, "-"); print r[1], r[2] }' "/proc/$1/maps" |
		python3 -c 'import sys; print(sum(int(b, 16) - int(a, 16) for a, b in (l.split() for l in sys.stdin)))'
}

# jemalloc maps new extents for 64 x 64 KiB inside malloc: they are the
# allocator's, reported on their own line, exactly what the process's
# anonymous mappings grew by besides the 3 pages the program mapped.
test_allocator_reserved_jemalloc() {
	local a0 a1 line
	[ -e "$JEMALLOC" ] || skip "libjemalloc2 not installed"
	LD_PRELOAD=$JEMALLOC start_target extents
	run_ht -p "$TPID" --json -i 1
	a0=$(anon_bytes "$TPID")
	trigger_target
	a1=$(anon_bytes "$TPID")
	sleep 1.5
	stop_ht
	tail -1 "$HOUT" | python3 -c '
import json, sys
r = json.load(sys.stdin)
heap, mm, ar = r["heap"], r["mmap"], r["allocator_reserved"]
print(heap["live_bytes"], heap["live_count"], mm["live_bytes"], mm["live_count"],
      ar["live_bytes"], ar["live_count"], r["outstanding_bytes"],
      sum(s["live_bytes"] for s in r["stacks"]))' >"$TMPD/r" || fail "JSON: $(tail -1 "$HOUT" | head -c 300)"
	read -r hb hc mb mc ab ac out sum <"$TMPD/r"
	[ "$hb $hc" = "4194304 64" ] || fail "heap $hb in $hc, expected 4194304 in 64"
	[ "$mb $mc" = "12288 1" ] || fail "program mmap $mb in $mc, expected 12288 in 1 (the allocator's mixed in?)"
	[ "$out" = $((4194304 + 12288)) ] || fail "outstanding $out"
	[ "$ab" -gt 0 ] || fail "allocator-reserved $ab: jemalloc's extents not seen"
	[ "$((ab + 12288))" = "$((a1 - a0))" ] ||
		fail "allocator-reserved $ab + 12288, maps grew by $((a1 - a0))"
	[ "$sum" = "$out" ] || fail "stacks sum to $sum, not $out"
	# the text report says the same in one line
	"$HT" -p "$TPID" -d 0.5 >"$HOUT" 2>"$HERR" || fail "text run failed"
	line=$(grep '^allocator-reserved: ' "$HOUT") || fail "no allocator-reserved line"
	[[ $line == "allocator-reserved: 0 bytes (0 B) in 0 mappings"* ]] ||
		fail "a fresh attach reports $line"
}

# -- COMMAND: jemalloc's constructor maps its first extents before main,
# before the start gate (no allocator code known, no unwind rows: their
# stacks were libc's mmap wrapper alone, 8 MiB counted as the program's);
# at the gate they move to the allocator's.
test_allocator_reserved_before_main() {
	local n
	[ -e "$JEMALLOC" ] || skip "libjemalloc2 not installed"
	LD_PRELOAD=$JEMALLOC "$HT" -d 2 -n 50 -- "$TARGET" extents --now 3 >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry keep_blocks 4194304 64 malloc
	expect_entry map_three 12288 1 mmap
	n=$(last_report | awk '/^#[0-9]+ .* mmap$/ { getline f; getline g
		if (f ~ /^        mmap\+0x[0-9a-f]+ \(libc\.so\.6\)/ && g !~ /^        /) n++ }
		END { print n + 0 }')
	[ "$n" = 0 ] || fail "$n mmap stacks of libc's wrapper alone (the allocator's, before main)"
	last_report | awk '/^allocator-reserved: / { exit !($2 >= 1048576) }' ||
		fail "allocator-reserved: $(last_report | grep '^allocator-reserved')"
}
