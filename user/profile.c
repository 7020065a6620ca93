// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of the in-kernel aggregates. The loader reads one row per
 * stack, never the live allocations themselves, so a report costs the
 * same with ten or ten million allocations outstanding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "profile.h"
#include "util.h"

const char *kind_name(uint32_t kind)
{
	static const char *const names[HT_NKINDS] = {
		[HT_MALLOC] = "malloc",
		[HT_CALLOC] = "calloc",
		[HT_REALLOC] = "realloc",
		[HT_REALLOCARRAY] = "reallocarray",
		[HT_POSIX_MEMALIGN] = "posix_memalign",
		[HT_ALIGNED_ALLOC] = "aligned_alloc",
		[HT_MEMALIGN] = "memalign",
		[HT_VALLOC] = "valloc",
		[HT_PVALLOC] = "pvalloc",
		[HT_FREE] = "free",
		[HT_MMAP] = "mmap",
		[HT_BRK] = "brk",
		[HT_FAULT] = "page_fault",
	};

	return kind < HT_NKINDS && names[kind] ? names[kind] : "?";
}

uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int cmp_live(const void *a, const void *b)
{
	const struct prof_entry *x = a, *y = b;

	if (x->agg.live_bytes != y->agg.live_bytes)
		return x->agg.live_bytes > y->agg.live_bytes ? -1 : 1;
	if (x->agg.live_count != y->agg.live_count)
		return x->agg.live_count > y->agg.live_count ? -1 : 1;
	return x->key.stack < y->key.stack ? -1 : x->key.stack > y->key.stack;
}

static void add_totals(struct prof_totals *t, const struct ht_agg *a)
{
	t->live_bytes += a->live_bytes;
	t->live_count += a->live_count;
	t->alloc_bytes += a->alloc_bytes;
	t->alloc_count += a->alloc_count;
	t->free_bytes += a->free_bytes;
	t->free_count += a->free_count;
}

static int read_counters(int fd, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	__u32 k;
	int i;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < HT_NCOUNTERS; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (i = 0; i < ncpu; i++)
			out[k] += vals[i];
	}
	free(vals);
	return 0;
}

/* Room for need keys and values in the two parallel arrays. */
static int reserve(struct ht_agg_key **keys, struct ht_agg **vals,
		   size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	void *k, *v;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	k = realloc(*keys, c * sizeof(**keys));
	if (!k)
		return -ENOMEM;
	*keys = k;
	v = realloc(*vals, c * sizeof(**vals));
	if (!v)
		return -ENOMEM;
	*vals = v;
	*cap = c;
	return 0;
}

/*
 * All of the aggregate map: in batches where the kernel has them (one
 * syscall per few thousand stacks, as it is read every second), else key
 * by key.
 */
static int read_aggs(int fd, struct ht_agg_key **keys, struct ht_agg **vals,
		     size_t *n)
{
	struct ht_agg_key key, next, *prev = NULL;
	size_t cap = 0;
	__u32 in, out;
	bool first = true;
	int err;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	for (;;) {
		__u32 cnt = 4096;

		if (reserve(keys, vals, &cap, *n + cnt))
			return -ENOMEM;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out,
					   *keys + *n, *vals + *n, &cnt, NULL);
		if (err && errno != ENOENT)
			break;
		*n += cnt;
		if (err)	/* ENOENT: that was the last batch */
			return 0;
		in = out;
		first = false;
	}
	if (!first || *n)
		return -errno;
	/* no batch operations: one key at a time */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (reserve(keys, vals, &cap, *n + 1))
			return -ENOMEM;
		if (bpf_map_lookup_elem(fd, &key, *vals + *n))
			continue;	/* deleted meanwhile */
		(*keys)[(*n)++] = key;
	}
	return 0;
}

/* Each entry's frames, from the stacks map, into one block. */
static int read_frames(int stacks_fd, struct profile *p)
{
	size_t i;

	p->frames = calloc(p->n ? p->n : 1, HT_MAX_FRAMES * sizeof(uint64_t));
	if (!p->frames)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		struct prof_entry *e = &p->v[i];

		e->ips = p->frames + i * HT_MAX_FRAMES;
		if (e->key.stack &&
		    !bpf_map_lookup_elem(stacks_fd, &e->key.stack, e->ips))
			while (e->nips < HT_MAX_FRAMES && e->ips[e->nips])
				e->nips++;
	}
	return 0;
}

int profile_read(int aggs_fd, int stacks_fd, int counters_fd, struct profile *p)
{
	struct ht_agg_key *keys;
	struct ht_agg *vals;
	size_t cap = 0, i, n;
	int err;

	memset(p, 0, sizeof(*p));
	p->now_ms = monotonic_ms();
	err = read_aggs(aggs_fd, &keys, &vals, &n);
	for (i = 0; !err && i < n; i++) {
		const struct ht_agg *a = &vals[i];
		struct prof_entry *e;

		if (keys[i].kind == HT_MMAP)
			add_totals(&p->mmap, a);
		else if (keys[i].kind == HT_BRK)
			add_totals(&p->brk, a);
		else if (keys[i].kind == HT_FAULT)
			add_totals(&p->faults, a);
		else
			add_totals(&p->heap, a);
		if (a->live_bytes <= 0 && a->live_count <= 0)
			continue;
		if (grow(&p->v, p->n, &cap, sizeof(*p->v))) {
			err = -ENOMEM;
			break;
		}
		e = &p->v[p->n++];
		memset(e, 0, sizeof(*e));
		e->key = keys[i];
		e->agg = *a;
	}
	free(keys);
	free(vals);
	if (!err && stacks_fd >= 0)
		err = read_frames(stacks_fd, p);
	if (!err)
		err = read_counters(counters_fd, p->counters);
	if (err) {
		profile_free(p);
		return err;
	}
	if (stacks_fd >= 0)
		qsort(p->v, p->n, sizeof(*p->v), cmp_live);
	return 0;
}

void profile_free(struct profile *p)
{
	free(p->v);
	free(p->frames);
	p->v = NULL;
	p->frames = NULL;
	p->n = 0;
}

static int cmp_index(const void *a, const void *b, void *arg)
{
	const struct prof_entry *v = arg;

	return cmp_live(&v[*(const size_t *)a], &v[*(const size_t *)b]);
}

/* Sort p by live bytes, carrying a parallel array of elem-sized rows. */
int profile_sort(struct profile *p, void *rows, size_t elem)
{
	size_t *ord = malloc((p->n + 1) * sizeof(*ord)), i;
	struct prof_entry *v = malloc((p->n + 1) * sizeof(*v));
	char *r = rows ? malloc((p->n + 1) * elem) : NULL;

	if (!ord || !v || (rows && !r)) {
		free(ord);
		free(v);
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < p->n; i++)
		ord[i] = i;
	qsort_r(ord, p->n, sizeof(*ord), cmp_index, p->v);
	for (i = 0; i < p->n; i++) {
		v[i] = p->v[ord[i]];
		if (r)
			memcpy(r + i * elem, (char *)rows + ord[i] * elem, elem);
	}
	memcpy(p->v, v, p->n * sizeof(*v));
	if (r)
		memcpy(rows, r, p->n * elem);
	free(ord);
	free(v);
	free(r);
	return 0;
}

int64_t profile_total_bytes(const struct profile *p)
{
	return p->heap.live_bytes + p->mmap.live_bytes + p->brk.live_bytes +
	       p->faults.live_bytes;
}
