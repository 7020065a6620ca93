/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-stack aggregates, the ring of the keys that changed, as the
 * loader's user/aggsync.c reads them, and the drop counters; shared by
 * the process tracer and kernel mode (each sizes the maps from its
 * loader).
 */
#ifndef HT_AGG_BPF_H
#define HT_AGG_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ht_agg_key);
	__type(value, struct ht_agg);
} aggs SEC(".maps");

/*
 * Keys of the aggregates changed since the loader's last sample, so that
 * it reads those alone. The loader bumps agg_gen before reading what it
 * drained: a change made after that sees a new generation and is queued
 * again. When the ring is full, changes_lost asks for a full read.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* sized by the loader */
} changed SEC(".maps");

volatile __u32 agg_gen = 1;
volatile __u32 changes_lost;

/* What could not be recorded (HT_C_*), per CPU: summed by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);

	if (v)
		(*v)++;
}

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
