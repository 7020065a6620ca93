# SPDX-License-Identifier: GPL-2.0
# --kernel: the kernel's outstanding allocations by kernel stack, from the
# kmem tracepoints. The kernel-side "leak" is tests/bin/kpipes holding
# 2000 pipes open: each is a pipe_inode_info and its pipe_buffer array
# (kmalloc, in alloc_pipe_info), an inode and two files (kmem_cache, in
# create_pipe_files), then closes them all.

KPIPES=$ROOT/tests/bin/kpipes
NPIPES=2000

# run_kernel ARGS...: heaptrail --kernel in the background, until attached
run_kernel() {
	: >"$HERR"
	"$HT" --kernel "$@" >"$HOUT" 2>"$HERR" &
	HPID=$!
	wait_for "$HERR" "tracing the kernel" 300 ||
		fail "heaptrail --kernel $* did not attach"
}

# kpipe_sums FILE LINE: per kind of pipe allocation, "COUNT BYTES" of the
# JSON report on LINE (-1: the last) that went through the given function
kpipe_sums() {
	python3 - "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[int(sys.argv[2])])
want = {
    # kind, a frame the stack must hold, a frame it must hold below it
    "pipe_info": ("kmalloc", "alloc_pipe_info", "create_pipe_files"),
    "inode": ("kmem_cache", "alloc_inode", "create_pipe_files"),
    "file": ("kmem_cache", "alloc_empty_file", "create_pipe_files"),
}
for name, (kind, fn, below) in want.items():
    n = b = 0
    for st in r["stacks"]:
        fns = [f["function"] or "?" for f in st["frames"]]
        if st["kind"] != kind or fn not in fns or below not in fns:
            continue
        if fns.index(below) < fns.index(fn):
            continue
        # the tracing glue is trimmed: the allocator is the first frame
        if not (fns[0].startswith("__kmalloc") or
                fns[0].startswith("kmem_cache_alloc")):
            print("bad-top", fns[0])
        n += st["live_count"]
        b += st["live_bytes"]
    print(name, n, b)
# the slab's own pages: apart, never a pages stack through allocate_slab
ar = r["allocator_reserved"]
print("slab", ar["live_count"], ar["live_bytes"])
print("slab-in-pages", sum(1 for st in r["stacks"] if st["kind"] == "pages" and
      "allocate_slab" in [f["function"] for f in st["frames"]]))
PY
}

# sizeof(struct NAME) from the kernel's BTF (dumped once: seconds)
btf_size() {
	[ -s "$TMPD/btf" ] || bpftool btf dump file /sys/kernel/btf/vmlinux >"$TMPD/btf" 2>/dev/null
	sed -n "s/^\[[0-9]*\] STRUCT '$1' size=\([0-9]*\) .*/\1/p" "$TMPD/btf" | head -1
}

test_kernel_pipes_held_and_released() {
	local json=$TMPD/k.json kout=$TMPD/kpipes.out held final n0 i
	local info buf
	info=$(btf_size pipe_inode_info)
	buf=$(btf_size pipe_buffer)
	[ -n "$info" ] && [ -n "$buf" ] || fail "no pipe sizes in the kernel's BTF"
	run_kernel -i 1 -n 100000 --json -o "$json"
	"$KPIPES" "$NPIPES" >"$kout" 2>&1 &
	EXTRA_PIDS+=($!)
	local kp=$!
	wait_for "$kout" "^held $NPIPES" 300 || fail "kpipes did not open its pipes"
	# two reports after all were open
	n0=$(wc -l <"$json")
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$json")" -ge $((n0 + 2)) ] && break
		sleep 0.1
	done
	held=$(wc -l <"$json")
	[ "$held" -ge $((n0 + 2)) ] || fail "no reports while the pipes were held"
	kill -USR1 "$kp"
	wait_for "$kout" "^closed" 100 || fail "kpipes did not close its pipes"
	# dentries and inodes go after an RCU grace period
	sleep 2
	stop_ht
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		/usr/bin/python3 - "$ROOT/user/report.schema.json" "$json" $((held - 1)) <<'PY' || fail "JSON schema check failed"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
for line in (lines[int(sys.argv[3])], lines[-1]):
    r = json.loads(line)
    jsonschema.validate(r, schema)
    assert r["mode"] == "kernel" and r["pid"] == 0 and r["comm"] == "kernel", r["mode"]
PY
	fi
	kpipe_sums "$json" $((held - 1)) >"$TMPD/held"
	kpipe_sums "$json" -1 >"$TMPD/final"
	grep -q bad-top "$TMPD/held" "$TMPD/final" &&
		fail "a stack starts with the tracing machinery: $(grep -h bad-top "$TMPD"/held "$TMPD"/final | head -1)"
	echo "while held: $(tr '\n' ' ' <"$TMPD/held")"
	echo "after release: $(tr '\n' ' ' <"$TMPD/final")"
	# while held: alloc_pipe_info's two kmallocs per pipe, at least the
	# sizes asked for (the slab rounds up); an inode and two files a pipe
	read -r _ pn pb <<<"$(grep '^pipe_info ' "$TMPD/held")"
	read -r _ in ib <<<"$(grep '^inode ' "$TMPD/held")"
	read -r _ fn fb <<<"$(grep '^file ' "$TMPD/held")"
	[ "$pn" -ge $((2 * NPIPES)) ] ||
		fail "alloc_pipe_info: $pn objects outstanding, expected >= $((2 * NPIPES))"
	[ "$pb" -ge $((NPIPES * (info + 16 * buf))) ] ||
		fail "alloc_pipe_info: $pb bytes outstanding, expected >= $((NPIPES * (info + 16 * buf)))"
	[ "$in" -ge "$NPIPES" ] || fail "alloc_inode: $in objects, expected >= $NPIPES"
	[ "$fn" -ge $((2 * NPIPES)) ] ||
		fail "alloc_empty_file: $fn objects, expected >= $((2 * NPIPES))"
	# new slabs for 2000 inodes and 4000 files at least: their pages
	# kept apart (they were counted twice, as pages and as objects)
	read -r _ sn sb <<<"$(grep '^slab ' "$TMPD/held")"
	[ "$sb" -ge $((NPIPES * 3 * 256)) ] ||
		fail "slab pages while held: $sb bytes in $sn allocations"
	grep -q '^slab-in-pages 0$' "$TMPD/held" && grep -q '^slab-in-pages 0$' "$TMPD/final" ||
		fail "pages stacks through allocate_slab: $(grep -h '^slab-in-pages' "$TMPD"/held "$TMPD"/final)"
	# after release: each drops by what the pipes held (other
	# processes' pipes come and go meanwhile: 5% slack)
	read -r _ qn qb <<<"$(grep '^pipe_info ' "$TMPD/final")"
	read -r _ jn jb <<<"$(grep '^inode ' "$TMPD/final")"
	read -r _ gn gb <<<"$(grep '^file ' "$TMPD/final")"
	[ $((pn - qn)) -ge $((2 * NPIPES * 95 / 100)) ] ||
		fail "alloc_pipe_info: $pn -> $qn objects after release"
	[ $((pb - qb)) -ge $((NPIPES * (info + 16 * buf) * 95 / 100)) ] ||
		fail "alloc_pipe_info: $pb -> $qb bytes after release"
	[ $((in - jn)) -ge $((NPIPES * 95 / 100)) ] ||
		fail "alloc_inode: $in -> $jn objects after release"
	[ $((fn - gn)) -ge $((2 * NPIPES * 95 / 100)) ] ||
		fail "alloc_empty_file: $fn -> $gn objects after release"
}

# The text report names the functions; folded and pprof carry the same
# stacks, read back by go tool pprof.
test_kernel_outputs() {
	local kout=$TMPD/kpipes.out
	"$KPIPES" "$NPIPES" >"$kout" 2>&1 &
	EXTRA_PIDS+=($!)
	local kp=$!
	run_kernel -n 100000 -f "$TMPD/k.folded" --pprof "$TMPD/k.pb.gz"
	kill -USR1 "$kp"
	wait_for "$kout" "^closed" 100 || fail "kpipes did not close its pipes"
	# the six kmem programs heaptrail holds (by program and by link
	# descriptors), gone once it exits
	local id ids
	mapfile -t ids < <(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$HPID"/fdinfo/* 2>/dev/null | sort -u)
	[ "${#ids[@]}" = 6 ] || fail "heaptrail holds ${#ids[@]} BPF programs, expected 6"
	stop_ht
	# the kernel frees a released program after a grace period, from
	# a work queue: give it up to 3 s
	local i
	for id in "${ids[@]}"; do
		for ((i = 0; i < 30; i++)); do
			bpftool prog show id "$id" >/dev/null 2>&1 || break
			sleep 0.1
		done
		[ "$i" -lt 30 ] ||
			fail "BPF program $id still loaded 3 s after heaptrail exited"
	done
	[ "$HRC" = 0 ] || fail "heaptrail exited $HRC"
	grep -q '^heaptrail: kernel, ' "$HOUT" || fail "no kernel header"
	grep -q "^mode: kernel (.*; the slab's own pages apart)$" "$HOUT" ||
		fail "mode line: $(grep '^mode' "$HOUT")"
	# the pages the slab allocator takes hold the objects above: apart,
	# never a pages stack through allocate_slab (slab memory counted
	# twice before)
	grep -qE "^slab pages: [0-9]+ bytes \(.*\) in [0-9]+ allocations? \(the slab's own, holding objects: not in outstanding\)$" "$HOUT" ||
		fail "slab pages line: $(grep '^slab pages' "$HOUT")"
	grep -qE 'allocate_slab.*\[pages\] [0-9]+$' "$TMPD/k.folded" &&
		fail "a pages stack through allocate_slab: $(grep -E 'allocate_slab.*\[pages\] [0-9]+$' "$TMPD/k.folded" | head -1 | cut -c1-200)"
	grep -qE '^outstanding: [0-9]+ bytes .* = kmalloc [0-9]+ in [0-9]+ objects? \+ kmem_cache [0-9]+ in [0-9]+ objects? \+ pages [0-9]+ in [0-9]+ allocations?$' "$HOUT" ||
		fail "no outstanding line: $(grep '^outstanding' "$HOUT")"
	# the pipes were opened before attach and freed while traced:
	# frees of memory not seen allocated
	grep -qE '^ignored: [1-9][0-9]* frees of memory not seen allocated' "$HOUT" ||
		fail "no unseen frees: $(grep '^ignored' "$HOUT")"
	grep -qE '^        (__kmalloc|kmem_cache_alloc)[a-z_]*\+0x[0-9a-f]+ \(kernel\)$' "$HOUT" ||
		fail "no allocator frame named from kallsyms"
	grep -qE '\[(kmalloc|kmem_cache|pages)\] [0-9]+$' "$TMPD/k.folded" ||
		fail "no kernel kinds in the folded file"
	awk '{ s += $NF } END { print s }' "$TMPD/k.folded" >"$TMPD/fsum"
	grep -q "^outstanding: $(cat "$TMPD/fsum") bytes" "$HOUT" ||
		fail "folded lines sum to $(cat "$TMPD/fsum"), not the report's outstanding"
	go tool pprof -top -nodefraction=0 -sample_index=alloc_space \
		"$TMPD/k.pb.gz" >"$TMPD/top" 2>&1 || fail "go tool pprof: $(head -3 "$TMPD/top")"
	grep -q 'do_syscall_64' "$TMPD/top" || fail "pprof has no kernel functions: $(head -12 "$TMPD/top")"
	grep -q 'mode: kernel' <(go tool pprof -raw "$TMPD/k.pb.gz" 2>&1) ||
		fail "pprof comments do not say kernel mode"
}

test_kernel_bad_options() {
	local o rc
	for o in "-p 1" "--sample 4096" "--faults" "--ages" "--min-age 1" \
		"--unwind fp" "--libc /lib/x86_64-linux-gnu/libc.so.6" \
		"--no-uprobe-multi" "--keep-running" "--max-mappings 10"; do
		# shellcheck disable=SC2086
		timeout 30 "$HT" --kernel $o >"$HOUT" 2>"$HERR"
		rc=$?
		[ $rc = 2 ] || fail "--kernel $o: exit $rc"
		[ "$(wc -l <"$HERR")" = 1 ] || fail "--kernel $o: $(wc -l <"$HERR") lines"
		grep -qE "^heaptrail: ${o%% *} traces a process: not with --kernel" "$HERR" ||
			fail "--kernel $o said: $(cat "$HERR")"
	done
	timeout 30 "$HT" --kernel -- true >"$HOUT" 2>"$HERR"
	rc=$?
	[ $rc = 2 ] || fail "--kernel -- true: exit $rc"
	grep -q "^heaptrail: --kernel traces the kernel: no COMMAND" "$HERR" ||
		fail "--kernel -- true said: $(cat "$HERR")"
}

# Files per report in a directory are named for the kernel, not a PID.
test_kernel_output_dir() {
	local d=$TMPD/prof
	timeout 60 "$HT" --kernel -d 1 -n 1 -f "$d/" --pprof "$d/" >"$HOUT" 2>"$HERR" ||
		fail "heaptrail --kernel exited $?"
	ls "$d" >"$TMPD/ls"
	grep -qE '^heaptrail-kernel-[0-9]{8}-[0-9]{6}\.[0-9]{3}\.folded$' "$TMPD/ls" ||
		fail "folded file named: $(cat "$TMPD/ls")"
	grep -qE '^heaptrail-kernel-[0-9]{8}-[0-9]{6}\.[0-9]{3}\.pb\.gz$' "$TMPD/ls" ||
		fail "pprof file named: $(cat "$TMPD/ls")"
}
