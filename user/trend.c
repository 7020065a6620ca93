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

/* A cohort's next time; past MAX_POINTS, every other time is dropped. */
static int push_time(struct trend_cohort *c, uint64_t t_ms)
{
	if (c->n == MAX_POINTS) {
		size_t i;

		for (i = 0; i < MAX_POINTS / 2; i++)
			c->t[i] = c->t[2 * i + 1];
		c->n = MAX_POINTS / 2;
	}
	if (grow(&c->t, c->n, &c->cap, sizeof(*c->t)))
		return -ENOMEM;
	c->t[c->n++] = t_ms;
	return 0;
}

int trend_begin(struct trend *t, uint64_t now_ms)
{
	size_t i;
	int err;

	for (i = 0; i < t->nc; i++)
		if ((err = push_time(&t->c[i], now_ms)))
			return err;
	if (!t->samples)
		t->first_ms = now_ms;
	t->prev_ms = t->now_ms;
	t->now_ms = now_ms;
	t->samples++;
	return 0;
}

/* The cohort of series born in this sample, made on the first birth. */
static long cohort_now(struct trend *t)
{
	struct trend_cohort *c;

	if (t->nc && t->cohort_sample == t->samples)
		return t->nc - 1;
	if (grow(&t->c, t->nc, &t->ccap, sizeof(*t->c)))
		return -ENOMEM;
	c = &t->c[t->nc];
	memset(c, 0, sizeof(*c));
	/* a stack new to the run held nothing at the last sample */
	if ((t->prev_ms && push_time(c, t->prev_ms)) || push_time(c, t->now_ms)) {
		free(c->t);
		return -ENOMEM;
	}
	t->cohort_sample = t->samples;
	return t->nc++;
}

/*
 * Value of s at time T: its last change at or before T, 0 before its
 * first. chg walks forward over ascending T.
 */
static int64_t value_at(const struct trend_series *s, uint64_t T, size_t *chg)
{
	while (*chg < s->n && s->chg[*chg].t_ms <= T)
		(*chg)++;
	return *chg ? s->chg[*chg - 1].bytes : 0;
}

/*
 * Drop the changes that no kept time of the cohort needs any more: the
 * cohort only ever drops times, so they are never needed again.
 */
static void compact(struct trend_series *s, const struct trend_cohort *c)
{
	size_t i, j = 0, k = 0;

	for (i = 0; i < c->n; i++) {
		value_at(s, c->t[i], &j);
		if (j && (!k || s->chg[k - 1].t_ms != s->chg[j - 1].t_ms))
			s->chg[k++] = s->chg[j - 1];
	}
	s->n = k;
}

static int push_change(struct trend *t, struct trend_series *s, int64_t bytes)
{
	if (s->n && s->chg[s->n - 1].t_ms == t->now_ms) {
		s->chg[s->n - 1].bytes = bytes;	/* set twice in one sample */
	} else {
		if (s->n >= 2 * MAX_POINTS)
			compact(s, &t->c[s->cohort]);
		if (grow(&s->chg, s->n, &s->cap, sizeof(*s->chg)))
			return -ENOMEM;
		s->chg[s->n++] = (struct trend_point){ t->now_ms, bytes };
	}
	s->last = bytes;
	return 0;
}

int trend_set(struct trend *t, const struct ht_agg_key *k, bool held,
	      int64_t bytes)
{
	long i = keyidx_find(&t->idx, k), c;
	struct trend_series *s;

	if (!held)
		bytes = 0;
	if (i >= 0) {
		s = &t->v[i];
		return s->last == bytes ? 0 : push_change(t, s, bytes);
	}
	if (!held)
		return 0;	/* a series starts with something held */
	c = cohort_now(t);
	if (c < 0)
		return c;
	if (grow(&t->v, t->n, &t->cap, sizeof(*t->v)) ||
	    keyidx_put(&t->idx, k, t->n))
		return -ENOMEM;
	s = &t->v[t->n++];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->cohort = c;
	return push_change(t, s, bytes);
}

int trend_forget(struct trend *t, bool (*gone)(void *ctx, uint64_t stack),
		 void *ctx)
{
	long *map = malloc((t->nc + 1) * sizeof(*map));
	size_t i, j = 0, nc = 0;
	bool last_kept;

	if (!map)
		return -ENOMEM;
	for (i = 0; i < t->nc; i++)
		map[i] = -1;
	for (i = 0; i < t->n; i++) {
		if (gone(ctx, t->v[i].key.stack)) {
			free(t->v[i].chg);
			continue;
		}
		map[t->v[i].cohort] = 0;
		t->v[j++] = t->v[i];
	}
	if (j == t->n) {
		free(map);
		return 0;
	}
	t->n = j;
	last_kept = t->nc && map[t->nc - 1] == 0;
	for (i = 0; i < t->nc; i++) {
		if (map[i] < 0) {
			free(t->c[i].t);
			continue;
		}
		map[i] = nc;
		t->c[nc++] = t->c[i];
	}
	t->nc = nc;
	for (i = 0; i < t->n; i++)
		t->v[i].cohort = map[t->v[i].cohort];
	free(map);
	/* a birth later in this sample must not join a dropped cohort */
	if (!last_kept)
		t->cohort_sample = 0;
	keyidx_free(&t->idx);
	if (t->n && keyidx_reserve(&t->idx, t->n))
		return -ENOMEM;
	for (i = 0; i < t->n; i++)
		if (keyidx_put(&t->idx, &t->v[i].key, i))
			return -ENOMEM;
	return 0;
}

size_t trend_points(const struct trend *t, size_t i, struct trend_point *out)
{
	const struct trend_series *s = &t->v[i];
	const struct trend_cohort *c = &t->c[s->cohort];
	size_t j, chg = 0;

	for (j = 0; j < c->n; j++) {
		out[j].t_ms = c->t[j];
		out[j].bytes = value_at(s, c->t[j], &chg);
	}
	return c->n;
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

static int cmp_suspect_key(const void *a, const void *b)
{
	return cmp_key(&((const struct leak_suspect *)a)->key,
		       &((const struct leak_suspect *)b)->key);
}

static int cmp_score(const void *a, const void *b)
{
	const struct leak_suspect *x = a, *y = b;

	return (x->score < y->score) - (x->score > y->score);
}

static bool judge(const struct trend *t, size_t si, struct leak_suspect *out)
{
	const struct trend_series *ser = &t->v[si];
	struct trend_point p[MAX_POINTS];
	size_t i, n, up = 0, steps = 0, third;
	double slope, r2, rslope, rr2;

	/* one value over all its kept times: flat, no need to look */
	if (ser->n == 1 && ser->chg[0].t_ms <= t->c[ser->cohort].t[0])
		return false;
	n = trend_points(t, si, p);
	if (n < MIN_POINTS || p[n - 1].t_ms - p[0].t_ms < MIN_SPAN_MS)
		return false;
	for (i = 1; i < n; i++) {
		if (p[i].bytes == p[i - 1].bytes)
			continue;
		steps++;
		up += p[i].bytes > p[i - 1].bytes;
	}
	fit(p, 0, n, &slope, &r2);
	third = n - n / 3;
	if (third > n - 2)
		third = n - 2;
	fit(p, third, n, &rslope, &rr2);
	/* sustained: still growing lately, at a good part of the overall
	 * pace; a filled cache has a flat last third */
	if (slope <= 0 || rslope < slope * 0.3 || !steps || up * 10 < steps * 6)
		return false;
	memset(out, 0, sizeof(*out));
	out->key = ser->key;
	out->reason = LEAK_GROWTH;
	out->rate = slope * 60000.0;
	out->recent_rate = rslope * 60000.0;
	out->r2 = r2;
	out->growing = (double)up / steps;
	out->samples = n;
	out->span_s = (p[n - 1].t_ms - p[0].t_ms) / 1000.0;
	out->growth = p[n - 1].bytes - p[0].bytes;
	if (r2 >= 0.9 && out->growing >= 0.9 && n >= 8)
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
static void weigh_age(struct leak_suspect *l, const struct profile *p,
		      const struct keyidx *ix)
{
	long i = keyidx_find(ix, &l->key);
	double age = -1, factor;

	if (i >= 0 && p->v[i].agg.live_count > 0)
		age = (p->now_ms - (double)p->v[i].agg.ts_sum_ms /
					   p->v[i].agg.live_count) / 1000.0;
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

/*
 * The postmortem signal that outlives growth: a stack that allocated
 * many times since attach and never freed, in a program that freed most
 * of what it allocated elsewhere. Were its allocations as likely to be
 * freed as the others, all n staying has the chance (1 - q)^n. Only
 * allocations old enough to have been freed count: young ones may be
 * in use.
 */
#define NEVER_FREED_MIN_ALLOCS 8
#define NEVER_FREED_MIN_AGE_S 1.0

static bool is_heap(uint32_t kind)
{
	return kind != HT_MMAP && kind != HT_BRK && kind != HT_FAULT;
}

static size_t never_freed(const struct profile *p, uint64_t span_ms,
			  const struct keyidx *sus, struct leak_suspect *v,
			  size_t *nv, size_t cap)
{
	/* the totals: p lists only stacks that hold something */
	uint64_t allocs = p->heap.alloc_count, frees = p->heap.free_count;
	size_t i, stacks = 0;
	for (i = 0; i < p->n; i++) {
		const struct prof_entry *e = &p->v[i];
		uint64_t n = e->agg.alloc_count;
		uint64_t others = allocs > n ? allocs - n : 0;
		double q, chance, age, min_s = span_ms / 1000.0;
		struct leak_suspect *l;

		if (!is_heap(e->key.kind) || !n || e->agg.free_count)
			continue;
		stacks++;
		if (n < NEVER_FREED_MIN_ALLOCS || !others || *nv >= cap ||
		    keyidx_find(sus, &e->key) >= 0)
			continue;
		q = (double)frees / others;
		if (q > 1)
			q = 1;
		chance = pow(1 - q, (double)n);
		age = e->agg.live_count > 0 ?
			(p->now_ms - (double)e->agg.ts_sum_ms / e->agg.live_count) / 1000.0 : 0;
		if (chance >= 0.05 || age < NEVER_FREED_MIN_AGE_S)
			continue;
		l = &v[(*nv)++];
		memset(l, 0, sizeof(*l));
		l->key = e->key;
		l->reason = LEAK_NEVER_FREED;
		l->allocs = n;
		l->others_freed = q;
		l->chance = chance;
		l->avg_age_s = age;
		l->span_s = min_s;
		l->growth = e->agg.live_bytes;
		l->rate = min_s > 0 ? e->agg.live_bytes / (min_s / 60) : 0;
		l->confidence = chance < 1e-3 && n >= 20 ? LEAK_HIGH : LEAK_MEDIUM;
		/* below a growing leak of the same pace: growth is the
		 * stronger evidence while it lasts */
		l->score = l->rate * (1 - chance) * 0.5;
	}
	return stacks;
}

int trend_suspects(const struct trend *t, const struct profile *p,
		   struct leak_suspect **out, size_t *n, struct leak_scan *scan)
{
	size_t cap = t->n + (p ? p->n : 0);
	struct leak_suspect *v = calloc(cap ? cap : 1, sizeof(*v));
	struct keyidx sus = {};	/* growth suspects' keys */
	struct keyidx ix = {};	/* p's entries by key, for their ages */
	size_t i, k = 0;
	int err = v ? 0 : -ENOMEM;

	for (i = 0; !err && p && i < p->n; i++)
		err = keyidx_put(&ix, &p->v[i].key, i);
	if (err) {
		free(v);
		keyidx_free(&ix);
		return err;
	}
	for (i = 0; i < t->n; i++)
		if (judge(t, i, &v[k]))
			weigh_age(&v[k++], p, &ix);
	keyidx_free(&ix);
	memset(scan, 0, sizeof(*scan));
	scan->span_s = t->samples ? (t->now_ms - t->first_ms) / 1000.0 : 0;
	scan->too_short = t->samples < MIN_POINTS ||
			  scan->span_s * 1000 < MIN_SPAN_MS;
	for (i = 0; !err && i < k; i++)
		err = keyidx_put(&sus, &v[i].key, i);
	if (!err && p) {
		size_t from = k;

		scan->never_freed = never_freed(p, t->now_ms - t->first_ms,
						&sus, v, &k, cap);
		for (i = from; i < k; i++)
			v[i].samples = t->samples;
	}
	keyidx_free(&sus);
	if (err) {
		free(v);
		return err;
	}
	/* series are kept in order of birth: rank ties in key order */
	sort_array(v, k, sizeof(*v), cmp_suspect_key);
	sort_array(v, k, sizeof(*v), cmp_score);
	*out = v;
	*n = k;
	return 0;
}

const char *leak_reason_name(enum leak_reason r)
{
	return r == LEAK_NEVER_FREED ? "never_freed" : "growth";
}

const char *leak_confidence_name(enum leak_confidence c)
{
	return c == LEAK_HIGH ? "high" : c == LEAK_MEDIUM ? "medium" : "low";
}

void trend_free(struct trend *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].chg);
	for (i = 0; i < t->nc; i++)
		free(t->c[i].t);
	free(t->v);
	free(t->c);
	keyidx_free(&t->idx);
	memset(t, 0, sizeof(*t));
}
