# SPDX-License-Identifier: GPL-2.0
# Days-long runs, shortened: a target that never stops making new stacks
# (tests/bin/soak: 2,000 a second from 4 threads, most freed, every 400th
# kept) traced continuously with a stack map it fills in 8 seconds.
# Stacks that hold nothing are reclaimed, so the last report still
# finds every kept allocation under its own stack, exactly.

SOAK_SECONDS=${SOAK_SECONDS:-40}

# VmRSS of PID in KiB
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# SECONDS MAX_STACKS CYCLE [env...]: run the soak, then check every
# report (check_soak's python below) with PUT_BACK: "some" if stacks must
# have been put back, else "any"
soak_run() {
	local secs=$1 max=$2 cycle=$3 put_back=$4
	shift 4
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
	"$ROOT/tests/bin/soak" 4 2000 400 "$cycle" >"$TOUT" 2>&1 &
	TPID=$!
	wait_for "$TOUT" "^ready" || fail "soak did not start"
	: >"$HERR"
	env "$@" "$HT" -p "$TPID" -i 1 --json -n 100000 --max-stacks "$max" >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for "$HERR" "tracing PID" 300 || fail "heaptrail did not attach"
	kill -USR1 "$TPID"
	sleep 10
	local rss10 rss_end quiet
	rss10=$(rss_kib "$HPID")
	sleep $((secs - 14))
	kill -USR2 "$TPID"
	wait_for "$TOUT" "^quiet" || fail "soak did not stop its threads"
	# a report or two after the churn stopped, then the final one
	sleep 2.5
	rss_end=$(rss_kib "$HPID")
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	quiet=$(grep '^quiet' "$TOUT")
	echo "    heaptrail RSS ${rss10} KiB at 10 s, ${rss_end} KiB at the end; target: $quiet"
	# the lead's soak table: what the maps and reclaim did
	/usr/bin/python3 - "$ROOT/user/report.schema.json" "$HOUT" $quiet "$rss10" "$rss_end" "$put_back" <<'PY' || fail "soak check failed"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
kept, kept_bytes = int(sys.argv[4]), int(sys.argv[5])
rss10, rss_end = int(sys.argv[6]), int(sys.argv[7])
put_back = sys.argv[8]
reports = [json.loads(l) for l in open(sys.argv[2])]
assert len(reports) >= 20, f"{len(reports)} reports"
peak = 0
for r in reports:
    jsonschema.validate(r, schema)
    m = r["maps"]
    for name in ("stacks", "aggregates"):
        f = m[name]
        assert f["used"] is not None and f["used"] < f["capacity"], (name, f)
    peak = max(peak, m["stacks"]["used"])
last = reports[-1]
m = last["maps"]
print(f"    {len(reports)} reports; stack map peak {peak}/{m['stacks']['capacity']}, "
      f"last {m['stacks']['used']}; reclaimed {m['reclaimed_stacks']} stacks "
      f"in {m['reclaim_passes']} passes, {m['reclaim_put_back']} put back")
# without reclaim the map is full after about 8 s of the run
assert m["reclaimed_stacks"] > 2000 * (len(reports) // 2), m
c = last["counters"]
assert c["dropped_stack_map_full"] == 0 and c["dropped_aggregate_map_full"] == 0, c
# outstanding: 10 x 1000 bytes from hold_fixed, and what keep_block kept
h = last["heap"]
assert (h["live_bytes"], h["live_count"]) == (10000 + kept_bytes, 10 + kept), (h, kept, kept_bytes)
assert last["outstanding_bytes"] == 10000 + kept_bytes, last["outstanding_bytes"]
def has(s, fn):
    return any(fr["function"] == fn for fr in s["frames"])
hold = [s for s in last["stacks"] if has(s, "hold_fixed")]
assert len(hold) == 1 and (hold[0]["live_bytes"], hold[0]["live_count"]) == (10000, 10), hold
keep = [s for s in last["stacks"] if has(s, "keep_block")]
got = (sum(s["live_count"] for s in keep), sum(s["live_bytes"] for s in keep))
assert got == (kept, kept_bytes), (got, kept, kept_bytes)
# every stack named: none lost its frames to a reclaim
assert len(last["stacks"]) == len(keep) + 1, [s["frames"][:1] for s in last["stacks"]]
if put_back == "some":
    assert m["reclaim_put_back"] > 0, m
else:
    assert all(s["live_count"] == 1 for s in keep), "a kept allocation shares its stack"
# heaptrail's memory stays put once the maps are in their steady state;
# not under ASan, whose quarantine holds freed memory (up to 256 MiB)
import os
if "ASAN_OPTIONS" not in os.environ:
    assert rss_end <= rss10 * 1.25, f"RSS {rss10} KiB at 10 s, {rss_end} KiB at the end"
PY
}

test_soak_reclaims_and_stays_exact() {
	soak_run "$SOAK_SECONDS" 16384 0 any
}

# The race reclaim is built for: stacks come back (paths repeat every 3
# s) while they are being deleted. The loader holds each pass's phase
# open for 300 ms after its deletes, so that probes meet deleted stacks:
# their frames are put back and their bytes go through the ledger, and
# the figures stay exact.
test_soak_reclaim_race_puts_back() {
	soak_run 30 8192 6000 some HEAPTRAIL_RECLAIM_HOLD_MS=300
}
