# SPDX-License-Identifier: GPL-2.0
# Symbolization: source lines and inlined frames from DWARF in the binary,
# in a separate debug file (debuglink, build ID, compressed), C++ names,
# deleted binaries, stripped modules and JIT code. Expected lines come
# from @markers in the target sources.

SYMC=$ROOT/tests/symc.c
SYMCXX=$ROOT/tests/symcxx.cc
BIN=$ROOT/tests/bin

# sym_run BINARY MODE [HEAPTRAIL ARGS...]: one traced run of MODE
sym_run() {
	local bin=$1 mode=$2
	shift 2
	TARGET=$bin start_target "$mode"
	run_ht -p "$TPID" "$@"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
}

# expect_records MODULE: store_record's leak, with make_record inlined
expect_records() {
	local r l1 l2 f1 f2
	expect_entry store_record 1152 12 malloc
	r=$(entry store_record | cut -d' ' -f4)
	l1=$(src_line "$SYMC" record-alloc)
	l2=$(src_line "$SYMC" record-call)
	f1=$(frame_lines "$r" | sed -n 1p)
	f2=$(frame_lines "$r" | sed -n 2p)
	[ "$f1" = "make_record (inlined) symc.c:$l1" ] ||
		fail "frame 1: '$f1', expected 'make_record (inlined) symc.c:$l1'"
	[[ $f2 =~ ^store_record\+0x[0-9a-f]+\ \($1\)\ symc\.c:$l2$ ]] ||
		fail "frame 2: '$f2', expected 'store_record+0x.. ($1) symc.c:$l2'"
	[ "$(frames "$r" | sed -n 3p)" = run ] || fail "stack: $(frames "$r" | tr '\n' ' ')"
	last_report | grep -qE '^symbolized [0-9]+ frames in [0-9.]+ ms' ||
		fail "no symbolization time"
}

test_sym_dwarf_inline() {
	sym_run "$BIN/symc" records
	expect_records symc
}

# stripped -s, DWARF and .symtab only in symc-split.debug via debuglink
test_sym_debuglink() {
	readelf -S "$BIN/symc-split" | grep -qE '\.symtab|\.debug_info' &&
		fail "symc-split is not stripped"
	readelf -S "$BIN/symc-split" | grep -q gnu_debuglink || fail "no debuglink"
	sym_run "$BIN/symc-split" records
	expect_records symc-split
}

# no debuglink: found by build ID in a --debug-dir tree, sections zlib'd
test_sym_build_id_debug_dir() {
	local id f
	id=$(readelf -n "$BIN/symc-buildid" | sed -n 's/.*Build ID: //p')
	f=$BIN/debugroot/.build-id/${id:0:2}/${id:2}.debug
	[ -f "$f" ] || fail "no $f"
	readelf -S "$f" | grep -A1 ' \.debug_info' | grep -q 'C' ||
		fail "$f: .debug_info not compressed"
	sym_run "$BIN/symc-buildid" records --debug-dir "$BIN/debugroot"
	expect_records symc-buildid
}

# the same binary without --debug-dir: module+offset, build ID printed
test_sym_stripped_build_id_kept() {
	local id r
	id=$(readelf -n "$BIN/symc-buildid" | sed -n 's/.*Build ID: //p')
	sym_run "$BIN/symc-buildid" records
	[ -z "$(entry store_record)" ] || fail "store_record named without debug info"
	r=$(last_report | awk '/^#[0-9]+ 1152 bytes .* in 12 allocations/ { print substr($1, 2); exit }')
	[ -n "$r" ] || fail "no 1152-byte stack: $(last_report | grep '^#')"
	frame_lines "$r" | head -1 | grep -qE '^symc-buildid\+0x[0-9a-f]+$' ||
		fail "frame 1: $(frame_lines "$r" | head -1)"
	last_report | grep -qx "unsymbolized module: symc-buildid build-id $id path $BIN/symc-buildid" ||
		fail "$(last_report | grep unsymbolized)"
}

# DWARF in the binary, SHF_COMPRESSED with zlib (-gz)
test_sym_compressed_sections() {
	readelf -S "$BIN/symc-gz" | grep -A1 ' \.debug_info' | grep -q 'C' ||
		fail "symc-gz: .debug_info not compressed"
	sym_run "$BIN/symc-gz" records
	expect_records symc-gz
}

# a debuglink to a debug file of another build: CRC mismatch, not used
test_sym_stale_debuglink_rejected() {
	sym_run "$BIN/symc-stale" records
	[ -z "$(entry store_record)" ] || fail "stale debug file used: $(entry store_record)"
	last_report | grep -q '^unsymbolized module: symc-stale build-id ' ||
		fail "$(last_report | grep unsymbolized)"
	last_report | grep -qE '^        .* symc\.c:[0-9]+$' &&
		fail "lines from a stale debug file: $(last_report | grep 'symc\.c')"
	return 0
}

# the binary is deleted after start: read through /proc/PID/map_files
test_sym_deleted_binary() {
	cp "$BIN/symc" "$TMPD/symc-del"
	TARGET=$TMPD/symc-del start_target records
	rm "$TMPD/symc-del"
	grep -q 'symc-del (deleted)' "/proc/$TPID/maps" || fail "not deleted"
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_records symc-del
}

# C++: class template member, inlined function template calling new[]
test_sym_cxx_templates() {
	local r l1 l2 f
	sym_run "$BIN/symcxx" ""
	expect_entry 'store::Cache<long>::add(int)' 1280 10 malloc
	r=$(entry 'store::Cache<long>::add(int)' | cut -d' ' -f4)
	l1=$(src_line "$SYMCXX" new-site)
	l2=$(src_line "$SYMCXX" block-call)
	[ "$(frames "$r" | head -1)" = 'operator new(unsigned long)' ] ||
		fail "allocator frame: $(frame_lines "$r" | head -1)"
	f=$(frame_lines "$r" | sed -n 2p)
	[ "$f" = "make_block<long int> (inlined) symcxx.cc:$l1" ] ||
		fail "frame 2: '$f', expected 'make_block<long int> (inlined) symcxx.cc:$l1'"
	f=$(frame_lines "$r" | sed -n 3p)
	[[ $f =~ ^store::Cache\<long\>::add\(int\)\+0x[0-9a-f]+\ \(symcxx\)\ symcxx\.cc:$l2$ ]] ||
		fail "frame 3: '$f'"
	# aligned new: four 192-byte objects, the allocator frame named
	l1=$(src_line "$SYMCXX" aligned-new)
	f=$(last_report | awk -v l="symcxx.cc:$l1" '
		/^#[0-9]+ / { b = $2; c = $7; first = 1; next }
		/^        / && first { a = substr($0, 9); sub(/\+0x.*/, "", a); first = 0 }
		/^        store::add_line\(int\)\+/ && $NF == l { s += b; n += c; x = a }
		END { print s "|" n "|" x }')
	[ "$f" = "768|4|operator new(unsigned long, std::align_val_t)" ] ||
		fail "aligned new stacks: '$f'"
}

test_sym_no_demangle() {
	sym_run "$BIN/symcxx" "" --no-demangle
	expect_entry _ZN5store5CacheIlE3addEi 1280 10 malloc
	[ "$(frames "$(entry _ZN5store5CacheIlE3addEi | cut -d' ' -f4)" | head -1)" = _Znwm ] ||
		fail "$(last_report | grep -m1 _Znwm)"
}

# JIT code in an anonymous mapping, named by /tmp/perf-PID.map; 0x15:
# just past its call (11 bytes of setup, an 8-byte address, call *%rax)
test_sym_jit_perf_map() {
	sym_run "$BIN/symc" jit
	expect_entry jit_alloc_forty 120 3 malloc
	local r
	r=$(entry jit_alloc_forty | cut -d' ' -f4)
	[ "$(frames "$r" | head -2 | tr '\n' ' ')" = "jit_alloc_forty call_jit " ] ||
		fail "stack: $(frame_lines "$r" | head -3)"
	frame_lines "$r" | head -1 | grep -qE '^jit_alloc_forty\+0x15 \(\[jit\]\)$' ||
		fail "$(frame_lines "$r" | head -1)"
}

# folded: one frame per inline frame; pprof: a Line per inline frame
test_sym_folded_pprof_inline() {
	local l1 l2
	sym_run "$BIN/symc" records -f "$TMPD/out.folded" --pprof "$TMPD/out.pb.gz"
	grep -qE ';run;store_record;make_record;\[malloc\] 1152$' "$TMPD/out.folded" ||
		fail "folded: $(grep store_record "$TMPD/out.folded")"
	command -v go >/dev/null || skip "go not installed"
	l1=$(src_line "$SYMC" record-alloc)
	l2=$(src_line "$SYMC" record-call)
	go tool pprof -raw "$TMPD/out.pb.gz" >"$TMPD/raw" 2>&1 || fail "pprof: $(head -3 "$TMPD/raw")"
	grep -qE "make_record .*symc\.c:$l1" "$TMPD/raw" ||
		fail "pprof: no make_record at symc.c:$l1: $(grep -m3 record "$TMPD/raw")"
	grep -qE "store_record .*symc\.c:$l2" "$TMPD/raw" ||
		fail "pprof: no store_record at symc.c:$l2"
}

# --json: file, line and the inlined calls of each frame, schema-valid
test_sym_json_inline() {
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
	sym_run "$BIN/symc" records --json
	/usr/bin/python3 - "$ROOT/user/report.schema.json" "$HOUT" \
		"$(src_line "$SYMC" record-alloc)" "$(src_line "$SYMC" record-call)" <<'PY' ||
import json, os, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
rep = [json.loads(l) for l in open(sys.argv[2])][-1]
jsonschema.validate(rep, schema)
alloc, call = int(sys.argv[3]), int(sys.argv[4])
for st in rep["stacks"]:
    f = st["frames"][0]
    if f["function"] != "store_record":
        continue
    assert st["live_bytes"] == 1152 and st["live_count"] == 12, st
    assert os.path.basename(f["file"]) == "symc.c" and f["line"] == call, f
    inl = f["inlined"]
    assert len(inl) == 1 and inl[0]["function"] == "make_record", inl
    assert os.path.basename(inl[0]["file"]) == "symc.c" and inl[0]["line"] == alloc, inl
    break
else:
    sys.exit("no store_record stack")
PY
		fail "JSON check failed"
}

# A report saved without debug info, named later: `heaptrail symbolize`
# finds the debug file by the build ID the report kept, and gives the same
# frames as a live run that had the debug file.
test_sym_offline_symbolize() {
	local r live offline
	sym_run "$BIN/symc-buildid" records
	[ -z "$(entry store_record)" ] || fail "named without debug info"
	last_report >"$TMPD/saved.txt"
	"$HT" symbolize --debug-dir "$BIN/debugroot" "$TMPD/saved.txt" >"$TMPD/named.txt" ||
		fail "heaptrail symbolize exited $?"
	HOUT=$TMPD/named.txt
	expect_records symc-buildid
	r=$(entry store_record | cut -d' ' -f4)
	offline=$(frame_lines "$r" | sed '/^run+/q')
	stop_target
	HOUT=$TMPD/live.out
	sym_run "$BIN/symc-buildid" records --debug-dir "$BIN/debugroot"
	r=$(entry store_record | cut -d' ' -f4)
	live=$(frame_lines "$r" | sed '/^run+/q')
	[ "$offline" = "$live" ] || fail "offline: $(echo $offline) but live: $(echo $live)"
	"$HT" symbolize "$TMPD/none" 2>"$TMPD/err" && fail "missing report accepted"
	grep -q "^heaptrail: cannot read $TMPD/none: No such file" "$TMPD/err" || fail "$(cat "$TMPD/err")"
}

# `heaptrail symbolize` drops the trailer's "unsymbolized module" line of a
# module it named, and keeps it while the module stays without names.
test_sym_offline_drops_resolved_modules() {
	local id line
	id=$(readelf -n "$BIN/symc-buildid" | sed -n 's/.*Build ID: //p')
	sym_run "$BIN/symc-buildid" records
	line="unsymbolized module: symc-buildid build-id $id path $BIN/symc-buildid"
	last_report >"$TMPD/saved.txt"
	grep -qx "$line" "$TMPD/saved.txt" || fail "saved: $(grep unsymbolized "$TMPD/saved.txt")"
	"$HT" symbolize --debug-dir "$BIN/debugroot" "$TMPD/saved.txt" >"$TMPD/named.txt" ||
		fail "heaptrail symbolize exited $?"
	HOUT=$TMPD/named.txt
	expect_entry store_record 1152 12 malloc
	grep -q "^unsymbolized module: symc-buildid " "$TMPD/named.txt" &&
		fail "stale: $(grep unsymbolized "$TMPD/named.txt")"
	# without the debug file nothing is named: the line stays
	"$HT" symbolize "$TMPD/saved.txt" >"$TMPD/same.txt" || fail "exited $?"
	grep -qx "$line" "$TMPD/same.txt" || fail "dropped: $(grep unsymbolized "$TMPD/same.txt")"
}

# A2L_NORM: ELF symbol suffixes of GCC's clones (LTO's private copies,
# constant propagation, split parts) that DWARF names leave out
a2l_norm() { sed -E 's/\.(lto_priv|constprop|isra|part|cold)(\.[0-9]+)?//g'; }

# same_as_addr2line RANK BINARY [DEBUGFILE]: every frame of BINARY in
# stack #RANK, with the inlined calls printed above it, is what binutils'
# `addr2line -i -f` gives at the same address (function names and
# file:line, innermost first); symbols and DWARF from DEBUGFILE if given
same_as_addr2line() {
	local rank=$1 mod l fn off addr want got chain=() n=0
	local bin=${3:-$2}
	mod=$(basename "$2")
	while IFS= read -r l; do
		if [[ $l =~ ^([^ ]+)\ \(inlined\)\ ([^ ]+)$ ]]; then
			chain+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]}")
			continue
		fi
		if [[ $l =~ ^([^ +]+)\+0x([0-9a-f]+)\ \($mod\)\ ([^ ]+)$ ]]; then
			fn=${BASH_REMATCH[1]} off=${BASH_REMATCH[2]}
			chain+=("$fn ${BASH_REMATCH[3]}")
			# a return address: the call is the byte before it
			addr=$(nm "$bin" | awk -v f="$fn" '$3 == f { print $1; exit }')
			[ -n "$addr" ] || fail "no symbol $fn in $bin"
			addr=$(printf '0x%x' $((0x$addr + 0x$off - 1)))
			want=$(addr2line -i -f -e "$bin" "$addr" | paste - - |
				sed -E 's/ \(discriminator [0-9]+\)//; s/\t.*\// /' | a2l_norm)
			got=$(printf '%s\n' "${chain[@]}" | a2l_norm)
			[ "$got" = "$want" ] ||
				fail "at $fn+0x$off ($addr): heaptrail [$(echo $got)], addr2line [$(echo $want)]"
			n=$((n + 1))
		fi
		chain=()
	done < <(frame_lines "$rank")
	[ $n -gt 0 ] || fail "no frame of $mod in stack #$rank: $(frame_lines "$rank")"
}

# LTO: the allocation is in ltolib.c's lto_new_buf, inlined into
# lto_new_record, inlined into ltomain.c's store at link time (the
# inlined instances' origins are in other compile units). Both inlined
# frames appear with their own lines, as addr2line -i gives them; an
# earlier heaptrail printed store+0x16 with lto_new_buf's line alone.
test_sym_lto_inline_chain() {
	local r f l
	sym_run "$BIN/lto" go
	expect_entry store 960 10 malloc
	r=$(entry store | cut -d' ' -f4)
	f=$ROOT/tests/ltolib.c
	l=$(frame_lines "$r" | head -3 | tr '\n' '|')
	[[ $l =~ ^lto_new_buf\ \(inlined\)\ ltolib\.c:$(src_line "$f" lto-alloc)\|lto_new_record\ \(inlined\)\ ltolib\.c:$(src_line "$f" lto-record)\|store\+0x[0-9a-f]+\ \(lto\)\ ltomain\.c:$(src_line "$ROOT/tests/ltomain.c" lto-store)\|$ ]] ||
		fail "stack #$r: $l"
	same_as_addr2line "$r" "$BIN/lto"
}

# The case the LTO chains were found with: Debian's python3.11 (LTO, its
# debug file from python3.11-dbg, when installed for the same build).
# A range() of new ints fills pymalloc arenas: the arena's mmap is made
# under rangeiter_next with PyLong_FromLong ... new_arena inlined.
# HT_TEST_PYTHON and HT_TEST_PYTHON_DEBUG_DIR may name another build.
test_sym_lto_python() {
	local py=${HT_TEST_PYTHON:-/usr/bin/python3.11} id dbg r
	local dir=${HT_TEST_PYTHON_DEBUG_DIR:-/usr/lib/debug}
	[ -x "$py" ] || skip "no $py"
	id=$(readelf -n "$py" | sed -n 's/.*Build ID: //p')
	dbg=$dir/.build-id/${id:0:2}/${id:2}.debug
	[ -f "$dbg" ] || skip "no debug file for $py (python3.11-dbg of its version)"
	cat >"$TMPD/ints.py" <<'PY'
keep = [list(range(10**6 + k * 100000, 10**6 + (k + 1) * 100000)) for k in range(20)]
PY
	"$HT" -d 60 -n 100 --debug-dir "$dir" -- "$py" "$TMPD/ints.py" >"$HOUT" 2>"$HERR" ||
		fail "heaptrail exited $?"
	r=$(last_report | awk '/^#[0-9]+ / { rank = substr($1, 2) }
		/^        rangeiter_next/ { print rank; exit }')
	[ -n "$r" ] || fail "no stack through rangeiter_next"
	frames "$r" | grep -qx 'PyLong_FromLong' || fail "$(frame_lines "$r" | head -12)"
	same_as_addr2line "$r" "$py" "$dbg"
}

# --- debuginfod: a server of the test's own, in a network namespace of
# its own (loopback only, 127.0.0.1 on a random free port) ---

# netns_start: the namespace (NSPID holds it) and HT_NS, a heaptrail that
# runs in it
netns_start() {
	local i
	unshare --net sleep 600 &
	NSPID=$!
	EXTRA_PIDS+=("$NSPID")
	for ((i = 0; i < 50; i++)); do
		[ "$(readlink "/proc/$NSPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	nsenter -t "$NSPID" -n ip link set lo up || fail "no loopback in the namespace"
	HT_NS=$TMPD/heaptrail-ns
	printf '#!/bin/sh\nexec nsenter -t %d -n %s "$@"\n' "$NSPID" "$HT" >"$HT_NS"
	chmod +x "$HT_NS"
}

# free_port: a port nothing listens on, in the namespace
free_port() {
	nsenter -t "$NSPID" -n /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# debuginfod_start DIR: Debian's debuginfod serving the ELF files in DIR;
# sets DEBUGINFOD_URLS once it serves the debug file of build ID $2
debuginfod_start() {
	local port i
	command -v debuginfod >/dev/null || skip "debuginfod not installed (make test-deps)"
	port=$(free_port)
	nsenter -t "$NSPID" -n debuginfod -F -p "$port" -d "$TMPD/debuginfod.sqlite" \
		-t 0 -g 0 "$1" >"$TMPD/debuginfod.log" 2>&1 &
	EXTRA_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		nsenter -t "$NSPID" -n /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)' \
			"http://127.0.0.1:$port/buildid/$2/debuginfo" 2>/dev/null && break
		sleep 0.1
	done
	[ $i -lt 100 ] || fail "debuginfod does not serve $2: $(tail -3 "$TMPD/debuginfod.log")"
	export DEBUGINFOD_URLS=http://127.0.0.1:$port
	export DEBUGINFOD_CACHE_PATH=$TMPD/debuginfod-cache
}

# symc-dbgd is stripped, has no debuglink, and its debug file is only on
# the server: names and lines come from there, through the cache
test_debuginfod_fetch() {
	local id
	id=$(readelf -n "$BIN/symc-dbgd" | sed -n 's/.*Build ID: //p')
	netns_start
	debuginfod_start "$BIN/dbgsrv" "$id"
	HT=$HT_NS sym_run "$BIN/symc-dbgd" records
	expect_records symc-dbgd
	[ -s "$DEBUGINFOD_CACHE_PATH/$id/debuginfo" ] || fail "not in the cache: $(ls -R "$DEBUGINFOD_CACHE_PATH")"
	grep -q 'debuginfod' "$HERR" && fail "$(cat "$HERR")"
	# the same without the server: nothing named
	stop_target
	unset DEBUGINFOD_URLS
	HT=$HT_NS sym_run "$BIN/symc-dbgd" records
	[ -z "$(entry store_record)" ] || fail "store_record named without the server"
	return 0
}

# a saved report named later by `heaptrail symbolize`, through the server
test_debuginfod_offline_symbolize() {
	local id
	id=$(readelf -n "$BIN/symc-dbgd" | sed -n 's/.*Build ID: //p')
	sym_run "$BIN/symc-dbgd" records
	[ -z "$(entry store_record)" ] || fail "named without the server"
	last_report >"$TMPD/saved.txt"
	netns_start
	debuginfod_start "$BIN/dbgsrv" "$id"
	"$HT_NS" symbolize "$TMPD/saved.txt" >"$TMPD/named.txt" || fail "symbolize exited $?"
	HOUT=$TMPD/named.txt
	expect_records symc-dbgd
	grep -q '^unsymbolized module: symc-dbgd ' "$TMPD/named.txt" &&
		fail "$(grep unsymbolized "$TMPD/named.txt")"
	return 0
}

# A server that takes the connection and never answers: the final report
# waits for it, but a SIGTERM sent meanwhile (blocked for the signalfd)
# ends the wait within about a second, not at the 30 s limit; the frames
# stay module+offset and stderr says why.
test_debuginfod_hang_gives_way_to_signals() {
	local port t0 ms
	netns_start
	nsenter -t "$NSPID" -n /usr/bin/python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(300)' >"$TMPD/port" &
	EXTRA_PIDS+=($!)
	wait_for "$TMPD/port" '^[0-9]' || fail "no silent server"
	port=$(cat "$TMPD/port")
	export DEBUGINFOD_URLS=http://127.0.0.1:$port
	export DEBUGINFOD_CACHE_PATH=$TMPD/debuginfod-cache
	TARGET=$BIN/symc-dbgd start_target records
	HT=$HT_NS run_ht -p "$TPID"
	trigger_target
	kill -INT "$HPID"
	sleep 1
	t0=$(date +%s%N)
	kill -TERM "$HPID"
	wait_for_ht
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "^heaptrail: debuginfod: no debug file for $BIN/symc-dbgd (build ID [0-9a-f]*): stopped by a signal$" "$HERR" ||
		fail "stderr: $(cat "$HERR")"
	[ $ms -lt 10000 ] || fail "SIGTERM waited $ms ms for the server"
	last_report | grep -qE '^        symc-dbgd\+0x[0-9a-f]+$' || fail "$(last_report | grep -A3 '^#1 ')"
}
