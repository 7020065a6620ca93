// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of the in-kernel aggregates (built from the loader's copy,
 * user/aggsync.c): one row per stack, never the live allocations
 * themselves, so a report costs the same with ten or ten million
 * allocations outstanding.
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
#include "stacksyms.h"
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
		[HT_KMALLOC] = "kmalloc",
		[HT_KMEM_CACHE] = "kmem_cache",
		[HT_PAGES] = "pages",
		[HT_ARENA] = "allocator",
	};

	return kind < HT_NKINDS && names[kind] ? names[kind] : "?";
}

const char *kind_frame(uint32_t kind)
{
	static const char *const frames[HT_NKINDS] = {
		[HT_MALLOC] = "[malloc]",
		[HT_CALLOC] = "[calloc]",
		[HT_REALLOC] = "[realloc]",
		[HT_REALLOCARRAY] = "[reallocarray]",
		[HT_POSIX_MEMALIGN] = "[posix_memalign]",
		[HT_ALIGNED_ALLOC] = "[aligned_alloc]",
		[HT_MEMALIGN] = "[memalign]",
		[HT_VALLOC] = "[valloc]",
		[HT_PVALLOC] = "[pvalloc]",
		[HT_FREE] = "[free]",
		[HT_MMAP] = "[mmap]",
		[HT_BRK] = "[brk]",
		[HT_FAULT] = "[page_fault]",
		[HT_KMALLOC] = "[kmalloc]",
		[HT_KMEM_CACHE] = "[kmem_cache]",
		[HT_PAGES] = "[pages]",
		[HT_ARENA] = "[allocator]",
	};

	return kind < HT_NKINDS && frames[kind] ? frames[kind] : "[?]";
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

static bool holds(const struct prof_entry *e)
{
	return e->agg.live_bytes > 0 || e->agg.live_count > 0;
}

/* Sorted by live bytes, the stacks that hold something come first. */
static void count_live(struct profile *p)
{
	p->nlive = 0;
	while (p->nlive < p->n && holds(&p->v[p->nlive]))
		p->nlive++;
}

int profile_finish(struct profile *p, int counters_fd)
{
	int err = read_counters(counters_fd, p->counters);

	if (!err) {
		sort_array(p->v, p->n, sizeof(*p->v), cmp_live);
		count_live(p);
	}
	return err;
}

void profile_free(struct profile *p)
{
	free(p->v);
	free(p->frames);
	pc_syms_free(p->syms);
	p->v = NULL;
	p->frames = NULL;
	p->syms = NULL;
	p->n = p->nlive = 0;
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
	count_live(p);
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
