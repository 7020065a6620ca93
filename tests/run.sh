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
	# a sanitizer report fails a test even where heaptrail's failure
	# was the expected outcome
	if [ -n "${SAN_LOGS:-}" ] && compgen -G "$SAN_LOGS/*" >/dev/null; then
		cat "$SAN_LOGS"/* >>"$ROOT/tests/bin/last.log"
		rm -f "$SAN_LOGS"/*
		rc=1
	fi
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
# The whole suite once more, against the ASan+UBSan build of `make
# SANITIZE=1` (heaptrail as HT; the targets stay plain): memory errors hide
# in every path, not only the parsers. Reports go to files, so that none is
# missed in stderr. Left out, each for its reason:
SAN_HT=$ROOT/build-san/heaptrail
san_excluded() {
	case $1 in
	# the fuzz harnesses are ASan+UBSan builds of their own and never
	# run heaptrail: a second run would test the same thing
	test_fuzz_*) return 0 ;;
	# heaptrail itself runs with LD_PRELOAD=libjemalloc (the command
	# inherits it): ASan must be the first malloc in the process and
	# refuses to start (the exec case, -- env LD_PRELOAD=..., is run)
	test_jemalloc_command_mode | test_allocator_reserved_before_main) return 0 ;;
	esac
	return 1
}
san_wanted() {
	local f t
	for f in tests/cases/*.sh; do
		for t in $(grep -oE '^test_[a-z0-9_]+' "$f"); do
			san_excluded "$t" || echo "$f $t"
		done
	done
}
if [ -x "$SAN_HT" ]; then
	SAN_LOGS=$(mktemp -d /tmp/heaptrail-san.XXXXXX)
	while read -r f t; do
		[ -n "$only" ] && [[ san_$t != *$only* ]] && continue
		run_one "san_$t" env HT="$SAN_HT" \
			ASAN_OPTIONS="log_path=$SAN_LOGS/asan:detect_leaks=1" \
			UBSAN_OPTIONS="log_path=$SAN_LOGS/ubsan:print_stacktrace=1" \
			bash -c ". tests/lib.sh; . $f; $t"
	done < <(san_wanted)
	rm -rf "$SAN_LOGS"
	SAN_LOGS=
elif [ -z "$only" ] || [[ san_ == *$only* ]]; then
	skipped=$((skipped + 1))
	echo "SKIP sanitized tests: no $SAN_HT (make SANITIZE=1)"
fi

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
