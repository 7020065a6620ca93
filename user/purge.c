// SPDX-License-Identifier: GPL-2.0
/*
 * An exec replaces the target's address space: nothing its old program
 * allocated can be freed any more, and its stacks would be named from
 * the new program's mappings. The BPF side keys the aggregates of each
 * program apart (ht_agg_key.image); the loader drops the old ones here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "heaptrail.h"
#include "purge.h"

/* keys are collected first: deleting the key a walk stands on would
 * send bpf_map_get_next_key back to the map's start */
static int collect(int fd, size_t ksz, void **keys, size_t *n)
{
	char cur[sizeof(struct ht_agg_key)], next[sizeof(struct ht_agg_key)];
	size_t cap = 0;
	void *p = NULL;
	bool first = true;

	*n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : cur, next)) {
		if (*n == cap) {
			void *q = realloc(p, (cap = cap ? 2 * cap : 1024) * ksz);

			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
		}
		memcpy((char *)p + *n * ksz, next, ksz);
		memcpy(cur, next, ksz);
		(*n)++;
		first = false;
	}
	*keys = p;
	return 0;
}

/* The slots a pass drops: set[slot], HT_MAX_PROCS of them. */
static bool in_set(const bool *set, uint64_t slot)
{
	return slot < HT_MAX_PROCS && set[slot];
}

/* the target's slot alone: an exec of its own */
static const bool target_slot[HT_MAX_PROCS] = { [0] = true };

/* the live entries of the slots made before ts_ns (all: UINT64_MAX) */
static int purge_older(int fd, const bool *set, uint64_t ts_ns)
{
	struct ht_alloc v;
	uint64_t *keys;
	size_t n, i;
	int err;

	err = collect(fd, sizeof(*keys), (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (in_set(set, keys[i] >> HT_SLOT_SHIFT) &&
		    !bpf_map_lookup_elem(fd, &keys[i], &v) && v.ts < ts_ns)
			bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
	return 0;
}

/*
 * The aggregates of the slots that are not of image (-1: all of them);
 * what they held is added to dropped[slot] (the target's alone: one).
 */
static int purge_aggs(int aggs_fd, const bool *set, int64_t image,
		      struct prof_totals *dropped)
{
	struct ht_agg_key *keys;
	struct ht_agg a;
	size_t n, i;
	int err;

	err = collect(aggs_fd, sizeof(*keys), (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!in_set(set, keys[i].proc) || keys[i].image == image ||
		    bpf_map_lookup_elem(aggs_fd, &keys[i], &a))
			continue;
		/* the allocator's reservations were never the program's */
		if (keys[i].kind != HT_ARENA) {
			dropped[keys[i].proc].live_bytes += a.live_bytes;
			dropped[keys[i].proc].live_count += a.live_count;
		}
		bpf_map_delete_elem(aggs_fd, &keys[i]);
	}
	free(keys);
	return 0;
}

int purge_image(int allocs_fd, int mappings_fd, int aggs_fd, uint32_t image,
		uint64_t ts_ns, struct prof_totals *dropped)
{
	int err = purge_older(allocs_fd, target_slot, ts_ns);

	if (!err)
		err = purge_older(mappings_fd, target_slot, ts_ns);
	/* the key holds the image's low bits */
	return err ? err : purge_aggs(aggs_fd, target_slot, (uint16_t)image,
				      dropped);
}

int purge_slots(int allocs_fd, int mappings_fd, int aggs_fd, const bool *set,
		struct prof_totals *dropped)
{
	int err = purge_older(allocs_fd, set, UINT64_MAX);

	if (!err)
		err = purge_older(mappings_fd, set, UINT64_MAX);
	return err ? err : purge_aggs(aggs_fd, set, -1, dropped);
}
