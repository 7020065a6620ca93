# SPDX-License-Identifier: GPL-2.0
# --faults: no allocator probes; anonymous pages charged to the stack that
# first writes them, minus pages given back.

test_faults_exact_pages() {
	start_target pages
	run_ht --faults -p "$TPID"
	trigger_target
	stop_ht
	# 64 written by touch_pages, 16 unmapped, 8 MADV_DONTNEED
	expect_entry touch_pages 163840 40 page_fault
	grep -q '^mode: page faults' "$HOUT" || fail "no mode line"
	last_report | grep -q '^#[0-9]* 163840 bytes .* in 40 pages, ' ||
		fail "a stack's count is not in pages: $(last_report | grep '^#1 ')"
}

test_faults_no_uprobes() {
	start_target pages
	run_ht --faults -p "$TPID"
	trigger_target
	grep -q '\[uprobes\]' /proc/"$TPID"/maps && fail "the target has a uprobe page"
	# uprobe programs are of BPF's kprobe type: none is loaded
	local f id n=0
	for f in /proc/"$HPID"/fdinfo/*; do
		id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		n=$((n + 1))
		bpftool prog show id "$id" | head -1 | grep -q ': kprobe ' &&
			fail "heaptrail holds a uprobe program: $(bpftool prog show id "$id" | head -1)"
	done
	[ "$n" -gt 0 ] || fail "no BPF programs seen"
	stop_ht
}

# The demo's leak (leaky: encode() keeps 1000 bytes, 100 times a second,
# 4 s): 400,000 bytes, 98 pages of heap growth. Every page the heap grows
# by is first written while malloc serves encode (the 4 KiB temporary
# buffer of each request is freed and reused), so the stacks through
# encode hold those pages: at least 95% of them, at most 3 pages more
# (the page a request ends in, and malloc's top-chunk header).
test_faults_finds_encode_leak() {
	"$HT" --faults -d 6 -n 20 -- "$ROOT/tests/bin/leaky" 1000 100 4 >"$HOUT" 2>"$HERR" ||
		fail "heaptrail failed"
	local b
	b=$(last_report | awk '
		/^#[0-9]+ / { bytes = $2; on = 0; next }
		/^        encode\+/ && !on { on = 1; sum += bytes }
		/^        handle_request\+/ && on == 1 { on = 2; ok += bytes }
		END { print ok + 0 }')
	[ "$b" -ge 380000 ] && [ "$b" -le $((400000 + 3 * 4096)) ] ||
		fail "stacks through encode and handle_request hold $b bytes, expected 380000..412288"
	last_report | grep -q '^  1\. .*page_fault, stack #[0-9]*: .*encode < handle_request' ||
		fail "encode is not the first suspect: $(last_report | grep '^  1\.')"
}

# mremap takes counted pages along (the old build forgot them: a realloc
# glibc serves with mremap lost its pages; left behind, pages given back
# at the new address would stay counted), a shrink gives the tail back,
# and pages the kernel writes first (read(2)) are the syscall stack's.
# A file mapped with MAP_FIXED over counted pages replaces them, and
# writing it is not counted (the VMA cache must see the new mapping).
# Once with the default map, walked page by page, and once with a live map
# of 30 entries, fewer than the 32 pages of the move's destination, so
# that the move and the drop before it take one pass over the map instead
# (28 pages are live at the end, 21 at most while the move is under way).
test_faults_mremap_and_kernel_writes() {
	local max
	for max in "" 30; do
		start_target remap
		run_ht --faults -p "$TPID" ${max:+--max-allocs $max}
		trigger_target
		stop_ht
		stop_target
		expect_entry remap_touch 49152 12 page_fault
		expect_entry remap_grow_touch 16384 4 page_fault
		expect_entry kernel_fill 32768 8 page_fault
		expect_entry file_touch 16384 4 page_fault
		grep -q '^dropped: 0 ' "$HOUT" || fail "max-allocs ${max:-default}: $(grep '^dropped:' "$HOUT")"
	done
}

# The outputs under --faults: JSON valid against the schema with its mode,
# the faults totals and touch_pages' stack holding the 40 pages that stay;
# the folded header and a pprof comment say the mode, folded lines for
# touch_pages sum to the same bytes.
test_faults_outputs() {
	local fo=$TMPD/out.folded pp=$TMPD/out.pb.gz
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
	start_target pages
	run_ht --faults --json -f "$fo" --pprof "$pp" -p "$TPID"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	/usr/bin/python3 - "$ROOT/user/report.schema.json" "$HOUT" <<'PY' || fail "JSON check failed"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
last = [json.loads(l) for l in open(sys.argv[2])][-1]
jsonschema.validate(last, schema)
assert last["mode"] == "page_faults", last["mode"]
f = last["faults"]
assert (f["live_bytes"], f["live_count"]) == (163840, 40), f
assert last["heap"]["live_bytes"] == 0 and last["mmap"]["live_bytes"] == 0
s = [s for s in last["stacks"]
     if any(fr["function"] == "touch_pages" for fr in s["frames"])]
assert len(s) == 1 and s[0]["kind"] == "page_fault", s
assert (s[0]["live_bytes"], s[0]["live_count"]) == (163840, 40), s[0]
PY
	grep -qv ';\[page_fault\] [0-9]*$' "$fo" && fail "folded: a line without the [page_fault] leaf"
	local b
	b=$(awk '/touch_pages/ { s += $NF } END { print s + 0 }' "$fo")
	[ "$b" = 163840 ] || fail "folded: touch_pages lines sum to $b"
	zcat "$pp" | grep -aq 'mode: page faults' || fail "no pprof comment on the mode"
}

# exec replaces the address space: the 64 pages written before it are
# gone, and the program run after it (pages mode: 40 pages) is counted as
# usual, with about 10 more pages of ld.so's and libc's start. Kept, the
# stale pages would be 64 more, and would hide the new program's pages at
# the same addresses (the old build: 64 under touch_pages, 74 in all).
# Pages only: the loader may symbolize the last stacks with maps read
# before the exec.
test_faults_exec_forgets_old_pages() {
	start_target exec
	run_ht --faults -p "$TPID"
	trigger_target
	stop_ht
	stop_target
	local n
	n=$(total_line | sed -n 's/.* in \([0-9]*\) pages .*/\1/p')
	[ -n "$n" ] && [ "$n" -ge 40 ] && [ "$n" -lt 64 ] ||
		fail "expected 40..63 pages: $(total_line)"
}

# --faults -p probes no code: a statically linked program, which the
# allocator modes refuse, is traced.
test_faults_static_pid() {
	"$ROOT/tests/bin/static" >"$TOUT" &
	TPID=$!
	wait_for "$TOUT" ready || fail "static program did not start"
	run_ht --faults -p "$TPID" -d 1
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q '^mode: page faults' "$HOUT" || fail "no report"
}

# Another tracer's return probe on malloc (here a second heaptrail's)
# puts the kernel's trampoline where malloc's return address was: a page
# fault inside malloc then walked into '[unknown] 0x7fffffffe000' in place
# of encode. The walker takes the real address from the return instances.
test_faults_through_other_return_probes() {
	local lpid ohpid
	"$ROOT/tests/bin/leaky" 1000 100 60 >/dev/null 2>&1 &
	lpid=$!
	EXTRA_PIDS+=("$lpid")
	"$HT" -p "$lpid" >/dev/null 2>"$TMPD/other.err" &
	ohpid=$!
	EXTRA_PIDS=("$ohpid" "$lpid")	# the tracer first
	wait_for "$TMPD/other.err" "tracing PID" || fail "other heaptrail: $(cat "$TMPD/other.err")"
	"$HT" --faults -p "$lpid" -d 3 -n 50 >"$HOUT" 2>"$HERR" || fail "heaptrail exited $?"
	kill -INT "$ohpid"
	wait "$ohpid"
	kill -TERM "$lpid"
	wait "$lpid" 2>/dev/null
	grep -q '^        \[unknown\]' "$HOUT" &&
		fail "unknown frames: $(grep -m3 -B3 '^        \[unknown\]' "$HOUT")"
	last_report | awk '
		/^#[0-9]+ / { on = 0; next }
		/^        malloc\+/ { on = 1; next }
		on == 1 && /^        encode\+0x1c \(leaky\) leaky.c:15$/ { on = 2; next }
		on == 2 && /^        handle_request\+/ { found = 1 }
		{ on = 0 }
		END { exit !found }' ||
		fail "no fault inside malloc called by encode < handle_request: $(last_report | head -30)"
}
