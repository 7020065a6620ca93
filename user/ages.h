/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_AGES_H
#define HT_AGES_H

#include <stdint.h>

#include "profile.h"

/* Age buckets: < 1 s, 10 s, 1 min, 10 min, 1 h, and older. */
#define AGE_BUCKETS 6

struct age_row {
	uint64_t oldest_ms;	/* age of the oldest live allocation */
	uint64_t hist[AGE_BUCKETS];
};

extern const char *const age_bucket_names[AGE_BUCKETS];

/*
 * Walk every live allocation and mapping: per stack of p, the oldest age
 * and an age histogram (rows[i] for p->v[i]). With min_age_ms, p keeps
 * only what is at least that old: live bytes, counts and totals are
 * recomputed, and emptied stacks dropped. This is the one report path
 * that reads each live allocation, so it runs only when asked for.
 */
int ages_collect(int allocs_fd, int maps_fd, struct profile *p,
		 uint64_t min_age_ms, struct age_row **rows);

#endif
