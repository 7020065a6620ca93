# SPDX-License-Identifier: GPL-2.0
# Bad input: one clear line on stderr, a non-zero exit, no crash.

# expect_error RC PATTERN ARGS...: heaptrail ARGS fails with exit RC and
# exactly one line on stderr matching PATTERN.
expect_error() {
	local rc=$1 pat=$2 got
	shift 2
	timeout 60 "$HT" "$@" >"$HOUT" 2>"$HERR"
	got=$?
	[ "$got" = "$rc" ] || fail "heaptrail $*: exit $got, expected $rc"
	[ "$(wc -l <"$HERR")" = 1 ] || fail "heaptrail $*: $(wc -l <"$HERR") lines on stderr"
	grep -qE "^heaptrail: $pat" "$HERR" || fail "heaptrail $*: said: $(cat "$HERR")"
	[ -s "$HOUT" ] && fail "heaptrail $*: wrote a report"
	return 0
}

test_error_no_such_pid() {
	local pid=4000000
	expect_error 1 "no process with PID $pid$" -p "$pid"
}

test_error_not_permitted() {
	start_target encode
	local got
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$HT" -p "$TPID" >"$HOUT" 2>"$HERR"
	got=$?
	[ "$got" = 1 ] || fail "exit $got"
	[ "$(wc -l <"$HERR")" = 1 ] || fail "$(wc -l <"$HERR") lines"
	grep -q '^heaptrail: permission denied' "$HERR" || fail "said: $(cat "$HERR")"
}

test_error_no_libc() {
	"$ROOT/tests/bin/static" >"$TOUT" &
	TPID=$!
	wait_for "$TOUT" ready || fail "static program did not start"
	expect_error 1 "PID $TPID maps no libc" -p "$TPID"
}

test_error_no_btf() {
	start_target encode
	expect_error 1 "kernel BTF not usable at $TMPD/none" --btf "$TMPD/none" -p "$TPID"
	echo garbage >"$TMPD/bad.btf"
	expect_error 1 "kernel BTF not usable at $TMPD/bad.btf: not a valid BTF file " --btf "$TMPD/bad.btf" -p "$TPID"
}

test_error_bad_options() {
	expect_error 2 "invalid interval 'abc'" -p 1 -i abc
	expect_error 2 "invalid interval '0'" -p 1 -i 0
	expect_error 2 "invalid duration '-1'" -p 1 -d -1
	expect_error 2 "invalid top count '0'" -p 1 -n 0
	expect_error 2 "invalid PID 'x'" -p x
	expect_error 2 "invalid unwind mode 'foo'" -p 1 --unwind foo
	expect_error 2 "invalid --max-allocs '0'" -p 1 --max-allocs 0
	expect_error 2 "no target" -i 1
	expect_error 2 "give either -p PID or a COMMAND" -p 1 -- true
	expect_error 2 "invalid interval 'nan'" -p 1 -i nan
	expect_error 2 "invalid duration 'inf'" -p 1 -d inf
	expect_error 2 "invalid --min-age '5x'" -p 1 --min-age 5x
	expect_error 1 "cannot write folded output : No such file or directory" -p 1 -f ''
	# units are seconds unless written: 500ms, 2m, 1h
	expect_error 1 "no process with PID 999999" -p 999999 --min-age 500ms -i 2m -d 1h
}

test_error_unwritable_output() {
	start_target encode
	expect_error 1 "cannot write folded output /proc/none/x.folded" \
		-p "$TPID" -f /proc/none/x.folded
	expect_error 1 "cannot write folded output /sys/x.folded" -p "$TPID" -f /sys/x.folded
}

test_error_command_not_found() {
	expect_error 1 "cannot run $TMPD/none: No such file or directory" -- "$TMPD/none"
}

# A target that exits while traced: final report, exit 0.
test_target_exits_while_traced() {
	# the target ends once heaptrail is attached, not after a fixed time
	# (a loaded machine can take longer than that to attach)
	"$TARGET" encode --now 300 >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^done" || fail "target did not start"
	run_ht -p "$TPID"
	kill -TERM "$TPID"
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q "^heaptrail: PID $TPID exited" "$HERR" || fail "exit not reported"
	grep -q ', final$' "$HOUT" || fail "no final report"
}

# No symbols at all: frames as module+offset, bytes still exact.
test_stripped_binary() {
	TARGET=$ROOT/tests/bin/target-stripped start_target encode
	run_ht -p "$TPID"
	trigger_target
	stop_ht
	local first off addr size
	first=$(last_report | awk '/^#1 /{getline; print $1; exit}')
	last_report | grep -q '^#1 50000 bytes .* in 50 allocations' ||
		fail "$(last_report | grep '^#1')"
	[[ $first =~ ^target-stripped\+0x([0-9a-f]+)$ ]] || fail "first frame $first"
	off=$((16#${BASH_REMATCH[1]}))
	read -r addr size <<<"$(nm -S "$ROOT/tests/bin/target" | awk '$4 == "encode" {print $1, $2}')"
	# a return address inside encode (text file offsets equal addresses)
	[ "$off" -gt $((16#$addr)) ] && [ "$off" -le $((16#$addr + 16#$size)) ] ||
		fail "offset $off is not in encode ($addr+$size)"
}

# A fresh machine has no tracefs mounted (run.sh runs the suite so): the
# README's first command works there, and heaptrail's own tracefs mount
# stays in its private mount namespace.
test_fresh_box_without_tracefs() {
	[ -e /sys/kernel/tracing/events ] && fail "tracefs is mounted in the test namespace"
	"$HT" -d 2 -- "$ROOT/tests/bin/leaky" 1000 20 1 >"$HOUT" 2>"$HERR" ||
		fail "heaptrail failed without tracefs: $(tail -1 "$HERR")"
	grep -q '^heaptrail: tracing PID' "$HERR" || fail "did not attach"
	expect_entry encode 20000 20 malloc
	[ -e /sys/kernel/tracing/events ] && fail "heaptrail left tracefs mounted here"
	grep -q tracefs /proc/self/mounts && fail "tracefs in our mount table"
	return 0
}

# A --debug-dir that is not there is said, not silently ignored.
test_debug_dir_missing_warns() {
	"$HT" --debug-dir "$TMPD/none" -p 999999 >"$HOUT" 2>"$HERR"
	grep -qx "heaptrail: warning: --debug-dir $TMPD/none: No such file or directory" "$HERR" ||
		fail "said: $(cat "$HERR")"
}

# Without CAP_SYS_PTRACE, another user's process cannot be read through
# /proc: the error names the capability, not libc's file alone.
test_error_needs_cap_sys_ptrace() {
	command -v setpriv >/dev/null || skip "setpriv missing"
	cp "$TARGET" "$TMPD/target" && chmod 755 "$TMPD" "$TMPD/target"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TMPD/target" encode >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "target did not start as nobody"
	setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace -- "$HT" -p "$TPID" -d 1 >"$HOUT" 2>"$HERR"
	[ $? = 1 ] || fail "exit $?"
	grep -qx "heaptrail: cannot read PID $TPID's .*libc.so.6 through /proc: Permission denied (tracing another user's process needs CAP_SYS_PTRACE)" "$HERR" ||
		fail "said: $(cat "$HERR")"
}

# A static COMMAND is refused as a static PID is (it attached to
# heaptrail's own libc, reported 0 bytes and exited 0); --faults runs it.
test_static_command_refused() {
	expect_error 1 "$ROOT/tests/bin/static is statically linked: .*--faults traces it" -d 1 -- "$ROOT/tests/bin/static"
	"$HT" --faults -d 1 -- "$ROOT/tests/bin/static" >"$HOUT" 2>"$HERR" || fail "--faults: exit $?: $(cat "$HERR")"
	grep -q '^mode: page faults' "$HOUT" || fail "--faults: no report"
}
