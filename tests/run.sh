#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# heaptrail's test runner: every test_* function of tests/cases/*.sh and
# every unit test of tests/bin/unit, each in its own bash process. Ends
# with "N passed, N failed". Must run as root (it loads BPF programs).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
cd "$ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "tests must run as root"
	echo "0 passed, 1 failed"
	exit 1
fi
# A fresh machine boots without tracefs: run the suite as on one, in a
# private mount namespace with tracefs (and debugfs) unmounted, so that
# heaptrail's own handling of it is tested by every attach.
if [ -z "${HT_TEST_NS:-}" ]; then
	HT_TEST_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
umount -l /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug 2>/dev/null
if [ -e /sys/kernel/tracing/events ]; then
	echo "cannot unmount tracefs in the test namespace"
	echo "0 passed, 1 failed"
	exit 1
fi

pass=0 failed=0 skipped=0
failures=()
only=${1:-}

run_one() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s%N)
	timeout 300 "$@" >"$ROOT/tests/bin/last.log" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1))
	   printf 'PASS %-40s %6d ms\n' "$name" $((($(date +%s%N) - t0) / 1000000)) ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name"; cat "$ROOT/tests/bin/last.log" ;;
	*) failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name (exit $rc)"; cat "$ROOT/tests/bin/last.log" ;;
	esac
}

for f in tests/cases/*.sh; do
	for t in $(grep -oE '^test_[a-z0-9_]+' "$f"); do
		[ -n "$only" ] && [[ $t != *$only* ]] && continue
		run_one "$t" bash -c ". tests/lib.sh; . $f; $t"
	done
done
if ! units=$(tests/bin/unit --list); then
	failed=$((failed + 1)); failures+=("unit --list")
	echo "FAIL unit tests: tests/bin/unit missing or broken (make -C tests units)"
fi
for t in $units; do
	[ -n "$only" ] && [[ unit_$t != *$only* ]] && continue
	run_one "unit_$t" tests/bin/unit "$t"
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$pass passed, $failed failed, $skipped skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
