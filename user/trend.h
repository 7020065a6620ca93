/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TREND_H
#define HT_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyidx.h"
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

/*
 * Series born at the same sample share their sample times (thinned alike
 * as they grow), so that a sample costs one point per cohort, not one
 * per stack.
 */
struct trend_cohort {
	uint64_t *t;
	size_t n, cap;
};

/*
 * A stack's outstanding bytes as a step function: the value from each
 * change on. Its points are the cohort's times, valued by the changes.
 */
struct trend_series {
	struct ht_agg_key key;
	uint32_t cohort;
	struct trend_point *chg;	/* ascending t_ms */
	size_t n, cap;
	int64_t last;
};

struct trend {
	struct trend_series *v;	/* in order of birth */
	size_t n, cap;
	struct keyidx idx;	/* key -> series */
	struct trend_cohort *c;
	size_t nc, ccap;
	uint64_t first_ms;	/* the first sample */
	uint64_t now_ms, prev_ms;	/* this sample and the one before */
	uint64_t samples;
	uint64_t cohort_sample;	/* the sample of the newest cohort's birth */
};

enum leak_confidence { LEAK_LOW = 1, LEAK_MEDIUM, LEAK_HIGH };

/* Why a stack is suspected. */
enum leak_reason {
	LEAK_GROWTH,		/* its outstanding bytes kept growing */
	LEAK_NEVER_FREED,	/* none of its allocations since attach was
				 * freed, while the program freed elsewhere */
};

struct leak_suspect {
	struct ht_agg_key key;
	enum leak_reason reason;
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
	/* LEAK_NEVER_FREED: its allocations since attach (none freed), the
	 * share the program freed of its other allocations since attach,
	 * and the chance of none of them freed at that share */
	uint64_t allocs;
	double others_freed;
	double chance;
};

/* What the ranking could tell, for the report's header line. */
struct leak_scan {
	double span_s;		/* of the trend so far */
	bool too_short;		/* too few samples or seconds to rank growth */
	size_t never_freed;	/* stacks with allocations, none freed */
};

/*
 * A sample at now_ms: every stack keeps its last value unless set. Stacks
 * a profile leaves out (holding nothing) count 0 bytes.
 */
int trend_begin(struct trend *t, uint64_t now_ms);
/*
 * A changed stack's value in this sample. held: the stack holds
 * something (a live allocation, if of 0 bytes): its series starts.
 */
int trend_set(struct trend *t, const struct ht_agg_key *k, bool held,
	      int64_t bytes);
/* Series i's points, as if each sample had stored one: returns n. */
size_t trend_points(const struct trend *t, size_t i, struct trend_point *out);
/*
 * Stacks that look like leaks, most likely first. p (the current profile)
 * gives each stack's average live age: a leak's allocations stay and grow
 * old, a cache's or a pool's are replaced and stay young.
 */
int trend_suspects(const struct trend *t, const struct profile *p,
		   struct leak_suspect **out, size_t *n, struct leak_scan *scan);
/*
 * Drop the history of the stacks gone() says were reclaimed, and the
 * cohorts no series is left in. 0 or -ENOMEM.
 */
int trend_forget(struct trend *t, bool (*gone)(void *ctx, uint64_t stack),
		 void *ctx);
const char *leak_confidence_name(enum leak_confidence c);
const char *leak_reason_name(enum leak_reason r);
void trend_free(struct trend *t);

#endif
