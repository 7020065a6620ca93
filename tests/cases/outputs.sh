# SPDX-License-Identifier: GPL-2.0
# Continuous mode: a bounded set of self-describing files per directory.

test_keep_bounded_directories() {
	mkdir "$TMPD/f" "$TMPD/p"
	start_target encode
	run_ht -p "$TPID" -i 0.3 -f "$TMPD/f" --pprof "$TMPD/p" --keep 3
	trigger_target
	sleep 2
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ "$(ls "$TMPD/f" | grep -c "^heaptrail-$TPID-.*\.folded$")" = 3 ] ||
		fail "folded files: $(ls "$TMPD/f")"
	[ "$(ls "$TMPD/p" | grep -c "^heaptrail-$TPID-.*\.pb\.gz$")" = 3 ] ||
		fail "pprof files: $(ls "$TMPD/p")"
	[ "$( (ls -A "$TMPD/f"; ls -A "$TMPD/p") | grep -c tmp)" = 0 ] || fail "temporary files left"
	# one report's files carry one time in their names
	[ "$(ls "$TMPD/f" | sed 's/\.folded$//')" = "$(ls "$TMPD/p" | sed 's/\.pb\.gz$//')" ] ||
		fail "names differ: $(ls "$TMPD/f" "$TMPD/p" | tr '\n' ' ')"
	# the newest of each holds the final state
	grep -q ';encode;\[malloc\] 50000$' "$(ls -d "$TMPD"/f/* | tail -1)" ||
		fail "newest folded file lacks the leak"
	command -v go >/dev/null || return 0
	go tool pprof -comments "$(ls -d "$TMPD"/p/* | tail -1)" >"$TMPD/c" 2>&1
	grep -q "^pid: $TPID$" "$TMPD/c" && grep -q "^cmdline: .*/target encode$" "$TMPD/c" &&
		grep -q "^interval: 0.3 s$" "$TMPD/c" || fail "pprof comments: $(cat "$TMPD/c")"
}

test_error_keep_without_directory() {
	"$HT" -p 1 --keep 3 -f "$TMPD/x.folded" >"$HOUT" 2>"$HERR"
	[ $? = 2 ] || fail "exit code"
	grep -q '^heaptrail: --keep needs --folded or --pprof with a directory' "$HERR" ||
		fail "$(cat "$HERR")"
}
