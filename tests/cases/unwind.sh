# SPDX-License-Identifier: GPL-2.0
# Unwinding code built without frame pointers: heaptrail's stacks must be
# the ones gdb shows at the same malloc call, frame for frame.

DEEP=$ROOT/tests/bin/deep
DEEP_SIZE=12345	# main -> deep_a -> deep_b -> deep_c -> malloc, 3 times
LIB_SIZE=23456	# main -> lib_outer -> lib_mid -> lib_leaf -> malloc (libdeep.so), 2 times

# gdb_chain SIZE: "func+0xoff" of every caller of malloc(SIZE) up to main,
# as gdb's own unwinder finds them in `deep --now`.
gdb_chain() {
	command -v gdb >/dev/null || skip "gdb not installed"
	cat >"$TMPD/chain.py" <<'PY'
f = gdb.newest_frame().older()
while f is not None:
    s = gdb.execute("info symbol %#x" % f.pc(), to_string=True)
    off = int(s.split(" + ")[1].split()[0]) if " + " in s else 0
    print("CHAIN %s+%#x" % (f.name(), off))
    f = f.older()
PY
	gdb -nx -batch -ex 'set debuginfod enabled off' \
		-ex 'set breakpoint pending on' -ex "break malloc if \$rdi == $1" \
		-ex run -ex "source $TMPD/chain.py" -ex kill \
		--args "$DEEP" --now 2>/dev/null | sed -n 's/^CHAIN //p'
}

# raw_chain FUNC: "func+0xoff" frames of the report's stack through FUNC,
# up to main (module+0xoff for a binary without symbols)
raw_chain() {
	last_report | awk -v r="#$(entry "$1" | cut -d' ' -f4)" '
		/^#[0-9]+ / { on = ($1 == r); next }
		on && /^        / { print $1; if ($1 ~ /^main\+/) exit }
		/^$/ { on = 0 }'
}

# check_chain FUNC SIZE NAMES: heaptrail's stack through FUNC lists NAMES
# in this order up to main, and is gdb's backtrace at malloc(SIZE)
check_chain() {
	local want got r
	r=$(entry "$1" | cut -d' ' -f4)
	got=$(frames "$r" | sed '/^main$/q' | tr '\n' ' ')
	[ "$got" = "$3 " ] || fail "stack of $1: $got, expected $3"
	want=$(gdb_chain "$2")
	[ -n "$want" ] || fail "no backtrace from gdb"
	got=$(raw_chain "$1")
	[ "$got" = "$want" ] ||
		fail "stack of $1: $(echo $got) but gdb: $(echo $want)"
}

# Both leaks of deep, exact, with gdb's chains.
expect_deep_chains() {
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry deep_c $((3 * DEEP_SIZE)) 3 malloc
	expect_entry lib_leaf $((2 * LIB_SIZE)) 2 malloc
	check_chain deep_c $DEEP_SIZE "deep_c deep_b deep_a main"
	check_chain lib_leaf $LIB_SIZE "lib_leaf lib_mid lib_outer main"
}

# run_deep MODE [BINARY]: the leaks of deep, traced with --unwind MODE
run_deep() {
	TARGET=${2:-$DEEP} start_target
	run_ht -p "$TPID" --unwind "$1"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ -n "$2" ] || expect_entry deep_c $((3 * DEEP_SIZE)) 3 malloc
	expect_entry lib_leaf $((2 * LIB_SIZE)) 2 malloc
}

test_unwind_auto_matches_gdb() {
	run_deep auto
	check_chain deep_c $DEEP_SIZE "deep_c deep_b deep_a main"
	check_chain lib_leaf $LIB_SIZE "lib_leaf lib_mid lib_outer main"
	# and nothing made up below main: __libc_start_main, _start, end
	[ "$(frames "$(entry deep_c | cut -d' ' -f4)" | tail -1)" = _start ] ||
		fail "stack does not end at _start: $(frames "$(entry deep_c | cut -d' ' -f4)" | tr '\n' ' ')"
}

test_unwind_dwarf_matches_gdb() {
	run_deep dwarf
	check_chain deep_c $DEEP_SIZE "deep_c deep_b deep_a main"
	check_chain lib_leaf $LIB_SIZE "lib_leaf lib_mid lib_outer main"
}

# Frame pointers alone cannot walk this code: the test can tell.
test_unwind_fp_not_enough() {
	run_deep fp
	local got
	got=$(frames "$(entry deep_c | cut -d' ' -f4)" | tr '\n' ' ')
	# rbp holds data in deep_b: the walk stops right after the leaf
	[ "$got" = "deep_c " ] || fail "fp stack of deep_c: $got"
	got=$(frames "$(entry lib_leaf | cut -d' ' -f4)" | tr '\n' ' ')
	[ "$got" = "lib_leaf " ] || fail "fp stack of lib_leaf: $got"
	[ "$(raw_chain deep_c)" != "$(gdb_chain $DEEP_SIZE)" ] ||
		fail "fp matched gdb: the test cannot fail"
}

# No symbols: module+offset frames, at gdb's addresses in the same file.
# stripped_want SIZE: gdb's chain, frames in deep as deep-stripped+0xOFF
# (text file offsets equal addresses)
stripped_want() {
	local f addr
	for f in $(gdb_chain "$1"); do
		addr=$(nm "$DEEP" | awk -v s="${f%+*}" '$3 == s && $2 ~ /[tT]/ {print $1}')
		if [ -n "$addr" ]; then
			printf 'deep-stripped+0x%x\n' $((16#$addr + ${f#*+}))
		else
			echo "$f"
		fi
	done
}

# stripped_got BYTES N: the first N frames of the stack holding BYTES
stripped_got() {
	last_report | awk -v b="$1" -v n="$2" '
		/^#[0-9]+ / { on = ($2 == b); k = 0; next }
		on && /^        / && k++ < n { print $1 }
		/^$/ { on = 0 }'
}

test_unwind_stripped() {
	run_deep auto "$ROOT/tests/bin/deep-stripped"
	local want got size
	for size in $DEEP_SIZE $LIB_SIZE; do
		want=$(stripped_want $size)
		[ "$(wc -l <<<"$want")" = 4 ] || fail "gdb chain: $(echo $want)"
		got=$(stripped_got $((size * (size == DEEP_SIZE ? 3 : 2))) 4)
		[ "$got" = "$want" ] || fail "stripped stack: $(echo $got), expected $(echo $want)"
	done
	# below main: two frames in libc, _start in the binary, then the end
	got=$(stripped_got $((3 * DEEP_SIZE)) 64 | tail -n +5 | tr '\n' ' ')
	[[ $got =~ ^[^\ ]+\ __libc_start_main\+0x[0-9a-f]+\ deep-stripped\+0x[0-9a-f]+\ $ ]] ||
		fail "below main: $got"
}

# The program's files are deleted after it started: rows come from the
# mapped inodes through /proc/PID/map_files.
test_unwind_deleted_binary() {
	mkdir "$TMPD/del"
	cp "$DEEP" "$ROOT/tests/bin/libdeep.so" "$TMPD/del/"
	TARGET=$TMPD/del/deep start_target
	rm "$TMPD/del/deep" "$TMPD/del/libdeep.so"
	grep -q 'deep (deleted)$' "/proc/$TPID/maps" || fail "binary not deleted"
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_deep_chains
}

# heaptrail -- COMMAND: rows of the program and its libraries are only
# known at the gate (__libc_start_main), after the BPF maps were sized.
test_unwind_command_mode() {
	"$HT" -- "$DEEP" --now >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for_ht
	expect_deep_chains
}

# Code built without asynchronous unwind tables: its frames are described
# only in .debug_frame, which heaptrail reads when .eh_frame has no row.
test_unwind_debug_frame_only() {
	local bin=$ROOT/tests/bin/deep-dbgframe addr
	addr=$(nm "$bin" | awk '$3 == "deep_c" {print $1}')
	readelf --debug-dump=frames "$bin" 2>/dev/null |
		awk -v a="pc=$addr.." '/^Contents of the .eh_frame/ {eh = 1}
		     /^Contents of the .debug_frame/ {eh = 0}
		     eh && /FDE/ && index($0, a) {found = 1} END {exit found}' ||
		fail "deep_c has an .eh_frame FDE: the test would prove nothing"
	TARGET=$bin start_target
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry deep_c $((3 * DEEP_SIZE)) 3 malloc
	local got
	got=$(frames "$(entry deep_c | cut -d' ' -f4)" | sed '/^main$/q' | tr '\n' ' ')
	[ "$got" = "deep_c deep_b deep_a main " ] || fail "stack of deep_c: $got"
}

# A library without frame pointers, dlopen'd and called at once: its rows
# cannot be in place for the first calls, so those stacks may be cut, but
# only visibly (counted as truncated, ending in "[no unwind rows]"), never
# guessed by frame pointers past its callers (main lost, one call site
# split in two). 300 ms later its rows must be there: the mmap woke the
# loader (the 1 s refresh would come too late).
NOFP_FIRST=1111 NOFP_LATER=2222 NOFP_N=50

# nofp_stacks FUNC: "BYTES COUNT FRAME;FRAME;..." of each stack of the
# last report with a frame in FUNC
nofp_stacks() {
	last_report | awk -v f="$1" '
		function done() { if (on && hit) print head, fr; on = 0 }
		/^#[0-9]+ / { done(); on = 1; hit = 0; fr = ""
			      head = $2 " " $7; next }
		on && /^        / { l = substr($0, 9)
			if (index(l, f "+") == 1) hit = 1
			i = index(l, " (inlined)"); if (i) l = substr(l, 1, i - 1)
			sub(/\+0x[0-9a-f]+( .*)?$/, "", l); gsub(/ /, "_", l)
			fr = fr (fr == "" ? "" : ";") l; next }
		{ done() }
		END { done() }'
}

test_unwind_dlopen_nofp_now() {
	local bin=$ROOT/tests/bin/dlnofp sum=0 cut=0 bytes count fr trunc
	"$HT" -f "$TMPD/out.folded" --pprof "$TMPD/out.pb.gz" -- "$bin" \
		$NOFP_FIRST $NOFP_LATER $NOFP_N >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "^done " "$HOUT" || fail "dlnofp did not run: $(cat "$HOUT")"
	! last_report | grep -q '\[unknown\]' ||
		fail "unknown frames: $(last_report | grep -m3 '\[unknown\]')"
	# a moment after dlopen: one stack, whole, exact
	expect_entry nofp_later_leaf $((NOFP_N * NOFP_LATER)) $NOFP_N malloc
	fr=$(nofp_stacks nofp_later_leaf | cut -d' ' -f3)
	[[ $fr == nofp_later_leaf\;nofp_later\;main\;* ]] ||
		fail "stack of nofp_later: $fr"
	# at once: each stack whole, or cut and saying so
	while read -r bytes count fr; do
		sum=$((sum + bytes))
		if [[ $fr == *'[no_unwind_rows]' ]]; then
			[ "$fr" = 'nofp_first_leaf;[no_unwind_rows]' ] ||
				fail "cut stack of nofp_first: $fr"
			cut=$((cut + count))
		else
			[[ $fr == nofp_first_leaf\;nofp_first\;main\;* ]] ||
				fail "stack of nofp_first: $fr"
		fi
	done < <(nofp_stacks nofp_first_leaf)
	[ "$sum" = $((NOFP_N * NOFP_FIRST)) ] ||
		fail "nofp_first: $sum bytes, expected $((NOFP_N * NOFP_FIRST))"
	trunc=$(last_report | sed -n 's/.*truncated stacks \([0-9]*\)$/\1/p')
	[ "${trunc:-0}" -ge "$cut" ] ||
		fail "$cut allocations in cut stacks, truncated stacks: $trunc"
	# the synthetic frame as the other writers name it
	[ "$cut" = 0 ] && return
	grep -q '^\[no unwind rows\];nofp_first_leaf;\[malloc\] ' \
		"$TMPD/out.folded" || fail "folded: $(grep nofp_first "$TMPD/out.folded")"
	command -v go >/dev/null || return 0
	go tool pprof -traces "$TMPD/out.pb.gz" 2>/dev/null |
		grep -A1 -x ' *nofp_first_leaf' | grep -q -x ' *\[no unwind rows\]' ||
		fail "pprof: no [no unwind rows] frame after nofp_first_leaf"
}

# The same in JSON: the synthetic frame has a name, address 0, no module.
test_unwind_dlopen_nofp_json() {
	local bin=$ROOT/tests/bin/dlnofp
	"$HT" --json -o "$TMPD/r.json" -- "$bin" \
		$NOFP_FIRST $NOFP_LATER $NOFP_N >"$HOUT" 2>"$HERR" ||
		fail "heaptrail exited $?"
	/usr/bin/python3 - "$TMPD/r.json" $NOFP_FIRST $NOFP_LATER $NOFP_N <<'PY' ||
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
first, later, n = map(int, sys.argv[2:])
def fns(s): return [f["function"] for f in s["frames"]]
def with_fn(f): return [s for s in r["stacks"] if f in fns(s)]
got = {}
for s in with_fn("nofp_first_leaf"):
    f = fns(s)
    if f[-1] == "[no unwind rows]":
        assert f == ["nofp_first_leaf", "[no unwind rows]"], f
        last = s["frames"][-1]
        assert last["address"] == 0 and last["module"] is None, last
        got["cut"] = got.get("cut", 0) + s["live_count"]
    else:
        assert f[:3] == ["nofp_first_leaf", "nofp_first", "main"], f
    got["bytes"] = got.get("bytes", 0) + s["live_bytes"]
assert got.get("bytes", 0) == n * first, got
assert r["counters"]["truncated_stacks"] >= got.get("cut", 0), r["counters"]
l = with_fn("nofp_later_leaf")
assert len(l) == 1 and l[0]["live_bytes"] == n * later, l
assert fns(l[0])[:3] == ["nofp_later_leaf", "nofp_later", "main"], fns(l[0])
assert not any(f["function"] is None and f["module"] is None
               for s in r["stacks"] for f in s["frames"]), "unknown frames"
PY
		fail "JSON report wrong"
}
