/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TREND_H
#define HT_TREND_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/*
 * Each stack's outstanding bytes over time, sampled about once a second,
 * to tell a leak (sustained growth, old allocations) from a big but
 * stable cache or pool.
 */
struct trend_point {
	uint64_t t_ms;
	int64_t bytes;
};

struct trend_series {
	struct ht_agg_key key;
	struct trend_point *pts;
	size_t n, cap;
};

struct trend {
	struct trend_series *v;	/* sorted by key */
	size_t n, cap;
};

enum leak_confidence { LEAK_LOW = 1, LEAK_MEDIUM, LEAK_HIGH };

struct leak_suspect {
	struct ht_agg_key key;
	double rate;		/* bytes per minute, least-squares slope */
	double r2;		/* how well a straight line fits */
	double growing;		/* share of intervals that grew */
	double recent_rate;	/* slope over the last third */
	double span_s;
	size_t samples;
	int64_t growth;		/* bytes, last sample minus first */
	double avg_age_s;	/* of its live allocations, -1 if unknown */
	enum leak_confidence confidence;
	double score;
};

/* Record one sample of every stack in p (absent stacks: 0 bytes). */
int trend_add(struct trend *t, const struct profile *p);
/*
 * Stacks that look like leaks, most likely first. p (the current profile)
 * gives each stack's average live age: a leak's allocations stay and grow
 * old, a cache's or a pool's are replaced and stay young.
 */
int trend_suspects(const struct trend *t, const struct profile *p,
		   struct leak_suspect **out, size_t *n);
const char *leak_confidence_name(enum leak_confidence c);
void trend_free(struct trend *t);

#endif
