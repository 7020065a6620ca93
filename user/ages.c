// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "ages.h"

const char *const age_bucket_names[AGE_BUCKETS] = {
	"<1s", "<10s", "<1m", "<10m", "<1h", ">=1h",
};

struct idx {
	struct ht_agg_key key;
	size_t i;
};

static int cmp_idx(const void *a, const void *b)
{
	const struct ht_agg_key *x = &((const struct idx *)a)->key;
	const struct ht_agg_key *y = &((const struct idx *)b)->key;

	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

static int bucket(uint64_t age_ms)
{
	static const uint64_t limit[AGE_BUCKETS - 1] = {
		1000, 10000, 60000, 600000, 3600000,
	};
	int b = 0;

	while (b < AGE_BUCKETS - 1 && age_ms >= limit[b])
		b++;
	return b;
}

struct acc {
	int64_t bytes, count;
	uint64_t ts_sum_ms;
};

static void count_one(const struct ht_alloc *v, const struct idx *ix, size_t n,
		      uint64_t now_ms, uint64_t min_age_ms,
		      struct age_row *rows, struct acc *acc)
{
	struct idx probe = { .key = { .stack = v->stack, .kind = v->kind } };
	const struct idx *hit = bsearch(&probe, ix, n, sizeof(*ix), cmp_idx);
	uint64_t born = v->ts / 1000000, age;
	/* --sample: a record stands for w allocations (its size is
	 * already theirs), as in the BPF side's totals */
	uint32_t w = v->weight ? v->weight : 1;

	if (!hit)
		return;
	age = now_ms > born ? now_ms - born : 0;
	if (age > rows[hit->i].oldest_ms)
		rows[hit->i].oldest_ms = age;
	rows[hit->i].hist[bucket(age)] += w;
	if (age < min_age_ms)
		return;
	acc[hit->i].bytes += v->size;
	acc[hit->i].count += w;
	acc[hit->i].ts_sum_ms += born * w;
}

#define BATCH 8192

/*
 * Every live allocation of the map: in batches (a million allocations in
 * about 120 syscalls), else key by key where the kernel lacks batches.
 */
static void walk(int fd, const struct idx *ix, size_t n, uint64_t now_ms,
		 uint64_t min_age_ms, struct age_row *rows, struct acc *acc)
{
	__u64 *keys = malloc(BATCH * sizeof(*keys)), key, next, *prev = NULL;
	struct ht_alloc *vals = malloc(BATCH * sizeof(*vals)), v;
	__u64 in, out;
	bool first = true;
	int err;

	for (;;) {
		__u32 cnt = BATCH, k;

		if (!keys || !vals)
			break;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &cnt, NULL);
		if (err && errno != ENOENT)
			break;
		for (k = 0; k < cnt; k++)
			count_one(&vals[k], ix, n, now_ms, min_age_ms, rows, acc);
		if (err)	/* ENOENT: that was the last batch */
			goto out;
		in = out;
		first = false;
	}
	if (!first)
		goto out;	/* a batch failed midway: what was read counts */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &v))
			count_one(&v, ix, n, now_ms, min_age_ms, rows, acc);
	}
out:
	free(keys);
	free(vals);
}

static void retotal(struct profile *p)
{
	size_t i;

	p->heap.live_bytes = p->heap.live_count = 0;
	p->mmap.live_bytes = p->mmap.live_count = 0;
	p->brk.live_bytes = p->brk.live_count = 0;
	p->faults.live_bytes = p->faults.live_count = 0;
	for (i = 0; i < p->n; i++) {
		uint32_t k = p->v[i].key.kind;
		struct prof_totals *t = k == HT_MMAP  ? &p->mmap :
					k == HT_BRK   ? &p->brk :
					k == HT_FAULT ? &p->faults :
							&p->heap;

		t->live_bytes += p->v[i].agg.live_bytes;
		t->live_count += p->v[i].agg.live_count;
	}
}

int ages_collect(int allocs_fd, int maps_fd, struct profile *p,
		 uint64_t min_age_ms, struct age_row **out)
{
	struct age_row *rows = calloc(p->n + 1, sizeof(*rows));
	struct idx *ix = calloc(p->n + 1, sizeof(*ix));
	struct acc *acc = calloc(p->n + 1, sizeof(*acc));
	size_t i, k = 0;

	if (!rows || !ix || !acc) {
		free(rows);
		free(ix);
		free(acc);
		return -ENOMEM;
	}
	for (i = 0; i < p->n; i++)
		ix[i] = (struct idx){ p->v[i].key, i };
	qsort(ix, p->n, sizeof(*ix), cmp_idx);
	walk(allocs_fd, ix, p->n, p->now_ms, min_age_ms, rows, acc);
	walk(maps_fd, ix, p->n, p->now_ms, min_age_ms, rows, acc);
	free(ix);
	if (min_age_ms) {
		/* keep the old part of each stack; entries stay sorted by
		 * the new live bytes once re-sorted by the caller's order */
		for (i = 0; i < p->n; i++) {
			if (!acc[i].count)
				continue;
			p->v[k] = p->v[i];
			rows[k] = rows[i];
			p->v[k].agg.live_bytes = acc[i].bytes;
			p->v[k].agg.live_count = acc[i].count;
			p->v[k].agg.ts_sum_ms = acc[i].ts_sum_ms;
			k++;
		}
		p->n = k;
		profile_sort(p, rows, sizeof(*rows));
		retotal(p);
	}
	free(acc);
	*out = rows;
	return 0;
}
