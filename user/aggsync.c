// SPDX-License-Identifier: GPL-2.0
/*
 * Why this is exact: the BPF side changes an aggregate first and then, if
 * its gen differs from agg_gen, sets gen and queues the key. Each update
 * drains the ring, then bumps agg_gen, then reads what it drained. A
 * change made before the bump is read by this update (the read comes
 * after it) if its key was drained, or else its key is still queued for
 * the next one; a change made after the bump finds a stale gen (or one
 * set after the bump, whose key is queued) and so is read next time.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggsync.h"
#include "util.h"

static int on_key(void *ctx, void *data, size_t size)
{
	struct aggsync *s = ctx;

	if (size < sizeof(struct ht_agg_key))
		return 0;
	if (grow(&s->dirty, s->ndirty, &s->dcap, sizeof(*s->dirty)))
		return -ENOMEM;
	memcpy(&s->dirty[s->ndirty++], data, sizeof(struct ht_agg_key));
	return 0;
}

int aggsync_init(struct aggsync *s, int aggs_fd, int ring_fd,
		 volatile uint32_t *gen, volatile uint32_t *lost)
{
	memset(s, 0, sizeof(*s));
	s->aggs_fd = aggs_fd;
	s->gen = gen;
	s->lost = lost;
	s->rb = ring_buffer__new(ring_fd, on_key, s, NULL);
	return s->rb ? 0 : -errno;
}

/*
 * Room for each stack's key twice (queued in one generation, again in
 * the next before the loader drains): 24 bytes a record. Past 16 MiB an
 * overflow costs one full read, not a wrong figure.
 */
unsigned long aggsync_ring_size(unsigned long max_stacks)
{
	unsigned long need = 2 * max_stacks * 24, sz = 1UL << 16;

	while (sz < need && sz < 1UL << 24)
		sz <<= 1;
	return sz;
}

static struct prof_totals *totals_of(struct aggsync *s, uint32_t kind)
{
	return kind == HT_MMAP	? &s->mmap :
	       kind == HT_BRK	? &s->brk :
	       kind == HT_ARENA ? &s->arena :
	       kind == HT_FAULT ? &s->faults :
				  &s->heap;
}

static void add_totals(struct prof_totals *t, const struct ht_agg *a, int sign)
{
	t->live_bytes += sign * a->live_bytes;
	t->live_count += sign * a->live_count;
	t->alloc_bytes += sign * a->alloc_bytes;
	t->alloc_count += sign * a->alloc_count;
	t->free_bytes += sign * a->free_bytes;
	t->free_count += sign * a->free_count;
}

/* The counters, not the bookkeeping (gen) the BPF side keeps with them. */
static bool same_counts(const struct ht_agg *a, const struct ht_agg *b)
{
	return a->live_bytes == b->live_bytes &&
	       a->live_count == b->live_count &&
	       a->alloc_bytes == b->alloc_bytes &&
	       a->alloc_count == b->alloc_count &&
	       a->free_bytes == b->free_bytes &&
	       a->free_count == b->free_count && a->ts_sum_ms == b->ts_sum_ms;
}

/* Take in key's aggregate as just read. */
static int apply(struct aggsync *s, const struct ht_agg_key *k,
		 const struct ht_agg *a)
{
	long i = keyidx_find(&s->idx, k);
	struct ht_agg zero = { .key = *k }, *cur;
	struct agg_change *c;

	if (i < 0) {
		if (grow(&s->v, s->n, &s->cap, sizeof(*s->v)) ||
		    keyidx_put(&s->idx, k, s->n))
			return -ENOMEM;
		i = s->n++;
		s->v[i] = zero;
	}
	cur = &s->v[i];
	if (same_counts(cur, a))
		return 0;
	if (k->kind == HT_ARENA) {
		/* the allocator's, not a stack of the program's to rank */
		add_totals(&s->arena, cur, -1);
		add_totals(&s->arena, a, 1);
		*cur = *a;
		cur->key = *k;
		return 0;
	}
	if (grow(&s->chg, s->nchg, &s->ccap, sizeof(*s->chg)))
		return -ENOMEM;
	c = &s->chg[s->nchg++];
	c->key = *k;
	c->old = *cur;
	c->now = *a;
	c->now.key = *k;
	add_totals(totals_of(s, k->kind), cur, -1);
	add_totals(totals_of(s, k->kind), a, 1);
	*cur = c->now;
	return 0;
}

#define BATCH 4096

/* Every aggregate, in batches where the kernel has them, else by key. */
static int read_all(struct aggsync *s)
{
	struct ht_agg_key *keys = malloc(BATCH * sizeof(*keys)), key, next;
	struct ht_agg *vals = malloc(BATCH * sizeof(*vals)), v;
	struct ht_agg_key in, out, *prev = NULL;
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 cnt = BATCH, i;
		int r = bpf_map_lookup_batch(s->aggs_fd, first ? NULL : &in,
					     &out, keys, vals, &cnt, NULL);

		if (r && errno != ENOENT)
			break;
		for (i = 0; i < cnt && !err; i++)
			err = apply(s, &keys[i], &vals[i]);
		if (r || err)	/* ENOENT: that was the last batch */
			goto out;
		in = out;
		first = false;
	}
	if (!first) {
		err = -errno;
		goto out;
	}
	/* no batch operations: one key at a time */
	while (!err && !bpf_map_get_next_key(s->aggs_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(s->aggs_fd, &key, &v))
			err = apply(s, &key, &v);
	}
out:
	free(keys);
	free(vals);
	return err;
}

int aggsync_update(struct aggsync *s)
{
	bool lost = __atomic_exchange_n(s->lost, 0, __ATOMIC_SEQ_CST);
	uint32_t g;
	size_t i;
	int err;

	s->nchg = 0;
	s->ndirty = 0;
	err = ring_buffer__consume(s->rb);
	if (err < 0)
		lost = true;	/* some keys may be left behind: read all */
	/* 0 is the gen of an aggregate never changed: skip it */
	g = *s->gen + 1;
	__atomic_store_n(s->gen, g ? g : 1, __ATOMIC_SEQ_CST);
	/* a full read beats one syscall per key when most stacks changed */
	if (!s->primed || lost || s->ndirty > s->n / 2) {
		s->full_reads++;
		err = read_all(s);
		s->primed = !err;
		return err;
	}
	for (i = 0; i < s->ndirty; i++) {
		struct ht_agg a;

		s->key_reads++;
		if (bpf_map_lookup_elem(s->aggs_fd, &s->dirty[i], &a))
			continue;	/* deleted: a reclaimed stack's ledger */
		err = apply(s, &s->dirty[i], &a);
		if (err) {
			s->primed = false;	/* the copy is behind: start over */
			return err;
		}
	}
	return 0;
}

const struct ht_agg *aggsync_get(const struct aggsync *s,
				 const struct ht_agg_key *k)
{
	long i = keyidx_find(&s->idx, k);

	return i < 0 ? NULL : &s->v[i];
}

int aggsync_profile(const struct aggsync *s, uint64_t now_ms,
		    struct profile *p)
{
	size_t i, cap = 0;

	memset(p, 0, sizeof(*p));
	p->now_ms = now_ms;
	p->heap = s->heap;
	p->mmap = s->mmap;
	p->brk = s->brk;
	p->faults = s->faults;
	p->arena = s->arena;
	for (i = 0; i < s->n; i++) {
		const struct ht_agg *a = &s->v[i];
		struct prof_entry *e;

		if (a->key.kind == HT_ARENA)
			continue;	/* totals only: p->arena */
		if (a->live_bytes <= 0 && a->live_count <= 0 && !a->alloc_count)
			continue;
		if (grow(&p->v, p->n, &cap, sizeof(*p->v))) {
			profile_free(p);
			return -ENOMEM;
		}
		e = &p->v[p->n++];
		memset(e, 0, sizeof(*e));
		e->key = a->key;
		e->agg = *a;
	}
	return 0;
}

int aggsync_forget_proc(struct aggsync *s, uint32_t slot)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < s->n; i++) {
		struct ht_agg zero = { .key = s->v[i].key };

		if (s->v[i].key.proc == slot)
			err = apply(s, &zero.key, &zero);
	}
	return err;
}

long aggsync_stale(struct aggsync *s)
{
	struct aggsync fresh = { .aggs_fd = s->aggs_fd };
	long stale = 0;
	size_t i;
	int err = read_all(&fresh);

	for (i = 0; !err && i < fresh.n; i++) {
		const struct ht_agg *a = aggsync_get(s, &fresh.v[i].key);

		stale += !a || !same_counts(a, &fresh.v[i]);
	}
	aggsync_free(&fresh);
	return err ? err : stale;
}

int aggsync_forget(struct aggsync *s, bool (*gone)(void *ctx, uint64_t stack),
		   void *ctx)
{
	size_t i, j = 0;

	for (i = 0; i < s->n; i++)
		if (!gone(ctx, s->v[i].key.stack))
			s->v[j++] = s->v[i];
	if (j == s->n)
		return 0;
	s->n = j;
	keyidx_free(&s->idx);
	if (s->n && keyidx_reserve(&s->idx, s->n))
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		if (keyidx_put(&s->idx, &s->v[i].key, i))
			return -ENOMEM;
	return 0;
}

void aggsync_free(struct aggsync *s)
{
	ring_buffer__free(s->rb);
	keyidx_free(&s->idx);
	free(s->v);
	free(s->dirty);
	free(s->chg);
	memset(s, 0, sizeof(*s));
}
