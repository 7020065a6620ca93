/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_AGGSYNC_H
#define HT_AGGSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyidx.h"
#include "profile.h"

/*
 * The loader's copy of the BPF per-stack aggregates, brought up to date
 * by reading only the stacks the BPF side queued as changed (the
 * "changed" ring), so that the once-a-second sample costs what changed,
 * not what is live. A full read is made at first, when the ring
 * overflowed, and when most stacks changed (batches are cheaper then).
 */
struct agg_change {
	struct ht_agg_key key;
	struct ht_agg old, now;	/* old: zeros for a stack new to the copy */
};

struct aggsync {
	int aggs_fd;
	struct ring_buffer *rb;
	volatile uint32_t *gen;		/* the BPF agg_gen, mmapped */
	volatile uint32_t *lost;	/* the BPF changes_lost, mmapped */
	struct ht_agg *v;		/* the copy, in order of discovery */
	size_t n, cap;
	struct keyidx idx;		/* key -> position in v */
	struct ht_agg_key *dirty;	/* keys drained this round */
	size_t ndirty, dcap;
	struct agg_change *chg;		/* what the last update changed */
	size_t nchg, ccap;
	struct prof_totals heap, mmap, brk, faults;
	struct prof_totals arena;	/* the allocator's own mappings */
	bool primed;
	uint64_t full_reads, key_reads;	/* for tests and curiosity */
};

/* The size of the change ring for max_stacks stacks (the BPF map's). */
unsigned long aggsync_ring_size(unsigned long max_stacks);
int aggsync_init(struct aggsync *s, int aggs_fd, int ring_fd,
		 volatile uint32_t *gen, volatile uint32_t *lost);
/* Read what changed; s->chg/s->nchg list it until the next update. */
int aggsync_update(struct aggsync *s);
/* key's aggregate in the copy, or NULL. */
const struct ht_agg *aggsync_get(const struct aggsync *s,
				 const struct ht_agg_key *k);
/*
 * p from the copy: the stacks holding something, totals and now_ms; no
 * frames, counters or order yet (see profile_finish).
 */
int aggsync_profile(const struct aggsync *s, uint64_t now_ms,
		    struct profile *p);
/*
 * Self-check (heaptrail -v, at exit): read every aggregate afresh and
 * count the stacks whose copy differs. 0 when the copy is exact and
 * nothing changed since the last update.
 */
long aggsync_stale(struct aggsync *s);
/*
 * Forget the keys whose stack gone() says the loader deleted (reclaim):
 * the totals keep what they allocated and freed; a key made again later
 * starts from zero. 0 or -ENOMEM.
 */
int aggsync_forget(struct aggsync *s, bool (*gone)(void *ctx, uint64_t stack),
		   void *ctx);
/*
 * --follow-forks: process slot ended and the BPF side's entries of it
 * were dropped: zero them in the copy too (listed in s->chg as changes).
 */
int aggsync_forget_proc(struct aggsync *s, uint32_t slot);
void aggsync_free(struct aggsync *s);

#endif
