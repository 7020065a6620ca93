# SPDX-License-Identifier: GPL-2.0
# Leak ranking: the slow leak is suspected, the bigger stable cache is not.

# start_growth [burst]: tests/growth.c, in TPID once it is ready
start_growth() {
	"$ROOT/tests/bin/growth" "$@" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "growth target did not start"
}

test_suspected_leak_not_cache() {
	start_growth
	run_ht -p "$TPID" -d 8
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local first rate
	first=$(last_report | sed -n '/^suspected leaks (/{n;p;q}')
	[ -n "$first" ] || fail "no suspected leak: $(last_report | grep -A3 '^suspected')"
	[[ $first == *"stack #"*": leak_record < "* ]] || fail "first suspect: $first"
	last_report | sed -n '/^suspected leaks/,/^process:/p' | grep -q cache_put &&
		fail "the stable cache is suspected: $(last_report | grep -A5 '^suspected')"
	# the cache holds far more than the leak: it is the top stack by bytes
	[ "$(entry cache_put | cut -d' ' -f4)" = 1 ] || fail "cache is not the biggest stack"
	# the rate matches what the leak stack gained over the 8 s (the
	# target's pace varies with load: at most 1 KiB per 100 ms)
	rate=$(sed -n 's/^  1\. +\([0-9.]*\) KiB\/min.*/\1/p' <<<"$first")
	[ -n "$rate" ] || fail "no KiB/min rate in: $first"
	local bytes
	bytes=$(entry leak_record | cut -d' ' -f1)
	awk -v r="$rate" -v b="$bytes" 'BEGIN {
		want = b / 1024 / 8 * 60
		exit !(r >= want * 0.75 && r <= want * 1.25 && r <= 620) }' ||
		fail "rate $rate KiB/min for $bytes bytes in 8 s"
}

# RSS next to the tracked bytes, with growth since attach.
test_rss_coverage() {
	start_target big
	run_ht -p "$TPID"
	trigger_target
	sleep 1.2
	stop_ht
	local line
	line=$(last_report | grep '^process: RSS ')
	[ -n "$line" ] || fail "no process line"
	[[ $line == *"heaptrail tracks 3.00 MiB made since attach" ]] || fail "$line"
	# 3 MiB malloc'd and untouched are not resident: RSS grew by little
	[[ $line =~ anonymous\ [0-9.]+\ [KM]i?B\ \(\+ ]] || fail "anon growth missing: $line"
}

# --json: every report a JSON object valid against the documented schema.
test_json_reports_match_schema() {
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
	start_growth
	run_ht -p "$TPID" -i 2 -d 6.5 --json
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	[ "$(wc -l <"$HOUT")" = 4 ] || fail "$(wc -l <"$HOUT") JSON lines, expected 3 + final"
	/usr/bin/python3 - "$ROOT/user/report.schema.json" "$HOUT" <<'PY' || fail "schema check failed"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
reports = [json.loads(l) for l in open(sys.argv[2])]
for r in reports:
    jsonschema.validate(r, schema)
last = reports[-1]
assert last["final"] and not any(r["final"] for r in reports[:-1])
assert last["mode"] == "allocations", last["mode"]
# facts, not only shape: the leak is the first suspect, stack totals add up
top = last["suspected_leaks"][0]
frames = last["stacks"][top["stack"] - 1]["frames"]
assert frames[0]["function"] == "leak_record", frames[0]
assert sum(s["live_bytes"] for s in last["stacks"]) == last["outstanding_bytes"]
leak = [s for s in last["stacks"] if s["frames"][0]["function"] == "leak_record"][0]
assert leak["live_bytes"] == 1024 * leak["live_count"], leak
PY
}

# --ages and --min-age: per-stack ages from the live allocations.
test_min_age_and_histogram() {
	start_target encode
	run_ht -p "$TPID" --min-age 1 -i 0.5
	trigger_target
	sleep 0.2
	# first report after the leak: all 50 are younger than 1 s
	sleep 1.5
	stop_ht
	expect_entry encode 50000 50 malloc
	# the final report comes 1.7 s after the leak, or later under load
	last_report | grep -qE '^#1 50000 bytes .* oldest [1-9]\.[0-9] s \[<10s:50\], malloc$' ||
		fail "$(last_report | grep '^#1')"
	last_report | grep -q '^top 1 of 1 stack by outstanding bytes (allocations at least 1.0 s old):' ||
		fail "$(last_report | grep '^top')"
	# the report right after the leak saw it, but nothing old enough yet
	awk '/^heaptrail: pid/ {seen = 0} /^heap since attach: allocated 50000 bytes in 50 calls/ {seen = 1}
	     seen && /^top 0 of 0 stacks .* \(allocations at least 1.0 s old\):/ {ok = 1}
	     END {exit !ok}' "$HOUT" || fail "no report with the leak too young to count"
}

# The second seed case, end to end: a running service (attached to, not
# restarted) leaks 1 KiB every 8 requests inside librpc.so, built without
# frame pointers; its 1 MiB connection pool is bigger and stable. The top
# suspect is the library's allocation, with the whole chain into the service.
test_seed_rpc_library_leak() {
	TARGET=$ROOT/tests/bin/rpcsvc start_target
	sleep 0.3
	run_ht -p "$TPID" -d 6
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local first e bytes count
	first=$(last_report | sed -n '/^suspected leaks (/{n;p;q}')
	[[ $first == *"stack #"*": rpc_frame_alloc < rpc_call < handle_request < main"* ]] ||
		fail "first suspect: $first"
	e=$(entry rpc_frame_alloc)
	read -r bytes count _ <<<"$e"
	[ -n "$count" ] && [ "$count" -gt 50 ] || fail "rpc_frame_alloc: $e"
	[ "$bytes" = $((count * 1024)) ] || fail "$bytes bytes in $count frames of 1024"
	[ "$(frame_lines "$(entry rpc_frame_alloc | cut -d' ' -f4)" | head -1 | sed 's/+0x[0-9a-f]*//')" = \
		"rpc_frame_alloc (librpc.so) librpc.c:$(grep -n 'malloc(RPC_FRAME)' "$ROOT/tests/librpc.c" | cut -d: -f1)" ] ||
		fail "frame: $(frame_lines "$(entry rpc_frame_alloc | cut -d' ' -f4)" | head -1)"
	# the pool was allocated before attach: not even tracked, not suspected
	last_report | sed -n '/^suspected leaks/,/^process:/p' | grep -q pool_init &&
		fail "the pool is suspected"
	return 0
}

# One-shot postmortem of a leak that stopped growing: burst_encode()
# keeps 400 x 48 bytes made in the first 2 s after attach, then goes
# quiet while the program frees nearly all else. Growth ranking cannot
# see it at the end; "none freed" must, and rank it with its stack even
# below -n 1 (the cache holds more). The JSON, from a second heaptrail
# on the same target, says the same and carries the stack.
test_never_freed_after_growth_stops() {
	start_growth burst
	local jout=$TMPD/json.out jerr=$TMPD/json.err jpid
	# it attaches first and must still see the growth stop at the end:
	# its -d covers the second one's attach (seconds under ASan) too
	"$HT" -p "$TPID" -d 12 -n 1 --json >"$jout" 2>"$jerr" &
	jpid=$!
	wait_for "$jerr" "tracing PID" || fail "json heaptrail did not attach"
	run_ht -p "$TPID" -d 7 -n 1
	kill -USR1 "$TPID"
	wait_for_ht
	wait "$jpid" || fail "json heaptrail exited $?"
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	local first
	first=$(last_report | sed -n '/^suspected leaks (/{n;p;q}')
	[[ $first == "  1. 18.75 KiB in 400 allocations since attach, none freed (the program freed "*"% of its others), high confidence, avg age "*" s, malloc, stack #2: burst_encode < main < "* ]] ||
		fail "first suspect: $first"
	last_report | sed -n '/^suspected leaks/,/^process:/p' | grep -q cache_put &&
		fail "the cache is suspected: $(last_report | grep -A3 '^suspected')"
	last_report | grep -qx 'suspected leaks below the top 1:' || fail "no section for suspects below the top"
	expect_entry burst_encode 19200 400 malloc
	[ "$(entry burst_encode | cut -d' ' -f4)" = 2 ] || fail "burst_encode is not stack #2"
	/usr/bin/python3 - "$jout" <<'PY' || fail "JSON: $(tail -c 600 "$jout")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
s = r["suspected_leaks"][0]
assert s["reason"] == "never_freed" and s["allocations"] == 400, s
assert s["growth_bytes"] == 19200 and s["confidence"] == "high", s
assert s["others_freed_share"] > 0.9 and s["chance"] < 1e-3, s
st = [x for x in r["stacks"] if x["rank"] == s["stack"]]
assert len(st) == 1 and len(r["stacks"]) == 2, r["stacks"]
assert st[0]["live_bytes"] == 19200 and st[0]["free_count"] == 0, st
assert st[0]["frames"][0]["function"] == "burst_encode", st[0]["frames"][0]
PY
}

# A run too short to rank growth says so, with the stacks that never
# freed: in 1 s, leak_record() and cache_put() (whose blocks live 2 s).
test_short_run_says_so() {
	start_growth
	run_ht -p "$TPID" -d 1
	wait_for_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	last_report | grep -qE '^suspected leaks: (0\.[5-9]|1\.[0-9]) s: too short to rank growth; 2 stacks never freed$' ||
		fail "$(last_report | grep '^suspected')"
}
