#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What heaptrail costs, measured side by side in one run (`make bench`).
#
# Workloads (tests/bench.c: N x malloc(64..4096)+free):
#   tight    11 frames below the allocator
#   deep     41 frames below the allocator
#   jemalloc the tight loop with LD_PRELOAD=libjemalloc.so.2
#   redis    redis-server (Debian, jemalloc) under redis-benchmark on
#            127.0.0.1, a bounded number of requests
# Configurations, interleaved round by round, medians of ROUNDS:
#   alone      nothing attached
#   floor      plain tracefs uprobes, no BPF: malloc+0, a return probe on
#              malloc, free at its first push (the kernel emulates a push
#              and single-steps free's leading test): what three traps
#              per malloc+free pair cost by themselves
#   floor2     the same without the return probe: two traps per pair
#   full       heaptrail -p PID
#   sample     heaptrail -p PID --sample 524288 (if this build has it)
#   sample-ns  the same with --no-session: entry and return uprobes, so
#              that a skipped call costs two traps (with -c only)
#   entry      heaptrail -p PID --probe-at-entry: every probe at +0, what
#              probe placement saves against full (with -c only)
#   faults     heaptrail -p PID --faults (if this build has it)
# Printed: the loop's median time, ns added per malloc+free pair, and the
# ratio of that to the floor (full, sample-ns: floor; sample: floor2).
#
# The tracefs floor probes are system-wide while a floor run lasts (tracefs
# cannot filter by process): run this on a quiet machine. Needs root,
# `make` and `make -C tests targets`; installs redis-server if missing.
#
#   tests/bench.sh [-n N] [-r ROUNDS] [-c "CONFIG..."] [--no-redis]
#
# -c runs only the configurations named (alone is always run: every figure
# is relative to it), e.g. -c "full sample sample-ns" --no-redis, or
# -c "full entry" --no-redis for what probe placement saves.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HT=$ROOT/heaptrail
BENCH=$ROOT/tests/bin/bench-nofp
# tracefs for the floor probes, in a mount namespace of our own
if [ -z "${HT_BENCH_NS:-}" ]; then
	HT_BENCH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
N=50000 ROUNDS=3 REDIS=1 REDIS_N=20000 ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-c) ONLY=$2; shift ;;
	--no-redis) REDIS= ;;
	*) echo "usage: tests/bench.sh [-n N] [-r ROUNDS] [-c \"CONFIG...\"] [--no-redis]"; exit 2 ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || { echo "bench.sh must run as root"; exit 1; }
for f in "$HT" "$BENCH"; do
	[ -x "$f" ] || { echo "missing $f: run make && make -C tests targets"; exit 1; }
done

TFS=/sys/kernel/tracing
[ -e $TFS/uprobe_events ] || mount -t tracefs nodev $TFS ||
	{ echo "cannot mount tracefs"; exit 1; }

TMPD=$(mktemp -d /tmp/heaptrail-bench.XXXXXX)
BPID= HPID= RPID= FLOOR=
cleanup() {
	[ -n "${stats0:-}" ] && echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
	floor_off
	[ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null && kill -INT "$HPID" && wait "$HPID"
	[ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null && kill -TERM "$BPID" && wait "$BPID"
	[ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null && kill -TERM "$RPID" && wait "$RPID"
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {	# FILE PATTERN [TENTHS]
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

sym_va() {	# LIB SYM: the symbol's virtual address, in decimal
	local va
	va=$(nm -D --defined-only "$1" | awk -v s="$2" '$3 == s || index($3, s "@@") == 1 {print $1; exit}')
	[ -n "$va" ] && echo $((16#$va))
}

# file offset of virtual address VA of ELF file LIB, in hex
va_off() {
	local lib=$1 va=$2 type off v sz
	while read -r type off v _ sz _; do
		[ "$type" = LOAD ] || continue
		if ((va >= v && va < v + sz)); then
			printf '0x%x\n' $((va - v + off))
			return 0
		fi
	done < <(readelf -lW "$lib" | awk '$1 == "LOAD" {print $1, $2, $3, $4, $5, $6}')
	return 1
}

# bytes from a function's start to its first push (free's, in glibc: 9)
first_push() {
	local va
	va=$(sym_va "$1" "$2") || return 1
	objdump -d --no-show-raw-insn --start-address=$va --stop-address=$((va + 64)) "$1" |
		awk '$2 == "push" { sub(":", "", $1); print $1; exit }' |
		{ read -r a && echo $((16#$a - va)); }
}

LIBC=$(ldd "$BENCH" | awk '/libc.so/ {print $3}')
MALLOC_OFF=$(va_off "$LIBC" "$(sym_va "$LIBC" malloc)")
FREE_PUSH=$(first_push "$LIBC" free)
FREE_OFF=$(va_off "$LIBC" $(($(sym_va "$LIBC" free) + ${FREE_PUSH:-0})))
[ -n "$MALLOC_OFF" ] && [ -n "$FREE_OFF" ] || { echo "cannot find malloc/free in $LIBC"; exit 1; }

floor_on() {	# WITH_RETURN(1/0)
	{
		echo "p:htbench/malloc $LIBC:$MALLOC_OFF"
		[ "$1" = 1 ] && echo "r:htbench/malloc_ret $LIBC:$MALLOC_OFF"
		echo "p:htbench/free $LIBC:$FREE_OFF"
	} >>$TFS/uprobe_events || return 1
	echo 1 >$TFS/events/htbench/enable
	FLOOR=1
}

floor_off() {
	[ -n "$FLOOR" ] || return 0
	echo 0 >$TFS/events/htbench/enable
	local e
	for e in malloc malloc_ret free; do
		[ -e $TFS/events/htbench/$e ] && echo "-:htbench/$e" >>$TFS/uprobe_events
	done
	FLOOR=
}

has_opt() { "$HT" --help 2>&1 | grep -q -e "$1"; }

ht_args() {	# CONFIG -> heaptrail's options
	case $1 in
	full) echo "" ;;
	sample) echo "--sample 524288" ;;
	sample-ns) echo "--sample 524288 --no-session" ;;
	entry) echo "--probe-at-entry" ;;
	faults) echo "--faults" ;;
	esac
}

# attach CONFIG PID: put CONFIG's probes on PID
attach() {
	case $1 in
	alone) ;;
	floor) floor_on 1 ;;
	floor2) floor_on 0 ;;
	nullbpf)
		"$ROOT/tests/bin/nullprobe" "$ROOT/tests/bin/nullprobe.bpf.o" "$2" "$LIBC" \
			>"$TMPD/null.out" 2>&1 &
		HPID=$!
		wait_for "$TMPD/null.out" '^attached' ||
			{ echo "nullprobe did not attach: $(tail -1 "$TMPD/null.out")" >&2; return 1; }
		;;
	*)
		rm -f "$TMPD/ht.err"	# no stale "tracing PID" from the last run
		# shellcheck disable=SC2046
		"$HT" -p "$2" $(ht_args "$1") >"$TMPD/ht.out" 2>"$TMPD/ht.err" &
		HPID=$!
		wait_for "$TMPD/ht.err" 'tracing PID' 300 ||
			{ echo "heaptrail $1 did not attach: $(tail -1 "$TMPD/ht.err")" >&2; return 1; }
		;;
	esac
}

# BPF run time of heaptrail's programs so far, in ns, and their runs, in
# FILE.ns and FILE.runs (bpf_stats must be on)
bpf_ns() {
	local f t=0 n=0 ns c
	for f in /proc/"$HPID"/fdinfo/*; do
		ns=$(sed -n 's/^run_time_ns:[[:space:]]*//p' "$f" 2>/dev/null)
		c=$(sed -n 's/^run_cnt:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$ns" ] && t=$((t + ns))
		[ -n "$c" ] && n=$((n + c))
	done
	echo "$t" >"$1.ns"
	echo "$n" >"$1.runs"
}

detach() {
	floor_off
	[ -n "$HPID" ] && [ -n "${STATS:-}" ] && bpf_ns "$TMPD/bpf"
	if [ -n "$HPID" ]; then
		kill -INT "$HPID"
		wait "$HPID"
		HPID=
		# nullprobe prints its own figures as it ends
		grep '^runs ' "$TMPD/null.out" >"$TMPD/null.out.runs" 2>/dev/null
	fi
}

# loop CONFIG DEPTH [PRELOAD]: the loop's time in ns under CONFIG
loop() {
	local out=$TMPD/bench.out ns i
	rm -f "$out"
	if [ -n "${3:-}" ]; then
		LD_PRELOAD=$3 "$BENCH" "$N" --wait "$2" >"$out" 2>&1 &
	else
		"$BENCH" "$N" --wait "$2" >"$out" 2>&1 &
	fi
	BPID=$!
	wait_for "$out" '^ready' || { echo "bench did not start" >&2; return 1; }
	if ! attach "$1" "$BPID"; then
		detach
		kill -TERM "$BPID"
		wait "$BPID" 2>/dev/null
		BPID=
		return 1
	fi
	kill -USR1 "$BPID"
	for ((i = 0; i < 1800; i++)); do
		grep -q '^ns ' "$out" && break
		sleep 0.1
	done
	detach
	kill -TERM "$BPID"
	wait "$BPID" 2>/dev/null
	BPID=
	ns=$(sed -n 's/^ns //p' "$out")
	[ -n "${BENCH_DEBUG:-}" ] && echo "loop $1 $2 ${3:-}: $ns ns at $(date +%T)" >&2
	echo "${ns:-0}"
}

median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }

CONFIGS="alone floor floor2 full"
has_opt --sample && CONFIGS="$CONFIGS sample"
has_opt --faults && CONFIGS="$CONFIGS faults"
if [ -n "$ONLY" ]; then
	CONFIGS="alone $(tr ' ' '\n' <<<"$ONLY" | grep -vx alone | tr '\n' ' ')"
	CONFIGS=${CONFIGS% }
fi
JEMALLOC=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null)

printf 'heaptrail bench: %s, kernel %s, %d x (malloc+free) per run, median of %d interleaved rounds\n' \
	"$(date -u +%Y-%m-%d)" "$(uname -r)" "$N" "$ROUNDS"
printf 'floor probes: %s malloc+0 (%s), return of malloc, free+%s (%s)\n' \
	"$LIBC" "$MALLOC_OFF" "${FREE_PUSH:-0}" "$FREE_OFF"

declare -A T
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $CONFIGS; do
		T[tight.$c]+="$(loop "$c" 0) "
		T[deep.$c]+="$(loop "$c" 30) "
	done
	if [ -n "$JEMALLOC" ]; then
		for c in alone full sample entry; do
			[[ " $CONFIGS " == *" $c "* ]] || continue
			T[jemalloc.$c]+="$(loop "$c" 0 "$JEMALLOC") "
		done
	fi
done

med() { tr ' ' '\n' <<<"${T[$1]:-}" | grep . | median; }

printf '\n%-9s %-9s %10s %14s %10s %10s\n' workload config "ms" "added ns/pair" "x alone" "x floor"
for w in tight deep jemalloc; do
	alone=$(med "$w.alone")
	[ "${alone:-0}" -gt 0 ] || continue
	fw=$w
	[ "$w" = jemalloc ] && fw=tight	# jemalloc is held to glibc's floor
	fa=$(med "$fw.alone")
	f1=$(($(med "$fw.floor") - fa)) f2=$(($(med "$fw.floor2") - fa))
	for c in $CONFIGS; do
		[ -n "${T[$w.$c]:-}" ] || continue
		floor=$f1
		[ "$c" = sample ] && floor=$f2
		awk -v w="$w" -v c="$c" -v t="$(med "$w.$c")" -v a="$alone" -v n="$N" -v f="$floor" 'BEGIN {
			added = (t - a) / n
			xf = (c == "alone" || c ~ /^floor/ || f <= 0) ? "-" : sprintf("%.2f", added / (f / n))
			printf "%-9s %-9s %10.1f %14.0f %9.2fx %10s\n", w, c, t / 1e6, added, t / a, xf }'
	done
done
# --faults against alone on a loop 20 times longer: the short loop's
# few milliseconds are too noisy for a ratio near 1
if [[ " $CONFIGS " == *" faults "* ]]; then
	N0=$N
	N=$((N * 20))
	FA= FF=
	for ((r = 1; r <= ROUNDS + 2; r++)); do
		FA+="$(loop alone 0) "
		FF+="$(loop faults 0) "
	done
	N=$N0
	fa=$(tr ' ' '\n' <<<"$FA" | grep . | median)
	ff=$(tr ' ' '\n' <<<"$FF" | grep . | median)
	awk -v a="$fa" -v f="$ff" -v n=$((N * 20)) 'BEGIN {
		printf "faults on %d pairs: alone %.1f ms, --faults %.1f ms: %.3fx\n", n, a / 1e6, f / 1e6, f / a }'
fi

# one more run per mode with BPF run-time statistics on (they cost a
# little, so the timed rounds above ran without them). bpf_stats reads the
# clock twice a run, which a VM makes slow: an empty program on the same
# three probes measures that, and it is taken out of each run
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 >/proc/sys/kernel/bpf_stats_enabled
STATS=1
NZ=
for ((r = 1; r <= ROUNDS; r++)); do
	loop nullbpf 0 >/dev/null
	read -r _ nruns _ nns <"$TMPD/null.out.runs" 2>/dev/null
	NZ+="$(awk -v r="${nruns:-0}" -v t="${nns:-0}" 'BEGIN { printf "%.0f", r ? t / r : 0 }') "
done
NULL_NS=$(tr ' ' '\n' <<<"$NZ" | grep . | median)
echo "bpf_stats' own cost: $NULL_NS ns a run (an empty program; median of $ROUNDS runs)"
for c in $CONFIGS; do
	case $c in alone | floor*) continue ;; esac
	# medians of ROUNDS runs: one run's BPF time swings with the load
	L= B= RU=
	for ((r = 1; r <= ROUNDS; r++)); do
		L+="$(loop "$c" 0) "
		B+="$(cat "$TMPD/bpf.ns" 2>/dev/null || echo 0) "
		RU+="$(cat "$TMPD/bpf.runs" 2>/dev/null || echo 0) "
	done
	t=$(tr ' ' '\n' <<<"$L" | grep . | median)
	b=$(tr ' ' '\n' <<<"$B" | grep . | median)
	r=$(tr ' ' '\n' <<<"$RU" | grep . | median)
	awk -v c="$c" -v t="$t" -v a="$(med tight.alone)" -v b="$b" -v n="$N" \
		-v r="$r" -v z="$NULL_NS" 'BEGIN {
		net = b - r * z; if (net < 0) net = 0
		printf "BPF in %-9s tight loop: %5.0f ns/pair of %6.0f added (%.1f%%); %5.0f as bpf_stats counts it, %.1f runs a pair\n", c,
			net / n, (t - a) / n, (t > a ? 100 * net / (t - a) : 0), b / n, r / n }'
done
STATS=
echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
echo "added ns/pair: (loop time - alone) / N; x floor: added / the floor's added"
echo "(full vs floor: 3 traps per pair; sample vs floor2: 2 traps; jemalloc rows vs glibc's floor)"

[ -n "$REDIS" ] || exit 0

# ---- redis-server under redis-benchmark, on loopback ----
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
	echo "installing redis-server and redis-tools for the redis benchmark"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools >/dev/null ||
		{ echo "no redis: skipped"; exit 0; }
fi
PORT=16379
redis_rps() {	# CONFIG: "SET GET" requests per second
	local out=$TMPD/redis.out
	rm -f "$TMPD/redis.log"
	redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no >"$TMPD/redis.log" 2>&1 &
	RPID=$!
	wait_for "$TMPD/redis.log" 'Ready to accept' || { echo "redis did not start" >&2; return 1; }
	attach "$1" "$RPID" || { detach; kill -TERM "$RPID"; wait "$RPID"; RPID=; return 1; }
	redis-benchmark -h 127.0.0.1 -p $PORT -t set,get -d 128 -n "$REDIS_N" -c 20 -q \
		>"$out" 2>&1
	detach
	kill -TERM "$RPID"
	wait "$RPID" 2>/dev/null
	RPID=
	awk -F'[: ]+' '/^SET/ {s = $2} /^GET/ {g = $2} END {print s + 0, g + 0}' \
		<(tr '\r' '\n' <"$out" | grep -E '^(SET|GET): [0-9.]+ requests per second')
}
RCONF=alone
for c in full sample faults; do [[ " $CONFIGS " == *" $c "* ]] && RCONF="$RCONF $c"; done
declare -A S G
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $RCONF; do
		read -r s g <<<"$(redis_rps "$c")"
		S[$c]+="$s " G[$c]+="$g "
	done
done
printf '\nredis-server %s, redis-benchmark -t set,get -d 128 -n %d -c 20 (127.0.0.1)\n' \
	"$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')" "$REDIS_N"
printf '%-8s %12s %12s %10s %10s\n' config "SET/s" "GET/s" "SET x" "GET x"
s0=$(tr ' ' '\n' <<<"${S[alone]}" | grep . | median)
g0=$(tr ' ' '\n' <<<"${G[alone]}" | grep . | median)
for c in $RCONF; do
	s=$(tr ' ' '\n' <<<"${S[$c]}" | grep . | median)
	g=$(tr ' ' '\n' <<<"${G[$c]}" | grep . | median)
	awk -v c="$c" -v s="$s" -v g="$g" -v s0="$s0" -v g0="$g0" 'BEGIN {
		printf "%-8s %12.0f %12.0f %9.3fx %9.3fx\n", c, s, g, s0 ? s / s0 : 0, g0 ? g / g0 : 0 }'
done
