# SPDX-License-Identifier: GPL-2.0
# pprof output, read back by the real reader: `go tool pprof`.

# pprof_cum FILE FUNC INDEX: the cum column of FUNC's line in -top,
# space in bytes
pprof_cum() {
	local unit=
	[[ $3 == *_space ]] && unit=-unit=B
	go tool pprof -top $unit -nodefraction=0 -sample_index="$3" "$1" \
		2>/dev/null | awk -v f="$2" 'NF == 6 && $NF == f { print $4; exit }'
}

test_pprof_go_tool() {
	local out=$TMPD/out.pb.gz v

	start_target encode
	run_ht -p "$TPID" --pprof "$out"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	gzip -t "$out" 2>/dev/null || fail "$out is not a gzip file"
	command -v go >/dev/null || skip "go not installed"
	go tool pprof -raw "$out" >"$TMPD/raw" 2>&1 ||
		fail "go tool pprof cannot read it: $(head -3 "$TMPD/raw")"
	# encode() is no leaf: the allocator is, so its bytes are all "cum"
	v=$(pprof_cum "$out" encode inuse_space)
	[ "$v" = 50000B ] || fail "inuse_space of encode: '$v', expected 50000B"
	v=$(pprof_cum "$out" encode inuse_objects)
	[ "$v" = 50 ] || fail "inuse_objects of encode: '$v', expected 50"
	v=$(pprof_cum "$out" '[malloc]' inuse_space)
	[ "$v" = 50000B ] || fail "inuse_space of malloc leaf: '$v', expected 50000B"
	grep -q 'kind:\[malloc\]' "$TMPD/raw" || fail "no kind=malloc label"
}

# Every stack with activity is a sample: balanced_loop() allocated and
# freed 2000 blocks (1086616 bytes), so it has inuse 0 and its alloc
# values, as Go's heap profiles do. The heap samples' sums equal the text
# report's totals, and the mappings say they carry functions, file names,
# lines and inline frames (the target has DWARF).
test_pprof_alloc_values_and_mappings() {
	local out=$TMPD/out.pb.gz raw=$TMPD/raw sums want

	command -v go >/dev/null || skip "go not installed"
	start_target balanced
	run_ht -p "$TPID" --pprof "$out"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	go tool pprof -raw "$out" >"$raw" 2>&1 || fail "go tool pprof: $(head -3 "$raw")"
	[ "$(pprof_cum "$out" balanced_loop alloc_space)" = 1086616B ] ||
		fail "alloc_space of balanced_loop: $(pprof_cum "$out" balanced_loop alloc_space)"
	[ "$(pprof_cum "$out" balanced_loop alloc_objects)" = 2000 ] ||
		fail "alloc_objects of balanced_loop: $(pprof_cum "$out" balanced_loop alloc_objects)"
	[ -z "$(pprof_cum "$out" balanced_loop inuse_space)" ] ||
		fail "balanced_loop holds $(pprof_cum "$out" balanced_loop inuse_space)"
	# inuse bytes, inuse objects, alloc bytes, alloc objects of the heap
	sums=$(awk '/^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+:/ { v = $0; next }
		v != "" && /kind:\[/ { if ($0 !~ /kind:\[(mmap|brk|page_fault)\]/) {
				split(v, a, " "); ib += a[1]; io += a[2]; ab += a[3]; ao += a[4] }
			v = "" }
		END { print ib, io, ab, ao + 0 }' "$raw")
	want=$(last_report | sed -n 's/^outstanding: .* = heap \([0-9]*\) in \([0-9]*\) allocations\?.*/\1 \2/p')
	want="$want $(last_report | sed -n 's/^heap since attach: allocated \([0-9]*\) bytes in \([0-9]*\) calls\?.*/\1 \2/p')"
	[ "$sums" = "$want" ] || fail "pprof heap sums '$sums', text report '$want'"
	[ "$want" = "1230 1 1087846 2001" ] || fail "text report: $want"
	grep -qE '^[0-9]+: .* /[^ ]*/tests/bin/target [0-9a-f]+ \[FN\]\[FL\]\[LN\]\[IN\]$' "$raw" ||
		fail "target mapping: $(grep 'tests/bin/target' "$raw")"
}
