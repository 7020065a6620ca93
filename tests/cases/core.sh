# SPDX-License-Identifier: GPL-2.0
# Core behaviour: exact bytes and counts from known functions of live PIDs.

# The seed case: a library's encode() buffer the caller never frees.
test_encode_leak_exact() {
	start_target encode
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	[ "$(entry encode | cut -d' ' -f4)" = 1 ] || fail "encode is not the top stack"
	[ "$(frames 1 | head -4 | tr '\n' ' ')" = "encode handle_request run main " ] ||
		fail "stack #1 is $(frames 1 | tr '\n' ' ')"
	total_line | grep -q '^outstanding: 50000 bytes .* heap 50000 in 50 allocations' ||
		fail "totals: $(total_line)"
	kill -0 "$TPID" || fail "target died"
}

test_balanced_loop_not_reported() {
	start_target balanced
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	[ -z "$(entry balanced_loop)" ] || fail "balanced_loop reported: $(entry balanced_loop)"
	expect_entry leak_calloc 1230 1 calloc
	last_report | grep -q '^heap since attach: allocated [0-9]* bytes in 2001 calls, freed [0-9]* bytes in 2000 calls' ||
		fail "$(last_report | grep '^heap since')"
}

# A count of one takes the singular: the balanced loop leaves exactly one
# allocation (leak_calloc's) in one stack; no line says "1 allocations".
test_counts_singular() {
	start_target balanced
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry leak_calloc 1230 1 calloc
	total_line | grep -q '^outstanding: 1230 bytes (1.20 KiB) = heap 1230 in 1 allocation + mmap 0 in 0 mappings + brk 0$' ||
		fail "$(total_line)"
	last_report | grep -q '^top 1 of 1 stack by outstanding bytes:$' ||
		fail "$(last_report | grep '^top ')"
	last_report | grep -qE '(^|[^0-9.])1 (allocations|mappings|calls|pages|stacks|frames|files|frees|samples|allocator calls)\b' &&
		fail "plural after 1: $(last_report | grep -E '(^|[^0-9.])1 (allocations|mappings|calls|pages|stacks|frames|files|frees|samples|allocator calls)\b')"
	return 0
}

test_allocator_kinds() {
	allocator_kinds
	grep -q "(uprobe_multi)" "$HERR" || fail "not attached by uprobe_multi: $(cat "$HERR")"
}

# The same through one perf-event uprobe per function (kernels < 6.6).
test_allocator_kinds_uprobe_fallback() {
	allocator_kinds --no-uprobe-multi
	grep -q "(uprobes)" "$HERR" || fail "not attached by uprobes: $(cat "$HERR")"
}

allocator_kinds() {
	start_target kinds
	run_ht -p "$TPID" "$@"
	trigger_target
	stop_ht
	expect_entry leak_calloc 1230 1 calloc
	expect_entry leak_realloc 5000 1 realloc
	expect_entry leak_reallocarray 2100 1 reallocarray
	expect_entry leak_posix_memalign 3072 1 posix_memalign
	expect_entry leak_aligned_alloc 4096 1 aligned_alloc
	expect_entry leak_valloc 700 1 valloc
	# realloc(p, 0) frees p; a failed malloc and free(NULL) leave nothing
	[ -z "$(entry free_realloc_zero)" ] || fail "realloc(p, 0) left $(entry free_realloc_zero)"
	[ -z "$(entry failed_alloc)" ] || fail "failed malloc reported"
	total_line | grep -q 'heap 16198 in 6 allocations' || fail "totals: $(total_line)"
}

# glibc serves 1 MiB with mmap inside malloc: counted once, on the caller.
test_big_malloc_counted_once() {
	start_target big
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry leak_big 3145728 3 malloc
	total_line | grep -q '^outstanding: 3145728 bytes .* mmap 0 in 0 mappings' ||
		fail "totals: $(total_line)"
	[ "$(frames 1 | head -2 | tr '\n' ' ')" = "leak_big run " ] ||
		fail "stack: $(frames 1 | tr '\n' ' ')"
}

# mremap of the middle of a program's mapping (issue 8): the moved part
# leaves a hole and is a mapping of its own, grown; all from remap_part().
test_mremap_partial() {
	start_target remappart
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry remap_part 81920 3 mmap
	total_line | grep -q '^outstanding: 81920 bytes .* mmap 81920 in 3 mappings' ||
		fail "totals: $(total_line)"
}

# MREMAP_DONTUNMAP leaves the old range mapped: the program holds both.
test_mremap_dontunmap() {
	start_target remapkeep
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry remap_keep 65536 2 mmap
	total_line | grep -q '^outstanding: 65536 bytes .* mmap 65536 in 2 mappings' ||
		fail "totals: $(total_line)"
}

# Stacks through libc (no frame pointers there) keep the caller.
test_libc_callers_kept() {
	start_target libc
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry leak_strdup 44 1 malloc
	expect_entry leak_asprintf 200 1
	local r
	r=$(entry leak_strdup | cut -d' ' -f4)
	[ "$(frames "$r" | head -3 | tr '\n' ' ')" = "strdup leak_strdup run " ] ||
		fail "strdup stack: $(frames "$r" | tr '\n' ' ')"
}

test_mmap_munmap_brk() {
	start_target maps
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry leak_mmap 20480 1 mmap
	# 16 pages with a 4-page hole: 12 pages left, in two pieces
	expect_entry map_partial 49152 2 mmap
	total_line | grep -q 'mmap 69632 in 3 mappings + brk 114688$' ||
		fail "totals: $(total_line)"
	local sum
	sum=$(last_report | awk '/^#/{b=$2; k=$NF} /^        grow_brk\+/ && k=="brk"{s+=b} END{print s}')
	[ "$sum" = 114688 ] || fail "grow_brk stacks hold $sum bytes, expected 114688"
}

test_threads() {
	start_target threads
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry thread_leak 33300 100 malloc
	[ "$(frames "$(entry thread_leak | cut -d' ' -f4)" | sed -n 2p)" = thread_main ] ||
		fail "thread stack: $(frames "$(entry thread_leak | cut -d' ' -f4)" | tr '\n' ' ')"
}

# Attach to a process that has leaked since before heaptrail started.
test_attach_running_leaker() {
	"$TARGET" running >"$TOUT" 2>&1 &
	TPID=$!
	sleep 0.5
	run_ht -p "$TPID" -d 2
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local e bytes count
	e=$(entry slow_leak)
	[ -n "$e" ] || fail "slow_leak not reported"
	read -r bytes count _ <<<"$e"
	[ "$count" -gt 100 ] || fail "only $count slow_leak allocations in 2 s"
	[ "$bytes" = $((count * 100)) ] || fail "slow_leak: $bytes bytes for $count allocations of 100"
	# the ring frees its 50 objects allocated before attach: ignored, and
	# counted (a few fewer if a tick ran between the entry and return
	# links being attached; never more, nothing else is freed)
	local n
	n=$(last_report | sed -n 's/^ignored: \([0-9]*\) frees\? of memory not seen allocated.*/\1/p')
	[ -n "$n" ] && [ "$n" -ge 40 ] && [ "$n" -le 50 ] ||
		fail "$(last_report | grep '^ignored')"
	kill -0 "$TPID" || fail "target died"
}

test_command_mode_until_exit() {
	"$HT" -- "$TARGET" encode --now 1 >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "exited" "$HERR" || fail "target exit not noticed"
	# symbolized although the program is gone
	expect_entry encode 50000 50 malloc
}

test_command_mode_duration() {
	"$HT" -d 2 -- "$TARGET" encode --now 30 >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for_ht
	TPID=$(sed -n 's/^heaptrail: pid \([0-9]*\) .*/\1/p' "$HOUT" | tail -1)
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	# -d's end ends the command too (issue 8: it used to run on)
	grep -q "^heaptrail: ended PID $TPID: killed by signal 15" "$HERR" ||
		fail "no 'ended PID $TPID' line"
	kill -0 "$TPID" 2>/dev/null && fail "the command outlived heaptrail"
	TPID=
}

test_interval_reports() {
	start_target encode
	run_ht -p "$TPID" -i 0.5
	trigger_target
	sleep 1.2
	stop_ht
	[ "$(grep -c '^heaptrail: pid' "$HOUT")" -ge 3 ] || fail "$(grep -c '^heaptrail: pid' "$HOUT") reports"
	[ "$(grep -c ', final$' "$HOUT")" = 1 ] || fail "no single final report"
	expect_entry encode 50000 50
}

# A full live-allocation map drops events, and says so.
test_full_map_counted() {
	start_target encode
	run_ht -p "$TPID" --max-allocs 10
	trigger_target
	stop_ht
	expect_entry encode 10000 10 malloc
	last_report | grep -q '^dropped: 40 (live map full 40,' ||
		fail "$(last_report | grep '^dropped')"
}

# Folded stacks parse and sum to the reported total.
test_folded_file() {
	start_target maps
	run_ht -p "$TPID" -f "$TMPD/out.folded"
	trigger_target
	stop_ht
	[ -f "$TMPD/out.folded" ] || fail "no folded file"
	local bad sum total
	# stacks alone: no header or comment line (flamegraph.pl and
	# difffolded.pl warn about any), a bracketed synthetic leaf per line
	bad=$(grep -cvE '^[^ ;#][^;]*(;[^;]+)*;\[[a-z_]+\] [0-9]+$' "$TMPD/out.folded")
	[ "$bad" = 0 ] || fail "$bad malformed folded lines: $(grep -vE ';\[[a-z_]+\] [0-9]+$' "$TMPD/out.folded" | head -2)"
	sum=$(awk '{s += $NF} END{print s}' "$TMPD/out.folded")
	total=$(total_line | awk '{print $2}')
	[ "$sum" = "$total" ] || fail "folded sums to $sum, report says $total"
	grep -qE '(^|;)run;leak_mmap;mmap;\[mmap\] 20480$' "$TMPD/out.folded" ||
		fail "no leak_mmap line: $(grep leak_mmap "$TMPD/out.folded")"
	ls "$TMPD" | grep -q tmp && fail "temporary file left: $(ls "$TMPD")"
	return 0
}

test_folded_directory() {
	mkdir "$TMPD/prof"
	start_target encode
	run_ht -p "$TPID" -i 0.4 -f "$TMPD/prof"
	trigger_target
	sleep 1
	stop_ht
	local n
	n=$(ls "$TMPD/prof" | grep -c '^heaptrail-[0-9]*-[0-9-]*\.[0-9]*\.folded$')
	[ "$n" -ge 3 ] || fail "$n folded files: $(ls "$TMPD/prof")"
	[ "$n" = "$(ls "$TMPD/prof" | wc -l)" ] || fail "stray files: $(ls "$TMPD/prof")"
	grep -q ';handle_request;encode;\[malloc\] 50000$' "$(ls -d "$TMPD"/prof/* | tail -1)" ||
		fail "last folded file lacks the leak"
}

# After heaptrail exits the target runs on with its code restored.
test_target_unharmed_and_detached() {
	start_target encode
	local libc base mvaddr before after
	libc=$(awk '$6 ~ /libc\.so/ && $3 == "00000000" {print $6; exit}' "/proc/$TPID/maps")
	base=$(awk '$6 ~ /libc\.so/ && $3 == "00000000" {split($1, a, "-"); print a[1]; exit}' "/proc/$TPID/maps")
	mvaddr=$(nm -D "$libc" | awk '$3 == "malloc@@GLIBC_2.2.5" {print $1}')
	[ -n "$mvaddr" ] || skip "malloc not found in $libc"
	peek() { dd if="/proc/$TPID/mem" bs=1 skip=$((0x$base + 0x$mvaddr)) count=8 \
		iflag=skip_bytes status=none | od -An -tx1; }
	before=$(peek)
	run_ht -p "$TPID"
	[ "$(peek | cut -c1-3)" = " cc" ] || fail "no breakpoint at malloc while attached: $(peek)"
	# the programs and links this heaptrail holds (others may run too)
	owned() { cat /proc/"$HPID"/fdinfo/* 2>/dev/null |
		awk -v k="$1_id:" '$1 == k {print $2}' | sort -u; }
	local progs links id
	progs=$(owned prog)
	links=$(owned link)
	[ -n "$progs" ] && [ -n "$links" ] || fail "no programs or links seen: $progs / $links"
	stop_ht
	after=$(peek)
	[ "$before" = "$after" ] || fail "malloc bytes changed: $before -> $after"
	for id in $progs; do
		bpftool prog show id "$id" >/dev/null 2>&1 && fail "BPF program $id left behind"
	done
	for id in $links; do
		bpftool link show id "$id" >/dev/null 2>&1 && fail "BPF link $id left behind"
	done
	# tracefs of our own, after heaptrail is gone: no uprobe left defined
	mkdir "$TMPD/tracefs" && mount -t tracefs nodev "$TMPD/tracefs" ||
		fail "cannot mount tracefs to check uprobe_events"
	local ev
	ev=$(cat "$TMPD/tracefs/uprobe_events")
	umount "$TMPD/tracefs"
	[ -z "$ev" ] || fail "uprobe_events: $ev"
	trigger_target
	grep -q '^done' "$TOUT" || fail "target did not run on"
	kill -0 "$TPID" || fail "target died"
}

# A process in another mount namespace, running a binary that does not
# exist in ours: modules are reached through /proc/PID/map_files.
test_other_mount_namespace() {
	command -v unshare >/dev/null || skip "no unshare"
	unshare --mount --propagation private sh -c \
		"mount -t tmpfs none /mnt && cp '$TARGET' /mnt/nstarget && exec /mnt/nstarget encode" \
		>"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "namespaced target did not start"
	TPID=$(sed -n 's/^ready //p' "$TOUT")
	[ -e /mnt/nstarget ] && skip "/mnt/nstarget visible here"
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry encode 50000 50 malloc
	[ "$(frames 1 | head -2 | tr '\n' ' ')" = "encode handle_request " ] ||
		fail "stack: $(frames 1 | tr '\n' ' ')"
	last_report | grep -qE '^        encode\+0x[0-9a-f]+ \(nstarget\)( target.c:[0-9]+)?$' || fail "module name"
}

# Even killed with SIGKILL, heaptrail leaves the target whole: the kernel
# drops the probes with its file descriptors. SIGTERM gives a final report.
test_killed_heaptrail_leaves_target_whole() {
	start_target encode
	local libc base mvaddr before
	libc=$(awk '$6 ~ /libc\.so/ && $3 == "00000000" {print $6; exit}' "/proc/$TPID/maps")
	base=$(awk '$6 ~ /libc\.so/ && $3 == "00000000" {split($1, a, "-"); print a[1]; exit}' "/proc/$TPID/maps")
	mvaddr=$(nm -D "$libc" | awk '$3 == "malloc@@GLIBC_2.2.5" {print $1}')
	peek() { dd if="/proc/$TPID/mem" bs=1 skip=$((0x$base + 0x$mvaddr)) count=8 \
		iflag=skip_bytes status=none | od -An -tx1; }
	before=$(peek)
	run_ht -p "$TPID"
	kill -KILL "$HPID"
	wait_for_ht
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(peek)" = "$before" ] && break
		sleep 0.1
	done
	[ "$(peek)" = "$before" ] || fail "malloc still patched after SIGKILL: $(peek)"
	trigger_target
	kill -0 "$TPID" || fail "target died"
	run_ht -p "$TPID"
	kill -TERM "$HPID"
	wait_for_ht
	[ "$HRC" = 0 ] || fail "SIGTERM: exit $HRC"
	grep -q ', final$' "$HOUT" || fail "no final report on SIGTERM"
	[ "$(peek)" = "$before" ] || fail "malloc still patched after SIGTERM"
}

# heaptrail in a PID namespace of its own with the target (a debug
# container sharing the service's PID namespace): PIDs are theirs.
test_pid_namespace() {
	command -v unshare >/dev/null || skip "no unshare"
	unshare --pid --fork --mount-proc bash -c "
		'$TARGET' encode >'$TOUT' 2>&1 &
		t=\$!
		for i in \$(seq 50); do grep -q ready '$TOUT' && break; sleep 0.1; done
		'$HT' -p \$t -d 3 >'$HOUT' 2>'$HERR' &
		h=\$!
		for i in \$(seq 100); do grep -q 'tracing PID' '$HERR' && break; sleep 0.1; done
		kill -USR1 \$t
		wait \$h
		kill \$t; wait \$t" || fail "unshare failed"
	grep -q '^heaptrail: tracing PID [0-9] ' "$HERR" || fail "not a namespace PID: $(cat "$HERR")"
	expect_entry encode 50000 50 malloc
}

# A replacement allocator interposes libc's malloc: heaptrail probes the
# library the process really allocates from.
replacement_allocator() {
	local lib=/usr/lib/x86_64-linux-gnu/$1
	[ -e "$lib" ] || skip "$1 not installed"
	LD_PRELOAD=$lib start_target encode
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	grep -q "allocator functions in $(readlink -f "$lib") " "$HERR" || fail "not probing $1: $(cat "$HERR")"
	expect_entry encode 50000 50 malloc
	[ "$(frames 1 | head -3 | tr '\n' ' ')" = "encode handle_request run " ] ||
		fail "stack: $(frames 1 | tr '\n' ' ')"
}

test_jemalloc_preloaded() {
	replacement_allocator libjemalloc.so.2
}

test_tcmalloc_preloaded() {
	replacement_allocator libtcmalloc_minimal.so.4
}

# -- COMMAND with a preloaded allocator: found at the gate, probed too.
test_jemalloc_command_mode() {
	local lib=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
	[ -e "$lib" ] || skip "libjemalloc.so.2 not installed"
	LD_PRELOAD=$lib "$HT" -d 2 -- "$TARGET" encode --now 3 >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for_ht
	TPID=$(sed -n 's/^heaptrail: pid \([0-9]*\) .*/\1/p' "$HOUT" | tail -1)
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "allocator functions in $(readlink -f "$lib") " "$HERR" ||
		fail "jemalloc not probed: $(cat "$HERR")"
	expect_entry encode 50000 50 malloc
}

# -- COMMAND never outlives heaptrail: at -d's end it gets SIGTERM (then
# SIGKILL) and is reaped, so even a pipeline returns; --keep-running leaves
# it; a command's death by a signal is reported as such.
test_command_ended_with_heaptrail() {
	local pid
	timeout 20 bash -c "'$HT' -d 1 -- sleep 300 2>'$HERR' | cat >/dev/null" ||
		fail "heaptrail -d 1 -- sleep 300 | cat did not return"
	pid=$(sed -n 's/^heaptrail: ended PID \([0-9]*\): killed by signal 15 (Terminated)$/\1/p' "$HERR")
	[ -n "$pid" ] || fail "no 'ended PID' line: $(tail -2 "$HERR")"
	kill -0 "$pid" 2>/dev/null && fail "sleep $pid still runs"
	"$HT" -d 1 --keep-running -- sleep 300 >"$HOUT" 2>"$HERR" || fail "--keep-running failed"
	pid=$(sed -n 's/^heaptrail: tracing PID \([0-9]*\) .*/\1/p' "$HERR")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || fail "--keep-running: sleep is gone"
	TPID=$pid	# ended by cleanup (it is no child of ours: kill only)
	kill "$pid"
	TPID=
	"$HT" -d 20 -- sh -c 'sleep 1; kill -SEGV $$' >"$HOUT" 2>"$HERR"
	grep -q '^heaptrail: PID [0-9]* killed by signal 11 ' "$HERR" ||
		fail "a command's death by SIGSEGV: $(grep PID "$HERR" | tail -1)"
}

# --min-size/--max-size (memleak's -z/-Z): encode()'s 50 x 1000 bytes are
# traced at exactly 1000..1000 and not at all above or below; the frees of
# untraced blocks are not taken for frees from before attach
test_size_filters() {
	local a
	for a in "--min-size 1001" "-Z 999" "-z 1000 -Z 1000"; do
		start_target encode
		# shellcheck disable=SC2086
		run_ht -p "$TPID" $a
		trigger_target
		stop_ht
		stop_target
		[ "$HRC" = 0 ] || fail "$a: heaptrail exited $HRC"
		case $a in
		-z*)
			last_report | grep -qx 'sizes: only heap allocations of 1000 to 1000 bytes are traced' ||
				fail "$a: $(last_report | grep '^sizes')"
			expect_entry encode 50000 50 malloc
			total_line | grep -q '= heap 50000 in 50 allocations ' || fail "$a: $(total_line)" ;;
		*)
			[ -z "$(entry encode)" ] || fail "$a: encode traced: $(entry encode)" ;;
		esac
		last_report | grep -q '^ignored: 0 frees of memory not seen allocated' ||
			fail "$a: $(last_report | grep '^ignored')"
	done
	last_report | grep -q '^sizes:' || fail "no sizes line"
	"$HT" --faults -z 10 -p 1 >"$HOUT" 2>"$HERR"
	[ $? = 2 ] || fail "--faults -z accepted"
	"$HT" -z 10 -Z 5 -p 1 >"$HOUT" 2>"$HERR"
	[ $? = 2 ] && grep -q 'above --max-size' "$HERR" || fail "-z 10 -Z 5: $(cat "$HERR")"
}

# A command that ends soon after its work: the final report's process line
# has the memory it reached (read every 0.1 s), not that of its start. The
# 100 MiB of target bulk (25600 x 4 KiB, each page written by malloc) must
# show at least 80 MiB of anonymous growth.
test_short_command_memory() {
	"$HT" -d 10 -- "$TARGET" bulk --now 0 >"$HOUT" 2>"$HERR" || fail "exit $?"
	local grew
	grew=$(last_report | sed -n 's/^process: .* anonymous [0-9.]* [KMG]*i*B (+\([0-9.]*\) MiB).*/\1/p')
	[ -n "$grew" ] && awk -v g="$grew" 'BEGIN { exit !(g >= 80) }' ||
		fail "$(last_report | grep '^process')"
}

# glibc maps a thread's arena (64 MiB) inside free() when free is the
# thread's first allocator call: the allocator's, not the program's. Only
# the thread's stack (pthread_create's mmap) and the exact heap remain.
test_arena_inside_free() {
	start_target freearena
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	last_report | grep -q '^        \(cfree\|free\|__libc_free\)+' &&
		fail "a mapping made inside free: $(last_report | grep -B8 '^        \(cfree\|free\)+' | head -9)"
	expect_entry keep_after_free 300 1 malloc
	total_line | grep -q '= heap 572 in 2 allocations + mmap [0-9]* in 1 mapping ' ||
		fail "$(total_line)"
	[ "$(entry pthread_create | cut -d' ' -f3)" = mmap ] || fail "no thread stack mapping"
}
