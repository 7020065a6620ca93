# SPDX-License-Identifier: GPL-2.0
# heaptrail diff OLD NEW on saved folded and pprof profiles.

# diff_session: profiles of target encode before (OLD_*) and after (NEW_*)
# its 50 x 1000-byte leak, as folded files and as pprof
diff_session() {
	local i
	mkdir -p "$TMPD/prof"
	start_target encode
	run_ht -p "$TPID" -i 0.3 -f "$TMPD/prof/" --pprof "$TMPD/p.pb.gz"
	# the pprof is written after the folded file of the same report
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMPD/p.pb.gz" ] && break
		sleep 0.1
	done
	[ -s "$TMPD/p.pb.gz" ] || fail "no pprof file after 10 s"
	OLD_F=$(ls "$TMPD"/prof/*.folded | head -1)
	OLD_P=$TMPD/old.pb.gz
	cp "$TMPD/p.pb.gz" "$OLD_P"
	trigger_target
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	NEW_F=$(ls "$TMPD"/prof/*.folded | tail -1)
	NEW_P=$TMPD/p.pb.gz
	[ "$NEW_F" != "$OLD_F" ] || fail "only one folded file written"
}

# run_diff ARGS...: heaptrail diff into $TMPD/diff.out/.err, rc in DRC
run_diff() {
	"$HT" diff "$@" >"$TMPD/diff.out" 2>"$TMPD/diff.err"
	DRC=$?
	[ "$DRC" = 0 ] || fail "heaptrail diff $* exited $DRC: $(head -3 "$TMPD/diff.err")"
}

sum_folded() { awk '{ s += $NF } END { print s + 0 }' "$1"; }

# The encode leak heads the output with exactly +50000 bytes.
expect_encode_first() {
	head -1 "$TMPD/diff.out" |
		grep -qE '^\+50000 bytes \(\+48\.83 KiB\)  [0-9]+ -> [0-9]+  .*;handle_request;encode;\[malloc\]$' ||
		fail "first line: $(head -1 "$TMPD/diff.out")"
}

test_diff_folded_real() {
	local o n want got
	diff_session
	run_diff "$OLD_F" "$NEW_F"
	expect_encode_first
	o=$(sum_folded "$OLD_F")
	n=$(sum_folded "$NEW_F")
	[ $((n - o)) = 50000 ] || echo "    note: other stacks changed too ($o -> $n)"
	[ "$(tail -1 "$TMPD/diff.out")" = "total: $o -> $n bytes ($(printf %+d $((n - o))))" ] ||
		fail "summary: $(tail -1 "$TMPD/diff.out"), expected $o -> $n"
	# every changed stack of the files, and nothing else
	want=$(awk '{ b = $NF; $NF = ""; all[$0] = 1 }
		    FILENAME == ARGV[1] { old[$0] += b; next }
		    { new[$0] += b }
		    END { for (s in all) if (old[s] != new[s])
				printf "%+d %d -> %d %s\n", new[s] - old[s],
				       old[s], new[s], s }' "$OLD_F" "$NEW_F" |
		sed 's/ $//' | LC_ALL=C sort)
	got=$(sed '$d; s/ bytes ([^)]*)  / /; s/  / /' "$TMPD/diff.out" | LC_ALL=C sort)
	[ "$got" = "$want" ] || fail "stacks differ from the files: got '$got', want '$want'"
}

test_diff_pprof_real() {
	local n
	diff_session
	run_diff "$OLD_P" "$NEW_P"
	expect_encode_first
	cp "$TMPD/diff.out" "$TMPD/pp.out"
	# the final report in both formats reads back as the same profile
	run_diff "$NEW_F" "$NEW_P"
	n=$(sum_folded "$NEW_F")
	[ "$(cat "$TMPD/diff.out")" = "total: $n -> $n bytes (+0)" ] ||
		fail "folded and pprof of the same report differ: $(head -3 "$TMPD/diff.out")"
	grep -q "^total: [0-9]* -> $n bytes" "$TMPD/pp.out" ||
		fail "pprof total: $(tail -1 "$TMPD/pp.out"), expected NEW $n"
	# a cut-off pprof is an error, not a crash
	head -c $(($(stat -c %s "$NEW_P") / 2)) "$NEW_P" >"$TMPD/cut.pb.gz"
	"$HT" diff "$OLD_P" "$TMPD/cut.pb.gz" >/dev/null 2>"$TMPD/diff.err"
	[ $? = 1 ] || fail "truncated pprof not rejected"
	grep -q "^heaptrail: cannot read $TMPD/cut.pb.gz: " "$TMPD/diff.err" ||
		fail "error: $(cat "$TMPD/diff.err")"
}

test_diff_mixed_formats() {
	diff_session
	run_diff "$OLD_F" "$NEW_F"
	cp "$TMPD/diff.out" "$TMPD/ff.out"
	run_diff "$OLD_F" "$NEW_P"
	expect_encode_first
	cmp -s "$TMPD/diff.out" "$TMPD/ff.out" ||
		fail "folded->pprof differs from folded->folded: $(diff "$TMPD/ff.out" "$TMPD/diff.out" | head -5)"
	run_diff "$OLD_P" "$NEW_F"
	expect_encode_first
}

# Synthetic files: ordering, merging of repeated stacks, -n, --grown-only.
test_diff_folded_options() {
	printf 'a;b;malloc 100\nc;mmap 4096\nd;calloc 10\nsame;malloc 7\n' >"$TMPD/o"
	printf 'a;b;malloc 300\r\n\na;b;malloc 50\nd;calloc 20\ne f;malloc 1\nsame;malloc 7\n' >"$TMPD/n"
	run_diff "$TMPD/o" "$TMPD/n"
	[ "$(cat "$TMPD/diff.out")" = "+250 bytes (+250 B)  100 -> 350  a;b;malloc
+10 bytes (+10 B)  10 -> 20  d;calloc
+1 bytes (+1 B)  0 -> 1  e f;malloc
-4096 bytes (-4.00 KiB)  4096 -> 0  c;mmap
total: 4213 -> 378 bytes (-3835)" ] || fail "output: $(cat "$TMPD/diff.out")"
	run_diff -n 1 --grown-only "$TMPD/o" "$TMPD/n"
	[ "$(cat "$TMPD/diff.out")" = "+250 bytes (+250 B)  100 -> 350  a;b;malloc
total: 4213 -> 378 bytes (-3835)" ] || fail "-n 1 --grown-only: $(cat "$TMPD/diff.out")"
	run_diff "$TMPD/n" "$TMPD/o" -n 1
	[ "$(head -2 "$TMPD/diff.out")" = "+4096 bytes (+4.00 KiB)  0 -> 4096  c;mmap
-250 bytes (-250 B)  350 -> 100  a;b;malloc" ] || fail "-n 1 reversed: $(cat "$TMPD/diff.out")"
	# an empty profile (nothing live yet) is valid, folded or pprof
	: >"$TMPD/empty"
	gzip -c </dev/null >"$TMPD/empty.pb.gz"
	run_diff "$TMPD/empty" "$TMPD/empty.pb.gz"
	[ "$(cat "$TMPD/diff.out")" = "total: 0 -> 0 bytes (+0)" ] || fail "empty: $(cat "$TMPD/diff.out")"
}

# expect_bad FILE: rejected either side, one line, exit 1, no crash
expect_bad() {
	local f=$1 rc side
	for side in old new; do
		if [ $side = old ]; then
			"$HT" diff "$f" "$TMPD/ok" >"$TMPD/diff.out" 2>"$TMPD/diff.err"
		else
			"$HT" diff "$TMPD/ok" "$f" >"$TMPD/diff.out" 2>"$TMPD/diff.err"
		fi
		rc=$?
		[ $rc = 1 ] || fail "$f as $side: exit $rc, expected 1"
		[ "$(wc -l <"$TMPD/diff.err")" = 1 ] ||
			fail "$f as $side: stderr '$(cat "$TMPD/diff.err")'"
		grep -q "^heaptrail: cannot read $f: ." "$TMPD/diff.err" ||
			fail "$f as $side: $(cat "$TMPD/diff.err")"
		[ ! -s "$TMPD/diff.out" ] || fail "$f as $side: output on stdout"
	done
}

test_diff_malformed_inputs() {
	local rc
	printf 'main;malloc 5\n' >"$TMPD/ok"
	head -c 65536 /dev/urandom >"$TMPD/random"
	expect_bad "$TMPD/random"
	expect_bad "$TARGET"
	printf 'main;malloc 5\nmain;run;malloc\n' >"$TMPD/nonumber"
	expect_bad "$TMPD/nonumber"
	printf 'main;malloc 12x\n' >"$TMPD/badnumber"
	expect_bad "$TMPD/badnumber"
	printf 'main;malloc 99999999999999999999999\n' >"$TMPD/bignumber"
	expect_bad "$TMPD/bignumber"
	printf ' 5\n' >"$TMPD/nostack"
	expect_bad "$TMPD/nostack"
	head -c 4000000 /dev/zero | tr '\0' x >"$TMPD/hugeline"
	expect_bad "$TMPD/hugeline"
	seq 1 20000 | gzip -c >"$TMPD/text.gz"
	expect_bad "$TMPD/text.gz"
	seq 1 20000 | gzip -c | head -c 200 >"$TMPD/cut.gz"
	expect_bad "$TMPD/cut.gz"
	printf '\037\213' >"$TMPD/magic-only"
	expect_bad "$TMPD/magic-only"
	{ printf '\037\213\010\000\000\000\000\000\000\003'; head -c 3000 /dev/urandom; } >"$TMPD/gz-garbage"
	expect_bad "$TMPD/gz-garbage"
	expect_bad "$TMPD/missing"
	expect_bad "$TMPD"
	# a huge but well-formed line is fine
	{ head -c 4000000 /dev/zero | tr '\0' x; echo ';malloc 5'; } >"$TMPD/hugeok"
	"$HT" diff "$TMPD/ok" "$TMPD/hugeok" >/dev/null 2>&1 || fail "huge stack name rejected"
	# usage errors: exit 2 with one line
	for args in "" "$TMPD/ok" "$TMPD/ok $TMPD/ok $TMPD/ok" "-n" "-n 0 $TMPD/ok $TMPD/ok" \
		    "-n x $TMPD/ok $TMPD/ok" "--bogus $TMPD/ok $TMPD/ok"; do
		"$HT" diff $args >/dev/null 2>"$TMPD/diff.err"
		rc=$?
		[ $rc = 2 ] || fail "heaptrail diff $args: exit $rc, expected 2"
		[ "$(wc -l <"$TMPD/diff.err")" = 1 ] || fail "diff $args: $(cat "$TMPD/diff.err")"
	done
}
