/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TRENDFEED_H
#define HT_TRENDFEED_H

#include <stddef.h>
#include <stdint.h>

#include "aggsync.h"
#include "trend.h"

/*
 * The stacks changed since the last trend point, gathered from every
 * aggsync update in between, so that a point costs what changed.
 */
struct trend_feed {
	struct ht_agg_key *pending;
	size_t n, cap;
	uint64_t last_ms;	/* the last point's time; 0: none yet */
};

/* a's changes from position from on (its last update, or part of it). */
int trend_feed_take(struct trend_feed *f, const struct aggsync *a,
		    size_t from);
/*
 * A trend point at now_ms from a's copy, unless the last one is closer
 * than min_gap_ms: reports and ticks both sample, and two points at one
 * instant flatten the recent slope.
 */
int trend_feed_point(struct trend_feed *f, struct trend *t,
		     const struct aggsync *a, uint64_t now_ms,
		     uint64_t min_gap_ms);
/* After an exec: the next point starts a new history. */
void trend_feed_reset(struct trend_feed *f);
void trend_feed_free(struct trend_feed *f);

#endif
