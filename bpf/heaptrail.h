/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by the BPF program and the userspace loader. */
#ifndef HEAPTRAIL_H
#define HEAPTRAIL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HT_MAX_FRAMES 64	/* user frames kept per stack */
#define HT_MAX_MODULES 64	/* modules with unwind tables */
#define HT_BSEARCH_STEPS 24	/* enough for 16M unwind rows */
#define HT_SAMPLE_DRAWS 1024	/* exponential quantiles for --sample */
#define HT_SAMPLE_STEPS 1024	/* weight table: sizes up to 16 x the rate */
#define HT_MAX_PROCS 1024	/* --follow-forks: processes traced per run */
/*
 * The live-allocation and mapping maps are keyed by address; with more
 * than one process traced, the process slot is in the bits above the
 * 47-bit user address space (0 for the target: keys as before).
 */
#define HT_SLOT_SHIFT 48
#define HT_ADDR_MASK ((1ULL << HT_SLOT_SHIFT) - 1)
#define HT_ALLOC_RANGES 16	/* address ranges of allocator code */

/* Code of the allocator in the target: [lo, hi) runtime addresses. */
struct ht_range {
	__u64 lo, hi;
};

/* What made an allocation; also the leaf frame of folded stacks. */
enum ht_kind {
	HT_NONE = 0,
	HT_MALLOC,
	HT_CALLOC,
	HT_REALLOC,
	HT_REALLOCARRAY,
	HT_POSIX_MEMALIGN,
	HT_ALIGNED_ALLOC,
	HT_MEMALIGN,
	HT_VALLOC,
	HT_PVALLOC,
	HT_FREE,
	HT_MMAP,	/* anonymous mmap/mremap made by the program itself */
	HT_BRK,		/* brk/sbrk heap growth made by the program itself */
	HT_FAULT,	/* --faults: an anonymous page first written */
	HT_KMALLOC,	/* --kernel: kmalloc (slab or large), kfree */
	HT_KMEM_CACHE,	/* --kernel: kmem_cache_alloc, kmem_cache_free */
	HT_PAGES,	/* --kernel: the page allocator, 4096 << order bytes */
	HT_ARENA,	/* a mapping the allocator's own code made (reserved) */
	HT_NKINDS,
};

/* Counters, one slot each in a per-CPU array: none of these may be silent. */
enum ht_counter {
	HT_C_DROP_ALLOC,	/* live-allocation map full */
	HT_C_DROP_STACK,	/* stack map full: counted under stack 0 */
	HT_C_DROP_AGG,		/* aggregate map full: under stack 0 too */
	HT_C_DROP_MAPPING,	/* mapping map full */
	HT_C_DROP_THREAD,	/* per-thread state map full */
	HT_C_UNKNOWN_FREE,	/* free of an address allocated before attach */
	HT_C_NESTED,		/* allocator call made inside another one */
	HT_C_TRUNCATED,		/* stack deeper than HT_MAX_FRAMES, or cut at
				 * code whose unwind rows are not loaded yet */
	HT_C_MISSED,		/* --kernel: tracepoint hits the kernel did not
				 * run a program for (recursion misses), read
				 * by the loader from the programs' info */
	HT_NCOUNTERS,
};

/* Hash maps whose fill level every report shows (bss map_fill). */
enum ht_fill {
	HT_F_STACKS,
	HT_F_AGGS,
	HT_F_ALLOCS,
	HT_F_MAPPINGS,
	HT_NFILLS,
};

/* A live heap allocation or a live mapping. */
struct ht_alloc {
	__u64 size;
	__u64 stack;		/* key into the stacks map */
	__u64 ts;		/* CLOCK_MONOTONIC ns */
	__u32 kind;
	__u32 weight;		/* --sample: allocations it stands for; 0 = 1 */
};

struct ht_agg_key {
	__u64 stack;
	__u32 kind;
	__u16 image;	/* the target's program: one more at each exec */
	__u16 proc;	/* --follow-forks: the process's slot; 0: the target */
};

/* Per-stack totals, kept up to date by the BPF side. */
struct ht_agg {
	__s64 live_bytes;
	__s64 live_count;
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
	__u64 ts_sum_ms;	/* sum of live allocations' birth times, ms */
	struct ht_agg_key key;	/* its own key: what the change ring carries */
	__u32 gen;		/* agg_gen at its last change (one ring record
				 * per changed stack per loader sample) */
	__u32 pad;
};

/*
 * What the loader must hear of at once: the target's forks and execs, and
 * new code (a file mapped executable: dlopen) whose unwind rows it loads.
 */
enum ht_event_type {
	HT_EV_FORK = 1,	/* pid: a child process, its own address space;
			 * --follow-forks: slot is its slot (0: not traced) */
	HT_EV_EXEC,	/* pid: the target, running a new program */
	HT_EV_CHILD_EXEC,	/* a followed child's new program: slot is
				 * its new slot, old the ended one */
	HT_EV_EXIT,	/* a followed child exited: slot is ended */
	HT_EV_MAP,	/* a file mapped executable: in the pending map */
};

struct ht_event {
	__u32 type;
	__u32 pid;	/* as heaptrail's PID namespace sees it */
	__u64 ts;	/* CLOCK_MONOTONIC ns */
	__u32 slot;
	__u32 old;
};

/* --follow-forks: a traced process (the target is slot 0). */
struct ht_proc {
	__u32 pid;	/* as heaptrail's PID namespace sees it */
	__u32 parent;	/* the slot of the process that forked it */
	__u64 begin_ns;	/* CLOCK_MONOTONIC: forked, or exec'd */
	__u64 end_ns;	/* exited or exec'd, 0 while it runs */
	__s32 exit_code;	/* wait status, once exited */
	__u32 execd;	/* 1: this slot ended at an exec, not an exit */
	__u32 foreign;	/* runs another program than the target's (exec'd):
			 * its own mappings, walked by frame pointers */
	__u32 joined;	/* --cgroup: found in it, not forked by a traced one */
	char comm[16];
};

struct ht_stack {
	__u64 ips[HT_MAX_FRAMES];	/* zero-terminated when shorter */
};

/*
 * The synthetic last frame of a stack cut where the walk met code mapped
 * since the loader last looked (its unwind rows, if it needs any, are not
 * loaded yet): no user address is this high. Reports show it as
 * "[no unwind rows]".
 */
#define HT_FRAME_NO_ROWS 0xffffffffffffff01ULL

/*
 * Code the target mapped (an executable file mapping, seen by the mmap
 * tracepoint) that the loader has not looked at yet, keyed by its start.
 * The loader deletes an entry once the mapping's rows, or its frame
 * pointer verdict, are in place.
 */
#define HT_MAX_PENDING 256

struct ht_pending {
	__u64 end;
	__u64 seq;	/* tells a remapping at the same start apart */
};

/* A module (mapped ELF file) whose unwind rows are loaded. */
struct ht_module {
	__u64 start;		/* runtime address range of its code */
	__u64 end;
	__u64 bias;		/* runtime address - ELF virtual address */
	__u32 row_off;		/* first row in the rows array */
	__u32 row_cnt;
};

enum ht_cfa_reg {
	HT_CFA_STOP = 0,	/* no rule we can follow: end of stack */
	HT_CFA_SP,
	HT_CFA_BP,
};

/* One row of the unwind table: valid from pc up to the next row's pc. */
struct ht_urow {
	__u32 pc;		/* ELF virtual address (low 32 bits) */
	__s16 cfa_off;
	__u8 cfa_reg;		/* enum ht_cfa_reg */
	__u8 bp_saved;		/* rbp was saved at CFA + bp_off */
	__s16 bp_off;
	__u16 pad;
};

#endif /* HEAPTRAIL_H */
