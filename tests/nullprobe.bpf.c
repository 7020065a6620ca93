// SPDX-License-Identifier: GPL-2.0
/*
 * For tests/bench.sh: a uprobe program that does nothing, so that
 * bpf_stats' own cost per run (two clock reads, large in a VM) can be
 * measured on the same functions heaptrail probes and taken out of
 * heaptrail's BPF time.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int nop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
