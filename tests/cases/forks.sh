# SPDX-License-Identifier: GPL-2.0
# --follow-forks: the processes the target forks, and theirs, traced too.

# tree_run ARGS...: target forktree under heaptrail --follow-forks ARGS:
# child a (APID) leaks 5 x 700 bytes from leak_in_a, child b (BPID)
# 3 x 1300 from leak_in_b, b's child (GPID) 2 x 900 from
# leak_in_grandchild, the target 50 x 1000 from encode. With KILL_A set,
# child a is ended (exit 7) before heaptrail stops.
tree_run() {
	start_target forktree
	run_ht -p "$TPID" --follow-forks "$@"
	trigger_target
	APID=$(sed -n 's/^child a \([0-9]*\) done$/\1/p' "$TOUT")
	BPID=$(sed -n 's/^child b \([0-9]*\) done$/\1/p' "$TOUT")
	GPID=$(sed -n 's/^child grandchild \([0-9]*\) done$/\1/p' "$TOUT")
	[ -n "$APID" ] && [ -n "$BPID" ] && [ -n "$GPID" ] || fail "children: $(cat "$TOUT")"
	EXTRA_PIDS+=("$APID" "$BPID" "$GPID")
	if [ -n "${KILL_A:-}" ]; then
		kill -TERM "$APID"
		# a zombie: it has exited (the target does not reap it)
		wait_for "/proc/$APID/status" '^State:.*Z' || fail "child a did not exit"
	fi
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
}

# entry_pid FUNC: the pid of the first stack of the last report with a
# frame in FUNC
entry_pid() {
	local rank
	rank=$(entry "$1" | awk '{print $4}')
	[ -n "$rank" ] || return
	last_report | awk -v r="#$rank" '$1 == r {
		for (i = 1; i < NF; i++) if ($i == "pid") { sub(/,$/, "", $(i + 1)); print $(i + 1) } }'
}

# proc_line PID: PID's line of the "processes:" section
proc_line() {
	last_report | grep -E "^  pid $1 "
}

# Each process is reported by PID with exactly what it leaked, from
# where; the grandchild too (forked by a followed child)
test_follow_forks() {
	tree_run
	expect_entry encode 50000 50 malloc
	expect_entry leak_in_a 3500 5 malloc
	expect_entry leak_in_b 3900 3 malloc
	expect_entry leak_in_grandchild 1800 2 malloc
	[ "$(entry_pid encode)" = "$TPID" ] || fail "encode's pid: $(entry_pid encode)"
	[ "$(entry_pid leak_in_a)" = "$APID" ] || fail "leak_in_a's pid: $(entry_pid leak_in_a)"
	[ "$(entry_pid leak_in_b)" = "$BPID" ] || fail "leak_in_b's pid: $(entry_pid leak_in_b)"
	[ "$(entry_pid leak_in_grandchild)" = "$GPID" ] ||
		fail "leak_in_grandchild's pid: $(entry_pid leak_in_grandchild)"
	last_report | grep -qx 'processes: 4 traced, 0 not tracked (no slot left)' ||
		fail "processes line: $(last_report | grep '^processes')"
	proc_line "$TPID" | grep -qx "  pid $TPID (target) target: 50000 bytes in 50 allocations outstanding" ||
		fail "target: $(proc_line "$TPID")"
	proc_line "$APID" | grep -qE "^  pid $APID \(target\) child of $TPID from \+[0-9.]+ s: 3500 bytes in 5 allocations outstanding$" ||
		fail "child a: $(proc_line "$APID")"
	proc_line "$BPID" | grep -qE ": 3900 bytes in 3 allocations outstanding$" ||
		fail "child b: $(proc_line "$BPID")"
	proc_line "$GPID" | grep -qE "^  pid $GPID \(target\) child of $BPID from .*: 1800 bytes in 2 allocations outstanding$" ||
		fail "grandchild: $(proc_line "$GPID")"
	total_line | grep -q '^outstanding: 59200 bytes' || fail "$(total_line)"
	last_report | grep -qx 'forks: 3 child processes since attach, followed' ||
		fail "forks line: $(last_report | grep '^forks')"
}

# A child's exit drops what it held (its memory went with it) and the
# report says so, with its status
test_follow_forks_exit() {
	KILL_A=1 tree_run
	[ -z "$(entry leak_in_a)" ] || fail "the exited child's leak still counted: $(entry leak_in_a)"
	expect_entry leak_in_b 3900 3 malloc
	proc_line "$APID" | grep -qE "^  pid $APID \(target\) child of $TPID from \+[0-9.]+ s, exited with status 7 at \+[0-9.]+ s, holding: 3500 bytes in 5 allocations \(dropped\)$" ||
		fail "child a: $(proc_line "$APID")"
	total_line | grep -q '^outstanding: 55700 bytes' || fail "$(total_line)"
}

# JSON: every process with its figures and end, every stack with its pid;
# the folded stacks have the process as their root frame
test_follow_forks_json_folded() {
	KILL_A=1 tree_run --json -f "$TMPD/out.folded"
	/usr/bin/python3 - "$HOUT" "$TPID" "$APID" "$BPID" "$GPID" <<'PY' || fail "JSON: $(tail -1 "$HOUT" | head -c 400)"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
t, a, b, g = map(int, sys.argv[2:])
p = {x["pid"]: x for x in r["processes"]}
assert r["processes_untracked"] == 0, r
assert p[t]["parent_pid"] is None and p[t]["live_bytes"] == 50000, p[t]
assert p[a]["parent_pid"] == t and p[a]["live_bytes"] == 3500 and p[a]["live_count"] == 5, p[a]
assert p[a]["ended"]["how"] == "exited" and p[a]["ended"]["status"] == 7, p[a]
assert p[b]["live_bytes"] == 3900 and p[b]["ended"] is None, p[b]
assert p[g]["parent_pid"] == b and p[g]["live_bytes"] == 1800, p[g]
s = {x["frames"][0]["function"]: x for x in r["stacks"]}
assert s["encode"]["pid"] == t and s["leak_in_b"]["pid"] == b, s.keys()
assert s["leak_in_grandchild"]["pid"] == g and "leak_in_a" not in s, s.keys()
assert r["outstanding_bytes"] == 55700, r["outstanding_bytes"]
PY
	grep -qE "^\[pid $BPID target\];_start;.*;leak_in_b;\[malloc\] 3900$" "$TMPD/out.folded" ||
		fail "folded: $(cat "$TMPD/out.folded")"
	grep -qE "^\[pid $TPID target\];_start;.*;encode;\[malloc\] 50000$" "$TMPD/out.folded" ||
		fail "folded: $(cat "$TMPD/out.folded")"
	grep -q leak_in_a "$TMPD/out.folded" && fail "folded: exited child kept"
	return 0
}

# A child that runs exec: what its old program held is dropped and said
# so; the new program (the same libc: probed already) is traced under a
# new entry, its stacks named from its own mappings
test_follow_forks_exec() {
	local c
	start_target forkexec
	run_ht -p "$TPID" --follow-forks
	kill -USR1 "$TPID"
	wait_for "$TOUT" "^child [0-9]* leaked" || fail "no child"
	c=$(sed -n 's/^child \([0-9]*\) leaked$/\1/p' "$TOUT")
	EXTRA_PIDS+=("$c")
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^done$' "$TOUT")" = 2 ] && break
		sleep 0.1
	done
	[ "$(grep -c '^done$' "$TOUT")" = 2 ] || fail "target and child not done: $(cat "$TOUT")"
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	expect_entry leak_big 3145728 3 malloc
	[ -z "$(entry old_leak)" ] || fail "the old program's leak still counted: $(entry old_leak)"
	[ "$(entry_pid leak_big)" = "$c" ] || fail "leak_big's pid: $(entry_pid leak_big)"
	[ "$(frames "$(entry leak_big | awk '{print $4}')" | sed -n 2p)" = run ] ||
		fail "leak_big's stack: $(frames "$(entry leak_big | awk '{print $4}')" | tr '\n' ' ')"
	proc_line "$c" | grep -qE "^  pid $c \(target\) child of $TPID from \+[0-9.]+ s, ran exec at \+[0-9.]+ s, holding: 5000 bytes in 5 allocations \(dropped\)$" ||
		fail "child before exec: $(proc_line "$c")"
	proc_line "$c" | grep -qE "^  pid $c \(target\) new program from \+[0-9.]+ s: [0-9]+ bytes in [0-9]+ allocations outstanding$" ||
		fail "child after exec: $(proc_line "$c")"
}

# The target's encode leak and process $1's leak_big, each exactly, each
# under its own PID, in heaptrail's (successful) final report
expect_two_leaks() {
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	expect_entry encode 50000 50 malloc
	expect_entry leak_big 3145728 3 malloc
	[ "$(entry_pid encode)" = "$TPID" ] || fail "encode's pid: $(entry_pid encode)"
	[ "$(entry_pid leak_big)" = "$1" ] || fail "leak_big's pid: $(entry_pid leak_big)"
}

# --cgroup: every process of a cgroup v2 directory, each reported by PID
# with exactly its leak; a process outside it is not traced
test_cgroup() {
	local root b c
	root=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
	[ -n "$root" ] || skip "no cgroup v2 hierarchy mounted"
	CGROUP_DIR=$root/heaptrail-test-$$
	mkdir "$CGROUP_DIR" || fail "cannot create $CGROUP_DIR"
	start_target encode
	"$TARGET" big >"$TMPD/big.out" 2>&1 &
	b=$!
	EXTRA_PIDS+=("$b")
	"$TARGET" libc >"$TMPD/outside.out" 2>&1 &
	c=$!
	EXTRA_PIDS+=("$c")
	wait_for "$TMPD/big.out" "^ready" && wait_for "$TMPD/outside.out" "^ready" ||
		fail "targets did not start"
	echo "$TPID" >"$CGROUP_DIR/cgroup.procs" && echo "$b" >"$CGROUP_DIR/cgroup.procs" ||
		fail "cannot move the targets into $CGROUP_DIR"
	run_ht --cgroup "$CGROUP_DIR"
	kill -USR1 "$TPID" "$b" "$c"
	wait_for "$TOUT" "^done" && wait_for "$TMPD/big.out" "^done" &&
		wait_for "$TMPD/outside.out" "^done" || fail "targets did not finish"
	stop_ht
	expect_two_leaks "$b"
	[ -z "$(entry leak_strdup)" ] || fail "the process outside counted: $(entry leak_strdup)"
	last_report | grep -qx "cgroup: $CGROUP_DIR, its processes traced as they run" ||
		fail "cgroup line: $(last_report | grep '^cgroup')"
	last_report | grep -qx 'processes: 2 traced, 0 not tracked (no slot left)' ||
		fail "processes line: $(last_report | grep '^processes')"
	proc_line "$b" | grep -qE "^  pid $b \(target\) member from \+[0-9.]+ s: 3145728 bytes in 3 allocations outstanding$" ||
		fail "member: $(proc_line "$b")"
	proc_line "$c" && fail "the process outside is listed"
	total_line | grep -q '^outstanding: 3195728 bytes' || fail "$(total_line)"
}

# -a: every process of the machine, each reported by PID with exactly its
# leak: one running at attach, one started after (picked up at its fork
# from the test's shell); heaptrail itself is not traced, and the list
# names only processes that hold something
test_all_processes() {
	local b
	start_target encode
	run_ht -a
	"$TARGET" big >"$TMPD/big.out" 2>&1 &
	b=$!
	EXTRA_PIDS+=("$b")
	wait_for "$TMPD/big.out" "^ready" || fail "big did not start"
	kill -USR1 "$TPID" "$b"
	wait_for "$TOUT" "^done" && wait_for "$TMPD/big.out" "^done" ||
		fail "targets did not finish"
	stop_ht
	expect_two_leaks "$b"
	last_report | grep -qx 'all processes: each traced as it runs' ||
		fail "no all-processes line: $(last_report | grep -A2 '^processes')"
	proc_line "$HPID" && fail "heaptrail traced itself: $(proc_line "$HPID")"
	proc_line "$b" | grep -qE "^  pid $b \(target\) new program from \+[0-9.]+ s: [0-9]+ bytes in [0-9]+ allocations outstanding$" ||
		fail "the process started later: $(proc_line "$b")"
	last_report | grep -qE '^  \([0-9]+ more: ended, or holding nothing\)$' ||
		fail "no count of the quiet ones: $(last_report | sed -n '/^processes/,/^$/p' | tail -3)"
}

# Bad input: one line, the usual exit codes, nothing traced
test_multiproc_errors() {
	local out rc
	out=$("$HT" --cgroup /tmp -d 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 1 ] && [ "$out" = "heaptrail: /tmp is not a cgroup v2 directory" ] ||
		fail "--cgroup /tmp: exit $rc: $out"
	out=$("$HT" --cgroup /nonexistent-cgroup -d 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ $out == *"No such file or directory" ]] ||
		fail "--cgroup /nonexistent-cgroup: exit $rc: $out"
	out=$("$HT" --cgroup /tmp -p 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 2 ] && [[ $out == *"no -p PID or COMMAND with it"* ]] || fail "--cgroup -p: exit $rc: $out"
	out=$("$HT" -a -p 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 2 ] && [ "$out" = "heaptrail: -a traces many processes: no -p PID or COMMAND with it (see heaptrail --help)" ] ||
		fail "-a -p: exit $rc: $out"
	out=$("$HT" --follow-forks --pprof "$TMPD/x.pb.gz" -p 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 2 ] && [[ $out == *"--pprof names stacks from one process's mappings"* ]] ||
		fail "--follow-forks --pprof: exit $rc: $out"
	out=$("$HT" --follow-forks --faults -p 1 2>&1 >/dev/null); rc=$?
	[ "$rc" = 2 ] || fail "--follow-forks --faults: exit $rc: $out"
	[ ! -e "$TMPD/x.pb.gz" ] || fail "a pprof file was written"
}
