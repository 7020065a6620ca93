// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "stackcache.h"
#include "util.h"

/* The span of stack id, read and cached when new: its index, or < 0. */
static long lookup(struct stackcache *c, int stacks_fd, uint64_t id)
{
	struct ht_agg_key k = { .stack = id };
	long i = keyidx_find(&c->idx, &k);
	struct ht_stack st;
	int n = 0;

	if (i >= 0)
		return i;
	if (bpf_map_lookup_elem(stacks_fd, &id, &st))
		return -ENOENT;	/* not there (yet): no frames this time */
	while (n < HT_MAX_FRAMES && st.ips[n])
		n++;
	while (c->n + n > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		uint64_t *v = realloc(c->ips, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->ips = v;
		c->cap = cap;
	}
	if (grow(&c->span, c->nspan, &c->spcap, sizeof(*c->span)) ||
	    keyidx_put(&c->idx, &k, c->nspan))
		return -ENOMEM;
	memcpy(c->ips + c->n, st.ips, n * sizeof(*st.ips));
	c->span[c->nspan] = (struct stack_span){ c->n, n };
	c->n += n;
	return c->nspan++;
}

int stackcache_attach(struct stackcache *c, int stacks_fd, struct profile *p)
{
	long *at = malloc((p->n + 1) * sizeof(*at));
	size_t i;

	if (!at)
		return -ENOMEM;
	/* first read them all: c->ips may move while it grows */
	for (i = 0; i < p->n; i++) {
		at[i] = p->v[i].key.stack ?
				lookup(c, stacks_fd, p->v[i].key.stack) : -1;
		if (at[i] == -ENOMEM) {
			free(at);
			return -ENOMEM;
		}
	}
	for (i = 0; i < p->n; i++) {
		struct prof_entry *e = &p->v[i];

		e->ips = at[i] >= 0 ? c->ips + c->span[at[i]].off : NULL;
		e->nips = at[i] >= 0 ? c->span[at[i]].nips : 0;
	}
	free(at);
	return 0;
}

int stackcache_forget(struct stackcache *c,
		      bool (*gone)(void *ctx, uint64_t stack), void *ctx)
{
	long *map = malloc((c->nspan + 1) * sizeof(*map));
	size_t i, n = 0, ns = 0;

	if (!map)
		return -ENOMEM;
	/* the index knows each span's stack */
	for (i = 0; i < c->nspan; i++)
		map[i] = -1;
	for (i = 0; i < c->idx.cap; i++) {
		struct keyidx_slot *sl = &c->idx.s[i];

		if (sl->idx1 && !gone(ctx, sl->key.stack))
			map[sl->idx1 - 1] = 0;
	}
	/* spans keep their order: frames only move down */
	for (i = 0; i < c->nspan; i++) {
		struct stack_span sp = c->span[i];

		if (map[i] < 0)
			continue;
		memmove(c->ips + n, c->ips + sp.off, sp.nips * sizeof(*c->ips));
		c->span[ns] = (struct stack_span){ n, sp.nips };
		map[i] = ns++;
		n += sp.nips;
	}
	for (i = 0; i < c->idx.cap; i++) {
		struct keyidx_slot *sl = &c->idx.s[i];

		if (sl->idx1)
			sl->idx1 = map[sl->idx1 - 1] + 1;	/* 0: gone */
	}
	free(map);
	c->n = n;
	c->nspan = ns;
	return keyidx_rebuild(&c->idx);
}

void stackcache_free(struct stackcache *c)
{
	free(c->ips);
	free(c->span);
	keyidx_free(&c->idx);
	memset(c, 0, sizeof(*c));
}
