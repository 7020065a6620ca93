// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "ages.h"
#include "keyidx.h"

const char *const age_bucket_names[AGE_BUCKETS] = {
	"<1s", "<10s", "<1m", "<10m", "<1h", ">=1h",
};

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

/* What one walk adds up, per entry of the profile. */
struct tally {
	const struct keyidx *ix;	/* stack key -> entry */
	uint64_t now_ms, min_age_ms;
	struct age_row *rows;
	struct acc *acc;
};

static void count_one(uint64_t key, const struct ht_alloc *v,
		      const struct tally *t)
{
	/* --follow-forks: the process's slot is in the key's top bits */
	struct ht_agg_key k = { .stack = v->stack, .kind = v->kind,
				.proc = key >> HT_SLOT_SHIFT };
	long i = keyidx_find(t->ix, &k);
	uint64_t born = v->ts / 1000000, age;
	/* --sample: a record stands for w allocations (its size is
	 * already theirs), as in the BPF side's totals */
	uint32_t w = v->weight ? v->weight : 1;

	if (i < 0)
		return;
	age = t->now_ms > born ? t->now_ms - born : 0;
	if (age > t->rows[i].oldest_ms)
		t->rows[i].oldest_ms = age;
	t->rows[i].hist[bucket(age)] += w;
	if (age < t->min_age_ms)
		return;
	t->acc[i].bytes += v->size;
	t->acc[i].count += w;
	t->acc[i].ts_sum_ms += born * w;
}

#define BATCH 8192

/*
 * Every live allocation of the map: in batches (a million allocations in
 * about 120 syscalls), else key by key where the kernel lacks batches.
 */
static void walk(int fd, const struct tally *t)
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
			count_one(keys[k], &vals[k], t);
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
			count_one(key, &v, t);
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
	struct acc *acc = calloc(p->n + 1, sizeof(*acc));
	struct keyidx ix = {};
	struct tally t = { &ix, p->now_ms, min_age_ms, rows, acc };
	size_t i, k = 0;
	int err = rows && acc ? keyidx_reserve(&ix, p->n) : -ENOMEM;

	for (i = 0; !err && i < p->n; i++)
		err = keyidx_put(&ix, &p->v[i].key, i);
	if (err) {
		free(rows);
		free(acc);
		keyidx_free(&ix);
		return err;
	}
	walk(allocs_fd, &t);
	walk(maps_fd, &t);
	keyidx_free(&ix);
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
