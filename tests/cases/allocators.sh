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

# start_bin PROGRAM ARGS...: start_target for another test program
start_bin() {
	"$@" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "$1 did not start"
}

# An in-house pool allocator named by --alloc-syms: its leaks exactly,
# at the outer call (the chunk it takes from malloc inside my_alloc is
# not counted again), in the executable and in a shared library.
pool_case() {
	start_bin "$ROOT/tests/bin/$1"
	run_ht -p "$TPID" --alloc-syms 'my_alloc=malloc,my_free=free,my_realloc=realloc'
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry leak_pool 1000 25 malloc
	expect_entry leak_grown 300 1 realloc
	[ "$(frames "$(entry leak_pool | cut -d' ' -f4)" | head -2 | tr "\n" " ")" = "leak_pool main " ] ||
		fail "stack: $(frames "$(entry leak_pool | cut -d' ' -f4)" | tr '\n' ' ')"
	total_line | grep -q '= heap 1300 in 26 allocations ' ||
		fail "$(total_line) (the pool's own malloc counted?)"
	[ -z "$(entry churn_pool)" ] || fail "churn_pool holds $(entry churn_pool)"
}

test_alloc_syms_executable() {
	pool_case pool
}

test_alloc_syms_shared_library() {
	pool_case pool-so
}

# Bad --alloc-syms: one line, non-zero exit, the target untouched.
test_alloc_syms_errors() {
	local out
	start_bin "$ROOT/tests/bin/pool"
	out=$("$HT" -p "$TPID" --alloc-syms 'my_alloc=mallok' 2>&1)
	[ $? = 2 ] || fail "unknown kind: exit $?"
	[ "$(echo "$out" | wc -l)" = 1 ] && [[ $out == *"unknown kind 'mallok' for my_alloc"* ]] ||
		fail "unknown kind: $out"
	out=$("$HT" -p "$TPID" -d 1 --alloc-syms 'no_such_fn=malloc' 2>&1)
	[ $? = 1 ] || fail "missing symbol: exit $?"
	[ "$out" = "heaptrail: --alloc-syms: no function no_such_fn in any module of PID $TPID" ] ||
		fail "missing symbol: $out"
	out=$("$HT" -d 1 --alloc-syms 'no_such_fn=free' -- "$ROOT/tests/bin/pool" 2>&1)
	[ $? = 1 ] || fail "missing symbol, -- mode: exit $?"
	[[ $(echo "$out" | grep -c .) = 1 && $out == *"no function no_such_fn in any module of PID "* ]] ||
		fail "missing symbol, -- mode: $out"
	kill -0 "$TPID" || fail "the target died"
}

# An allocator linked into the executable is found by its symbols and
# probed as a replacement library would be: a small one exported
# (-rdynamic, it serves libc too), Debian's static jemalloc with malloc in
# .symtab only. Today's main probed libc's malloc alone and saw nothing.
test_exe_allocator_exported() {
	start_bin "$ROOT/tests/bin/ownmalloc"
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry own_leak 3330 10 malloc
	grep -q "ownmalloc has an allocator of its own: [0-9]* allocator functions probed there" "$HERR" ||
		fail "not said: $(cat "$HERR")"
	[ "$(frames "$(entry own_leak | cut -d' ' -f4)" | head -2 | tr '\n' ' ')" = "own_leak main " ] ||
		fail "stack: $(frames "$(entry own_leak | cut -d' ' -f4)" | tr '\n' ' ')"
	total_line | grep -q '= heap 3330 in 10 allocations ' || fail "$(total_line)"
}

test_exe_allocator_jemalloc_static() {
	local bin=$ROOT/tests/bin/target-jemalloc-static
	[ -x "$bin" ] || skip "no libjemalloc.a (libjemalloc-dev)"
	nm -D "$bin" | grep -qw malloc && fail "the test wants malloc in .symtab only"
	start_bin "$bin" extents
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry keep_blocks 4194304 64 malloc
	grep -q "target-jemalloc-static has an allocator of its own" "$HERR" ||
		fail "not said: $(cat "$HERR")"
	expect_entry map_three 12288 1 mmap
	total_line | grep -q '+ mmap 12288 in 1 mappings ' || fail "$(total_line)"
	last_report | awk '/^allocator-reserved: / { exit !($2 > 0) }' ||
		fail "jemalloc's extents: $(last_report | grep '^allocator-reserved')"
}
