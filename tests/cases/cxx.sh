# SPDX-License-Identifier: GPL-2.0
# C++ operator new and delete, and jemalloc's own API: replacement
# allocators export their own operator new/delete (and jemalloc its
# *allocx), which never call their malloc; each is probed, once.

# cxx_case [LIB]: tests/bin/cxxleak on glibc or with LIB preloaded; its
# four leaks (and with jemalloc its two *allocx leaks) exactly, from the
# leaking function, with the churn freed through plain, sized and
# aligned delete leaving nothing
cxx_case() {
	local lib=${1:+/usr/lib/x86_64-linux-gnu/$1}
	[ -z "$lib" ] || [ -e "$lib" ] || skip "$1 not installed"
	local x=
	[ "$1" = libjemalloc.so.2 ] && x=--jemalloc
	LD_PRELOAD=$lib "$ROOT/tests/bin/cxxleak" $x >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "cxxleak did not start"
	run_ht -p "$TPID" -n 10
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^done" || fail "cxxleak did not finish"
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ -z "$lib" ] || grep -q "allocator functions in $(readlink -f "$lib") " "$HERR" ||
		fail "not probing $1: $(cat "$HERR")"
	expect_entry 'leak_array()' 100000 1000 malloc
	expect_entry 'leak_objects()' 480 10 malloc
	expect_entry 'leak_aligned()' 640 5	# glibc: libstdc++ calls aligned_alloc
	expect_entry 'leak_nothrow()' 150 3 malloc
	[ -z "$(entry 'churn()')" ] || fail "churn() holds: $(entry 'churn()')"
	if [ "$1" = libjemalloc.so.2 ]; then
		expect_entry 'leak_mallocx(void* (*)(unsigned long, int))' 1400 7 malloc
		expect_entry 'leak_rallocx(void* (*)(unsigned long, int), void* (*)(void*, unsigned long, int))' 300 1 realloc
		[ -z "$(entry 'churn_x(')" ] || fail "churn_x() holds: $(entry 'churn_x(')"
		total_line | grep -q '= heap 102970 in 1026 allocations ' || fail "$(total_line)"
	else
		total_line | grep -q '= heap 101270 in 1018 allocations ' || fail "$(total_line)"
	fi
}

test_cxx_glibc() {
	cxx_case
}

test_cxx_jemalloc() {
	cxx_case libjemalloc.so.2
}

test_cxx_tcmalloc() {
	cxx_case libtcmalloc_minimal.so.4
}

test_cxx_mimalloc() {
	cxx_case libmimalloc.so.2
}
