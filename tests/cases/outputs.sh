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

# Root-safe outputs. A device node at the output path is written to and
# stays a device; a FIFO with a reader gets the stacks, one without a
# reader is one error line at start and exit 1; a planted symbolic link is refused
# at start in one line (its target unchanged); files are 0640.
test_outputs_root_safe() {
	local dev=$TMPD/null fifo=$TMPD/fifo link=$TMPD/link victim=$TMPD/victim
	mknod "$dev" c 1 3 || skip "mknod not permitted here"
	start_target encode
	run_ht -p "$TPID" -f "$dev" --pprof "$TMPD/out.pb.gz"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "-f device: heaptrail exited $HRC"
	[ -c "$dev" ] || fail "the device node was replaced: $(ls -l "$dev")"
	[ "$(stat -c %a "$TMPD/out.pb.gz")" = 640 ] || fail "mode $(stat -c %a "$TMPD/out.pb.gz")"
	mkfifo "$fifo"
	# no reader: one line at start, before anything is traced
	"$HT" -d 2 -f "$fifo" -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR"
	[ $? = 1 ] && [ "$(cat "$HERR")" = "heaptrail: cannot write folded output $fifo: a FIFO with no reader" ] ||
		fail "FIFO without reader: $(cat "$HERR")"
	cat "$fifo" >"$TMPD/fifo.out" &
	local rpid=$!
	"$HT" -d 2 -f "$fifo" -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR" ||
		fail "FIFO with reader: $(cat "$HERR")"
	wait "$rpid"
	[ -p "$fifo" ] || fail "the FIFO was replaced"
	grep -q ';encode;\[malloc\] 50000$' "$TMPD/fifo.out" || fail "reader got: $(head -3 "$TMPD/fifo.out")"
	echo precious >"$victim"
	ln -s "$victim" "$link"
	"$HT" -p "$TPID" -d 1 -f "$link" >"$HOUT" 2>"$HERR"
	[ $? = 1 ] && grep -qx "heaptrail: cannot write folded output $link: a symbolic link: refused, never followed or replaced" "$HERR" ||
		fail "symlink: $(cat "$HERR")"
	[ -L "$link" ] && [ "$(cat "$victim")" = precious ] || fail "the link or its target changed"
}

# An output directory that does not exist is made (0750, parents too);
# --keep deletes only files this run wrote, not another run's.
test_output_dir_made_and_keep_own() {
	local d=$TMPD/a/b/
	start_target encode
	"$HT" -p "$TPID" -d 1 -f "$d" >"$HOUT" 2>"$HERR" || fail "missing dir: $(cat "$HERR")"
	[ "$(stat -c %a "$TMPD/a")" = 750 ] && [ "$(stat -c %a "$TMPD/a/b")" = 750 ] ||
		fail "dir modes $(stat -c %a "$TMPD/a" "$TMPD/a/b" | tr '\n' ' ')"
	local other
	other=$(ls "$d")
	[ "$(wc -l <<<"$other")" = 1 ] || fail "files: $other"
	run_ht -p "$TPID" -i 0.3 -f "$d" --keep 2
	trigger_target
	sleep 1.5
	stop_ht
	[ -e "$d/$other" ] || fail "--keep deleted another run's $other"
	[ "$(ls "$d" | grep -vcx "$other")" = 2 ] || fail "this run kept: $(ls "$d")"
}

# A command line with bytes that are not UTF-8 still makes valid JSON:
# each such byte is U+FFFD, valid UTF-8 (é) stays as it is.
test_json_non_utf8() {
	local odd
	odd=$(printf '%s/t\xffé' "$TMPD")
	ln -s "$TARGET" "$odd"
	"$HT" --json -d 2 -- "$odd" encode --now 5 >"$HOUT" 2>"$HERR" || fail "exit $?"
	/usr/bin/python3 - "$HOUT" <<'PY' || fail "JSON: $(head -c 300 "$HOUT")"
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("{"):
        r = json.loads(line)
assert r["cmdline"].split(" ")[0].endswith("/t\ufffd\u00e9"), r["cmdline"]
PY
}

# -o FILE: the reports go to FILE, the command's own output stays on
# stdout, so --json in -- mode is JSON alone; a planted link is refused.
test_output_file() {
	local o=$TMPD/reports.json
	"$HT" --json -o "$o" -d 2 -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR" || fail "exit $?: $(cat "$HERR")"
	grep -qx done "$HOUT" || fail "the command's output: $(cat "$HOUT")"
	grep -q '^{' "$HOUT" && fail "a report on stdout"
	[ "$(stat -c %a "$o")" = 640 ] || fail "mode $(stat -c %a "$o")"
	/usr/bin/python3 - "$o" <<'PY' || fail "JSON: $(head -c 300 "$o")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines and all(json.loads(l)["heaptrail"] == 1 for l in lines), lines[:2]
assert json.loads(lines[-1])["final"] is True
PY
	ln -s "$o" "$TMPD/link"
	"$HT" -o "$TMPD/link" -d 1 -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR"
	[ $? = 1 ] && grep -qx "heaptrail: cannot write $TMPD/link: a symbolic link: refused, never followed or replaced" "$HERR" ||
		fail "link: $(cat "$HERR")"
}

# A full device says so: ENOSPC is "No space left on device", not an
# input/output error, and the run exits 1.
test_output_enospc() {
	"$HT" -d 1 -f /dev/full -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR"
	[ $? = 1 ] || fail "exit $?"
	grep -qx 'heaptrail: cannot write /dev/full: No space left on device' "$HERR" ||
		fail "said: $(cat "$HERR")"
	[ -c /dev/full ] || fail "/dev/full was replaced"
}

# A FIFO gets one report per open: a reader that opens it again each time
# gets every report, the first one too (held open since the start check).
test_output_fifo_each_report() {
	local fifo=$TMPD/fifo
	mkfifo "$fifo"
	# each report opens the FIFO anew, and one with no reader is an
	# error: the reader reopens at once (a cat per report took
	# milliseconds, and reports come back to back when one is late)
	/usr/bin/python3 - "$fifo" "$TMPD/r" <<'PY' &
import sys
n = 0
while True:
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    if data == b"END\n":
        break
    n += 1
    with open(sys.argv[2] + str(n), "wb") as o:
        o.write(data)
PY
	local rpid=$!
	EXTRA_PIDS+=("$rpid")
	"$HT" -i 0.5 -d 1.7 -f "$fifo" -- "$TARGET" encode --now 5 >"$HOUT" 2>"$HERR" ||
		fail "exit $?"
	echo END >"$fifo"
	wait "$rpid"
	local i n=0
	for ((i = 1; i < 10; i++)); do
		[ -e "$TMPD/r$i" ] || break
		n=$i
		grep -q ';encode;\[malloc\] 50000$' "$TMPD/r$i" ||
			fail "report $i: $(head -3 "$TMPD/r$i")"
	done
	# three interval reports and the final one; a report due when -d
	# ends is the final one, so under load there may be fewer
	[ "$n" -ge 2 ] || fail "$n reports through the FIFO"
}
