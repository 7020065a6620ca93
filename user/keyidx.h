/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_KEYIDX_H
#define HT_KEYIDX_H

#include <stddef.h>
#include <stdint.h>

#include "heaptrail.h"

/*
 * A hash index from aggregate keys (stack, kind) to positions in a
 * caller's array: the loader looks stacks up by key every second and per
 * live allocation, where a binary search would cost a log factor.
 */
struct keyidx_slot {
	struct ht_agg_key key;
	uint32_t idx1;		/* position + 1; 0: empty */
};

struct keyidx {
	struct keyidx_slot *s;
	size_t cap, n;		/* cap: a power of two, or 0 */
};

/* The position stored for k, or -1. */
long keyidx_find(const struct keyidx *h, const struct ht_agg_key *k);
/* Store (or replace) k's position: 0 or -ENOMEM. */
int keyidx_put(struct keyidx *h, const struct ht_agg_key *k, uint32_t idx);
/* Room for n keys without rehashing: 0 or -ENOMEM. */
int keyidx_reserve(struct keyidx *h, size_t n);
/*
 * After the caller zeroed the idx1 of slots to remove (or renumbered
 * others): hash what is left afresh. 0 or -ENOMEM.
 */
int keyidx_rebuild(struct keyidx *h);
void keyidx_free(struct keyidx *h);

#endif
