// SPDX-License-Identifier: GPL-2.0
/*
 * Leak ranking. A leak keeps growing for the whole run; a cache or pool
 * grows while it fills and then stays flat; churn goes up and down. So a
 * stack is suspected when a line fits its growth (slope, R²), most of its
 * intervals grew, and it still grows in the last third of the run.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trend.h"
#include "util.h"

#define MAX_POINTS 128	/* then every other point is dropped */
#define MIN_POINTS 4
#define MIN_SPAN_MS 2500

static int cmp_key(const struct ht_agg_key *a, const struct ht_agg_key *b)
{
	if (a->stack != b->stack)
		return a->stack < b->stack ? -1 : 1;
	return (a->kind > b->kind) - (a->kind < b->kind);
}

static int cmp_series(const void *a, const void *b)
{
	return cmp_key(&((const struct trend_series *)a)->key,
		       &((const struct trend_series *)b)->key);
}

/* Search the first n series, which are sorted. */
static struct trend_series *find(const struct trend *t, size_t n,
				 const struct ht_agg_key *k)
{
	struct trend_series probe = { .key = *k };

	return n ? bsearch(&probe, t->v, n, sizeof(*t->v), cmp_series) : NULL;
}

static int push(struct trend_series *s, uint64_t t_ms, int64_t bytes)
{
	if (s->n == MAX_POINTS) {
		size_t i;

		for (i = 0; i < MAX_POINTS / 2; i++)
			s->pts[i] = s->pts[2 * i + 1];
		s->n = MAX_POINTS / 2;
	}
	if (grow(&s->pts, s->n, &s->cap, sizeof(*s->pts)))
		return -ENOMEM;
	s->pts[s->n++] = (struct trend_point){ t_ms, bytes };
	return 0;
}

int trend_add(struct trend *t, const struct profile *p)
{
	uint64_t prev_t = t->n && t->v[0].n ? t->v[0].pts[t->v[0].n - 1].t_ms : 0;
	size_t i, old = t->n;
	int64_t *now;
	int err = 0;

	for (i = 0; i < p->n; i++) {
		/* keys are unique within p: only the old ones need a search */
		if (find(t, old, &p->v[i].key))
			continue;
		if (grow(&t->v, t->n, &t->cap, sizeof(*t->v)))
			return -ENOMEM;
		memset(&t->v[t->n], 0, sizeof(t->v[0]));
		t->v[t->n].key = p->v[i].key;
		/* a stack new to the run held nothing at the last sample */
		if (prev_t && (err = push(&t->v[t->n], prev_t, 0)))
			return err;
		t->n++;
	}
	if (t->n > old)
		qsort(t->v, t->n, sizeof(*t->v), cmp_series);
	now = calloc(t->n ? t->n : 1, sizeof(*now));
	if (!now)
		return -ENOMEM;
	for (i = 0; i < p->n; i++)
		now[find(t, t->n, &p->v[i].key) - t->v] = p->v[i].agg.live_bytes;
	for (i = 0; i < t->n && !err; i++)
		err = push(&t->v[i], p->now_ms, now[i]);
	free(now);
	return err;
}

/* Least squares over pts[from..n): slope in bytes per ms, and R². */
static void fit(const struct trend_point *pts, size_t from, size_t n,
		double *slope, double *r2)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, m = n - from;
	double t0 = pts[from].t_ms, cov, vx, vy;
	size_t i;

	for (i = from; i < n; i++) {
		double x = pts[i].t_ms - t0, y = pts[i].bytes;

		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		syy += y * y;
	}
	cov = sxy - sx * sy / m;
	vx = sxx - sx * sx / m;
	vy = syy - sy * sy / m;
	*slope = vx > 0 ? cov / vx : 0;
	*r2 = vx > 0 && vy > 0 ? cov * cov / (vx * vy) : 0;
}

static int cmp_score(const void *a, const void *b)
{
	const struct leak_suspect *x = a, *y = b;

	return (x->score < y->score) - (x->score > y->score);
}

static bool judge(const struct trend_series *s, struct leak_suspect *out)
{
	const struct trend_point *p = s->pts;
	size_t i, up = 0, steps = 0, third;
	double slope, r2, rslope, rr2;

	if (s->n < MIN_POINTS || p[s->n - 1].t_ms - p[0].t_ms < MIN_SPAN_MS)
		return false;
	for (i = 1; i < s->n; i++) {
		if (p[i].bytes == p[i - 1].bytes)
			continue;
		steps++;
		up += p[i].bytes > p[i - 1].bytes;
	}
	fit(p, 0, s->n, &slope, &r2);
	third = s->n - s->n / 3;
	if (third > s->n - 2)
		third = s->n - 2;
	fit(p, third, s->n, &rslope, &rr2);
	/* sustained: still growing lately, at a good part of the overall
	 * pace; a filled cache has a flat last third */
	if (slope <= 0 || rslope < slope * 0.3 || !steps || up * 10 < steps * 6)
		return false;
	memset(out, 0, sizeof(*out));
	out->key = s->key;
	out->rate = slope * 60000.0;
	out->recent_rate = rslope * 60000.0;
	out->r2 = r2;
	out->growing = (double)up / steps;
	out->samples = s->n;
	out->span_s = (p[s->n - 1].t_ms - p[0].t_ms) / 1000.0;
	out->growth = p[s->n - 1].bytes - p[0].bytes;
	if (r2 >= 0.9 && out->growing >= 0.9 && s->n >= 8)
		out->confidence = LEAK_HIGH;
	else if (r2 >= 0.7 && out->growing >= 0.75)
		out->confidence = LEAK_MEDIUM;
	else
		out->confidence = LEAK_LOW;
	out->score = out->rate * r2 * out->growing;
	return true;
}

/*
 * Weigh a suspect by the age of what it holds. Allocations leaked at a
 * steady pace since attach are on average half the span old; ones that
 * are replaced as fast as they come are young. Young means less likely.
 */
static void weigh_age(struct leak_suspect *l, const struct profile *p)
{
	double age = -1, factor;
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		const struct prof_entry *e = &p->v[i];

		if (e->key.stack == l->key.stack && e->key.kind == l->key.kind &&
		    e->agg.live_count > 0) {
			age = (p->now_ms - (double)e->agg.ts_sum_ms /
						   e->agg.live_count) / 1000.0;
			break;
		}
	}
	l->avg_age_s = age;
	if (age < 0 || l->span_s <= 0)
		return;
	factor = age / (l->span_s / 4);
	if (factor > 1)
		factor = 1;
	l->score *= factor;
	if (factor < 0.5 && l->confidence > LEAK_LOW)
		l->confidence--;
}

int trend_suspects(const struct trend *t, const struct profile *p,
		   struct leak_suspect **out, size_t *n)
{
	struct leak_suspect *v = calloc(t->n ? t->n : 1, sizeof(*v));
	size_t i, k = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->n; i++)
		if (judge(&t->v[i], &v[k]))
			weigh_age(&v[k++], p);
	qsort(v, k, sizeof(*v), cmp_score);
	*out = v;
	*n = k;
	return 0;
}

const char *leak_confidence_name(enum leak_confidence c)
{
	return c == LEAK_HIGH ? "high" : c == LEAK_MEDIUM ? "medium" : "low";
}

void trend_free(struct trend *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].pts);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
