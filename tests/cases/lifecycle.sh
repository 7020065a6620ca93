# SPDX-License-Identifier: GPL-2.0
# The target's children and its end: forks, posix_spawn, a command's status.

# A private copy of libc for the target, so that no other tool's probes
# (another heaptrail, say) share its uprobes.
private_libc() {
	local libc
	libc=$(ldd "$TARGET" | awk '$1 == "libc.so.6" {print $3}')
	[ -f "$libc" ] || skip "no libc.so.6 for $TARGET"
	mkdir -p "$TMPD/lib"
	cp "$libc" "$TMPD/lib/libc.so.6"
}

# func_bytes PID FUNC: the bytes of FUNC of $TMPD/lib/libc.so.6 in PID's
# memory, then in the file, as two hex lines (glibc's text file offsets
# are its addresses)
func_bytes() {
	local lib=$TMPD/lib/libc.so.6 base addr size
	base=$(awk -v l="$lib" '$6 == l && $3 == "00000000" {split($1, a, "-"); print a[1]; exit}' "/proc/$1/maps")
	read -r addr size <<<"$(nm -D -S "$lib" | awk -v f="$2@@GLIBC_2.2.5" '$4 == f {print $1, $2}')"
	[ -n "$base" ] && [ -n "$size" ] || fail "$2 not found in PID $1"
	dd if="/proc/$1/mem" bs=4096 iflag=skip_bytes,count_bytes skip=$((0x$base + 0x$addr)) \
		count=$((0x$size)) status=none | od -An -v -tx1 | tr -d ' \n'
	echo
	dd if="$lib" bs=4096 iflag=skip_bytes,count_bytes skip=$((0x$addr)) count=$((0x$size)) \
		status=none | od -An -v -tx1 | tr -d ' \n'
	echo
}

# unpatched PID FUNC: FUNC's code in PID is the file's, no breakpoint in it
unpatched() {
	local b
	b=$(func_bytes "$1" "$2")
	[ "$(sed -n 1p <<<"$b")" = "$(sed -n 2p <<<"$b")" ]
}

# fork_run ARGS...: target fork under heaptrail ARGS on a private libc,
# to its end: the child (CPID) is checked free of breakpoints, then runs
# its 100,000 malloc+free and leaks 3 x 1000 bytes; the parent leaks 50
# x 1000 from encode once the child has exited
fork_run() {
	local i
	private_libc
	LD_LIBRARY_PATH=$TMPD/lib start_target fork
	run_ht -p "$TPID" "$@"
	grep -q "allocator functions in $TMPD/lib/libc.so.6 " "$HERR" ||
		fail "not probing the private libc: $(cat "$HERR")"
	unpatched "$TPID" malloc && fail "no breakpoint in the target's malloc"
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^child [0-9]* ready" || fail "no child"
	CPID=$(sed -n 's/^child \([0-9]*\) ready/\1/p' "$TOUT")
	for ((i = 0; i < 50; i++)); do
		unpatched "$CPID" malloc && unpatched "$CPID" free && break
		sleep 0.1
	done
	unpatched "$CPID" malloc || fail "breakpoint left in the child's malloc"
	unpatched "$CPID" free || fail "breakpoint left in the child's free"
	unpatched "$TPID" malloc && fail "the target's malloc lost its breakpoint"
	kill -USR1 "$CPID"
	wait_for "$TOUT" "^child done" || fail "the child did not finish"
	kill -TERM "$CPID"
	wait_for "$TOUT" "^done" || fail "the target did not finish"
	unpatched "$TPID" free && fail "the target's free lost its breakpoint"
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
}

# A child the target forks runs free of the inherited breakpoints (with
# uprobe_multi links, the default, the kernel leaves them in: every call
# of the child trapped); the target stays traced exactly, and the report
# says the child is not.
test_fork_child_unprobed() {
	fork_run
	expect_entry encode 50000 50 malloc
	[ -z "$(entry child_leak)" ] || fail "the child's leak counted: $(entry child_leak)"
	[ -z "$(entry churn)" ] || fail "the child's churn counted: $(entry churn)"
	last_report | grep -qx 'forks: 1 child process since attach, not traced: its allocations are not counted' ||
		fail "forks line: $(last_report | grep '^forks')"
	kill -0 "$TPID" || fail "target died"
}

# the same with per-function uprobes, and in the JSON
test_fork_child_unprobed_json() {
	fork_run --no-uprobe-multi --json
	/usr/bin/python3 - "$HOUT" <<'PY' || fail "JSON: $(tail -1 "$HOUT" | head -c 300)"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["forks"] == 1, r["forks"]
assert r["end"] is None, r["end"]
assert r["heap"]["live_bytes"] == 50000, r["heap"]
PY
}

# posix_spawn's children share the target's memory until they exec: they
# are not forks to unprobe (that would unprobe the target itself)
test_spawn_leaves_target_probed() {
	start_target spawn
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	expect_entry encode 50000 50 malloc
	last_report | grep -q '^forks:' && fail "$(last_report | grep '^forks')"
	return 0
}

# -- COMMAND: how the command ended is in the final report, and heaptrail
# exits with its status, as time(1) does; ended by heaptrail: exit 0
test_command_end_in_report() {
	"$HT" -- sh -c 'exit 7' >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 7 ] || fail "exit 7: heaptrail exited $HRC"
	last_report | grep -qE '^ended: PID [0-9]+ exited with status 7 at \+[0-9.]+ s$' ||
		fail "exit 7: $(last_report | grep '^ended')"
	"$HT" -- sh -c 'kill -SEGV $$' >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 139 ] || fail "SIGSEGV: heaptrail exited $HRC"
	last_report | grep -qE '^ended: PID [0-9]+ killed by signal 11 \(Segmentation fault\) at \+[0-9.]+ s$' ||
		fail "SIGSEGV: $(last_report | grep '^ended')"
	"$HT" --json -- sh -c 'exit 3' >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 3 ] || fail "--json exit 3: heaptrail exited $HRC"
	/usr/bin/python3 - "$HOUT" <<'PY' || fail "JSON end: $(tail -1 "$HOUT" | head -c 300)"
import json, sys
e = json.loads(open(sys.argv[1]).read().splitlines()[-1])["end"]
assert e["how"] == "exited" and e["status"] == 3 and e["at_s"] >= 0, e
PY
	"$HT" -d 1 -- sleep 300 >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 0 ] || fail "-d 1: heaptrail exited $HRC"
	last_report | grep -qE '^ended: PID [0-9]+ still running; heaptrail ends it now ' ||
		fail "-d 1: $(last_report | grep '^ended')"
}

# exec: what the old program held is dropped (5 x 1000 bytes from
# old_leak; kept, its stacks would be named from the new program's maps)
# and said so; the new program is traced exactly from there: as from its
# start under -- COMMAND (ld.so's mappings and stdout's buffer included)
test_exec_resets() {
	local i
	start_target execleak
	run_ht -p "$TPID"
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^leaked" || fail "target did not leak"
	kill -USR1 "$TPID"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ready' "$TOUT")" = 2 ] && break
		sleep 0.1
	done
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	[ -z "$(entry old_leak)" ] || fail "the old program's leak kept: $(entry old_leak)"
	last_report | grep -qE '^exec: PID [0-9]+ ran exec at \+[0-9.]+ s \(was target\): 5000 bytes in 5 allocations of the old program dropped; figures count from there$' ||
		fail "exec line: $(last_report | grep '^exec')"
	# the same as the new program traced from its start by -- COMMAND
	local t
	t=$(total_line)
	"$HT" -- "$TARGET" encode --now 0 >"$HOUT" 2>/dev/null
	[ "$t" = "$(total_line)" ] || fail "after exec: $t; from the start: $(total_line)"
	grep -q "^heaptrail: PID $TPID ran exec: now target; what target held is dropped$" "$HERR" ||
		fail "no exec line on stderr"
}

# -- env LD_PRELOAD=jemalloc COMMAND: env's exec starts the program; the
# start gate stops it again before its main, and the allocator it maps
# then is probed (before, it ran on jemalloc untraced)
test_command_exec_probes_new_allocator() {
	local lib
	lib=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null) || skip "no libjemalloc2"
	"$HT" -- env LD_PRELOAD="$lib" "$TARGET" encode --now 0 >"$HOUT" 2>"$HERR"
	HRC=$?
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "^heaptrail: PID [0-9]*'s new program allocates from $lib: probed$" "$HERR" ||
		fail "jemalloc not probed after the exec"
	last_report | grep -qE '^exec: PID [0-9]+ ran exec at \+[0-9.]+ s \(was env\): ' ||
		fail "exec line: $(last_report | grep '^exec')"
	expect_entry encode 50000 50 malloc
	total_line | grep -q '= heap 54096 in 51 allocations ' || fail "$(total_line)"
}

# The target is its PID and start time: a process given the same PID once
# the target has exited (while heaptrail was busy: stopped here) is not
# traced. Its mmaps and brk used to be counted as the target's.
test_reused_pid_not_traced() {
	local old pid i
	start_target encode
	run_ht -p "$TPID"
	trigger_target
	old=$TPID
	kill -STOP "$HPID"
	stop_target
	for ((i = 0; i < 20; i++)); do
		echo $((old - 1)) >/proc/sys/kernel/ns_last_pid
		"$TARGET" maps --now 30 >"$TMPD/new.out" 2>&1 &
		pid=$!
		[ "$pid" = "$old" ] && break
		kill "$pid"
		wait "$pid"
	done
	if [ "$pid" != "$old" ]; then
		kill -CONT "$HPID"
		skip "PID $old was not handed out again"
	fi
	TPID=$pid	# ended at cleanup
	wait_for "$TMPD/new.out" "^done" || fail "the new process did not map"
	kill -CONT "$HPID"
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	total_line | grep -q ' + mmap 0 in 0 mappings + brk 0$' ||
		fail "the new process counted: $(total_line)"
}
