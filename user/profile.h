/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROFILE_H
#define HT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heaptrail.h"

/* One stack's totals, read from the BPF aggregates. */
struct prof_entry {
	struct ht_agg_key key;
	struct ht_agg agg;
	uint64_t *ips;		/* innermost first; NULL without frames */
	int nips;
};

struct prof_totals {
	int64_t live_bytes, live_count;
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
};

/* Everything a report, a folded file or a test needs, at one instant. */
struct proc_table;

struct profile {
	/* stacks with activity since attach, most outstanding bytes first:
	 * the first nlive hold something, the rest allocated and freed it
	 * all (pprof's alloc_space and alloc_objects count them) */
	struct prof_entry *v;
	size_t n, nlive;
	uint64_t *frames;	/* where ips point, if the profile owns them */
	struct pc_syms *syms;	/* frames by return address (stacksyms.c) */
	/* --follow-forks: the processes, by the slot in each key (names
	 * of another program's stacks, folded root frames); else NULL */
	const struct proc_table *procs;
	struct prof_totals heap, mmap, brk;
	struct prof_totals faults;	/* --faults: pages first written */
	/* mappings the allocator's own code made: not in the stacks */
	struct prof_totals arena;
	uint64_t counters[HT_NCOUNTERS];
	uint64_t now_ms;	/* CLOCK_MONOTONIC, as the BPF timestamps */
};

/* Counters read and entries sorted, for a profile built elsewhere. */
int profile_finish(struct profile *p, int counters_fd);
void profile_free(struct profile *p);
int64_t profile_total_bytes(const struct profile *p);
/* Sort p by live bytes, carrying a parallel array of elem-sized rows. */
int profile_sort(struct profile *p, void *rows, size_t elem);
const char *kind_name(uint32_t kind);
/*
 * The leaf frame of a kind in folded and pprof stacks: bracketed, a name
 * no function has (libc's mmap wrapper is often the frame above it).
 */
const char *kind_frame(uint32_t kind);
uint64_t monotonic_ms(void);

#endif
