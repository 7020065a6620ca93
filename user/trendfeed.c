// SPDX-License-Identifier: GPL-2.0
/*
 * From the aggregates' changes to the growth history: process and kernel
 * runs feed their trend alike.
 */
#include <errno.h>
#include <stdlib.h>

#include "trendfeed.h"
#include "util.h"

int trend_feed_take(struct trend_feed *f, const struct aggsync *a,
		    size_t from)
{
	size_t i;

	for (i = from; i < a->nchg; i++) {
		if (grow(&f->pending, f->n, &f->cap, sizeof(*f->pending)))
			return -ENOMEM;
		f->pending[f->n++] = a->chg[i].key;
	}
	return 0;
}

int trend_feed_point(struct trend_feed *f, struct trend *t,
		     const struct aggsync *a, uint64_t now_ms,
		     uint64_t min_gap_ms)
{
	size_t i;
	int err;

	if (f->last_ms && now_ms - f->last_ms < min_gap_ms)
		return 0;
	err = trend_begin(t, now_ms);
	for (i = 0; !err && i < f->n; i++) {
		const struct ht_agg *v = aggsync_get(a, &f->pending[i]);

		if (!v)	/* reclaimed since */
			continue;
		err = trend_set(t, &f->pending[i],
				v->live_bytes > 0 || v->live_count > 0,
				v->live_bytes);
	}
	if (err)
		return err;
	f->n = 0;
	f->last_ms = now_ms;
	return 0;
}

void trend_feed_reset(struct trend_feed *f)
{
	f->n = 0;
}

void trend_feed_free(struct trend_feed *f)
{
	free(f->pending);
	*f = (struct trend_feed){ 0 };
}
