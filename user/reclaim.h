/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_RECLAIM_H
#define HT_RECLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggsync.h"
#include "heaptrail.h"

struct heaptrail_bpf;

/* How full the BPF maps are, and what reclaim did: for every report. */
struct map_fill {
	bool known;			/* the kernel counts them (6.6+) */
	uint64_t n[HT_NFILLS];		/* elements, by enum ht_fill */
	uint64_t max[HT_NFILLS];	/* capacity */
	uint64_t reclaimed;		/* stacks deleted since attach */
	uint64_t kept;			/* listed, but used while deleted:
					 * put back */
	uint64_t passes;
};

/*
 * Reclaim: a stack that holds nothing any more (its aggregates have no
 * outstanding bytes or allocations, and did not change for two samples)
 * is deleted from the stack and aggregate maps, so that a long run with
 * ever new stacks never fills them with dead ones. The protocol with the
 * BPF side is described at "doomed" in bpf/heaptrail.bpf.c.
 */
struct reclaim {
	struct heaptrail_bpf *skel;
	int sync_fd, inner_fd;	/* an array of maps: each update of it
				 * waits for an RCU grace period */
	size_t batch;		/* stacks listed per pass at most */
	unsigned hold_ms;	/* tests: the phase stays open this long
				 * after the deletes (HEAPTRAIL_RECLAIM_HOLD_MS),
				 * so that probes meet deleted stacks */
	struct map_fill fill;
	uint64_t *gone;		/* sorted: the stacks the last pass deleted */
	size_t ngone, gcap;
	uint64_t *deleted;	/* sorted: stacks whose aggregates it deleted */
	size_t ndel, dcap;
};

/* Before the BPF object is loaded: size the reclaim maps. */
void reclaim_size(struct heaptrail_bpf *skel, unsigned long max_stacks);
int reclaim_init(struct reclaim *r, struct heaptrail_bpf *skel);
/* Read the fill levels into r->fill. */
int reclaim_read_fill(struct reclaim *r);
/* Is the stack or aggregate map at least half full? (reads the fill) */
bool reclaim_due(struct reclaim *r);
/*
 * One pass, right after aggsync_update(agg): deletes what can go and
 * drops it from agg; agg->chg then holds the changes a second update made
 * meanwhile. r->gone lists the stacks deleted for good (their history
 * must go too). 0 or a negative errno.
 */
int reclaim_pass(struct reclaim *r, struct aggsync *agg);
/* Was stack deleted by the last pass (a forget callback; ctx: r)? */
bool reclaim_gone(void *ctx, uint64_t stack);
void reclaim_free(struct reclaim *r);

#endif
