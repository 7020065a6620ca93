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
	v=$(pprof_cum "$out" malloc inuse_space)
	[ "$v" = 50000B ] || fail "inuse_space of malloc leaf: '$v', expected 50000B"
	grep -q 'kind:\[malloc\]' "$TMPD/raw" || fail "no kind=malloc label"
}
