// SPDX-License-Identifier: GPL-2.0
/* Open addressing with linear probing, at most half full. */
#include <errno.h>
#include <stdlib.h>

#include "keyidx.h"

static size_t hash(const struct ht_agg_key *k)
{
	uint64_t h = (k->stack ^ ((uint64_t)k->kind << 56) ^
		      ((uint64_t)k->proc << 40)) *
		     0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

static int same(const struct ht_agg_key *a, const struct ht_agg_key *b)
{
	return a->stack == b->stack && a->kind == b->kind &&
	       a->proc == b->proc;
}

long keyidx_find(const struct keyidx *h, const struct ht_agg_key *k)
{
	size_t m = h->cap - 1, i;

	if (!h->cap)
		return -1;
	for (i = hash(k) & m; h->s[i].idx1; i = (i + 1) & m)
		if (same(&h->s[i].key, k))
			return h->s[i].idx1 - 1;
	return -1;
}

static void insert(struct keyidx_slot *s, size_t cap,
		   const struct ht_agg_key *k, uint32_t idx1, size_t *n)
{
	size_t m = cap - 1, i;

	for (i = hash(k) & m; s[i].idx1; i = (i + 1) & m)
		if (same(&s[i].key, k)) {
			s[i].idx1 = idx1;
			return;
		}
	s[i].key = *k;
	s[i].idx1 = idx1;
	(*n)++;
}

int keyidx_reserve(struct keyidx *h, size_t n)
{
	struct keyidx_slot *s;
	size_t cap = h->cap ? h->cap : 64, i, cnt = 0;

	while (cap < 2 * n)
		cap *= 2;
	if (cap == h->cap)
		return 0;
	s = calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < h->cap; i++)
		if (h->s[i].idx1)
			insert(s, cap, &h->s[i].key, h->s[i].idx1, &cnt);
	free(h->s);
	h->s = s;
	h->cap = cap;
	return 0;
}

int keyidx_put(struct keyidx *h, const struct ht_agg_key *k, uint32_t idx)
{
	int err = keyidx_reserve(h, h->n + 1);

	if (err)
		return err;
	insert(h->s, h->cap, k, idx + 1, &h->n);
	return 0;
}

int keyidx_rebuild(struct keyidx *h)
{
	struct keyidx fresh = {};
	size_t i, n = 0;

	for (i = 0; i < h->cap; i++)
		n += !!h->s[i].idx1;
	if (n && keyidx_reserve(&fresh, n))
		return -ENOMEM;
	for (i = 0; i < h->cap; i++)
		if (h->s[i].idx1)
			insert(fresh.s, fresh.cap, &h->s[i].key, h->s[i].idx1,
			       &fresh.n);
	keyidx_free(h);
	*h = fresh;
	return 0;
}

void keyidx_free(struct keyidx *h)
{
	free(h->s);
	h->s = NULL;
	h->cap = h->n = 0;
}
