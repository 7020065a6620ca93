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
	total_line | grep -Eq '\+ mmap 12288 in 1 mappings? ' || fail "$(total_line)"
	last_report | awk '/^allocator-reserved: / { exit !($2 > 0) }' ||
		fail "jemalloc's extents: $(last_report | grep '^allocator-reserved')"
}

# jemalloc 5's size class of a request (16-byte quantum, 4 classes a
# doubling): what malloc_usable_size gives, what redis counts
JE_CLASS='
def je_class(s):
    if s <= 8:
        return 8
    if s <= 128:
        return (s + 15) // 16 * 16
    g = 1 << (s - 1).bit_length() - 1     # s in (g, 2g]
    step = g // 4
    return (s + step - 1) // step * step
'

# Debian's redis-server (jemalloc) under a bounded redis-benchmark, traced
# by PID. redis's INFO used_memory adds malloc_usable_size of each block,
# heaptrail the size asked for: the growth must be the sum of the jemalloc
# size classes of heaptrail's live allocations, exactly where every
# allocation of a stack has one size (nearly every stack here), within
# 25% + 16 bytes an allocation (the widest class spacing) where not, and
# less a realloc'd block's old size where that block was made before
# attach (seen: 16 bytes of a client rax node), and less up to 1 KiB of
# blocks made before attach and freed since (seen: 0 or 32 bytes: their
# sizes are unknown to heaptrail, which counts them in frees_before_attach).
# Each key is 4
# allocations (value sds 104, its object 16, dict entry 24, key sds 18
# bytes): those stacks hold one allocation per key. jemalloc's extents
# are allocator-reserved, not program mappings.
test_redis_used_memory() {
	local port u0 u1 keys
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
		skip "redis-server/redis-tools not installed"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$TMPD" --daemonize no >"$TOUT" 2>&1 &
	TPID=$!
	for _ in $(seq 100); do
		[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1
	done
	used() { redis-cli -p "$port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
	run_ht -p "$TPID" --json -n 100
	u0=$(used)
	redis-benchmark -p "$port" -t set -n 20000 -r 20000 -d 100 -c 10 -q >"$TMPD/bench" 2>&1 ||
		fail "redis-benchmark: $(tail -2 "$TMPD/bench")"
	sleep 0.5
	# DBSIZE first: each command's first call allocates its latency
	# histogram after it ran, in heaptrail's count and not in that INFO's
	keys=$(redis-cli -p "$port" dbsize)
	u1=$(used)
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ "$keys" -gt 10000 ] || fail "only $keys keys"
	tail -1 "$HOUT" | python3 -c "$JE_CLASS"'
import json, sys
growth, keys = int(sys.argv[1]), int(sys.argv[2])
r = json.load(sys.stdin)
if r["stacks_total"] > len(r["stacks"]):
    sys.exit("stacks left out of the JSON: raise -n")
lo = hi = 0
kv = {}
for s in r["stacks"]:
    b, n = s["live_bytes"], s["live_count"]
    if n <= 0:
        continue
    if b % n == 0:                       # one size: its class exactly
        c = je_class(b // n) * n
    else:
        c = b + b // 4 + 16 * n; lo -= c - b
    # a block made before attach and grown by realloc since: redis counted
    # its old size then, heaptrail only the new one
    lo += 0 if s["kind"] == "realloc" else c
    hi += c
    names = [f.get("function") or "" for f in s["frames"]] + ["", "", ""]
    what = {("_sdsnewlen", "createStringObject"): "value",
            ("createObject", "processMultibulkBuffer"): "object",
            ("dictAddRaw", "dbAdd"): "entry",
            ("_sdsnewlen", "dbAdd"): "key"}.get((names[1], names[2]))
    if what and s["kind"] == "malloc":
        kv[what] = (b, n)
    else:
        print("other: %s %d in %d: %s" % (s["kind"], b, n, " < ".join(names[:6])))
print("growth %d, classes of the live allocations %d..%d, heap %d, key/value %s" %
      (growth, lo, hi, r["heap"]["live_bytes"], kv))
# blocks redis made before attach and freed since (client index nodes of
# 16-32 bytes; heaptrail counts them in frees_before_attach, sizes unseen)
# lower the growth: 1 KiB of room for those
pre = r["counters"]["frees_before_attach"]
print("frees of blocks made before attach: %d" % pre)
if not lo - 1024 <= growth <= hi:
    sys.exit("used_memory grew by %d, outside %d..%d" % (growth, lo - 1024, hi))
want = {"value": 104, "object": 16, "entry": 24, "key": 18}
for what, size in want.items():
    if kv.get(what) != (size * keys, keys):
        sys.exit("%s stack: %s, expected %d bytes in %d" % (what, kv.get(what), size * keys, keys))
if r["mmap"]["live_bytes"] != 0:
    sys.exit("program mappings: %s (jemalloc extents?)" % r["mmap"])
if r["allocator_reserved"]["live_bytes"] <= 0:
    sys.exit("no allocator-reserved mapping")
' "$((u1 - u0))" "$keys" >"$TMPD/check" 2>&1 || fail "$(cat "$TMPD/check")"
	cat "$TMPD/check"
}
