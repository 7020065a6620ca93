/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adding to the per-stack aggregates and queuing their keys on the ring
 * of changed keys, as the loader's user/aggsync.c reads them; shared by
 * the process tracer and kernel mode. The includer defines the changed
 * ring, agg_gen and changes_lost.
 */
#ifndef HT_AGG_BPF_H
#define HT_AGG_BPF_H

/*
 * After (never before) changing a: queue its key once per generation.
 * The common case costs one load and a compare.
 */
static __always_inline void agg_touch(struct ht_agg *a)
{
	__u32 g = agg_gen;
	struct ht_agg_key *r;

	if (a->gen == g)
		return;
	a->gen = g;
	r = bpf_ringbuf_reserve(&changed, sizeof(*r), 0);
	if (!r) {
		changes_lost = 1;
		return;
	}
	*r = a->key;
	/* the loader drains the ring on its own clock: wake nobody */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

static __always_inline void agg_add_n(struct ht_agg *a, __u64 size, __u64 ts,
				      __u32 n)
{
	__sync_fetch_and_add(&a->live_bytes, size);
	__sync_fetch_and_add(&a->live_count, n);
	__sync_fetch_and_add(&a->alloc_bytes, size);
	__sync_fetch_and_add(&a->alloc_count, n);
	__sync_fetch_and_add(&a->ts_sum_ms, ts / 1000000 * n);
	agg_touch(a);
}

static __always_inline void agg_add(struct ht_agg *a, __u64 size, __u64 ts)
{
	agg_add_n(a, size, ts, 1);
}

#endif /* HT_AGG_BPF_H */
