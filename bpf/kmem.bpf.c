// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail --kernel: the kernel's outstanding allocations, aggregated by
 * kernel stack, from the kmem tracepoints (kmalloc/kfree,
 * kmem_cache_alloc/kmem_cache_free, mm_page_alloc/mm_page_free). BTF
 * tracepoints: no tracefs needed, and the arguments are typed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "heaptrail.h"

#define PAGE_SIZE 4096ULL

/* ht_agg_key.image: the kernel never runs exec, always 0 */
volatile __u32 image = 0;
/* --min-size/--max-size: allocations outside are not traced */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;

/*
 * Preallocated: a map that allocates its elements as it goes refills
 * them with kmalloc from irq_work, which this program traces and stores
 * in the map, which refills again: it filled a million entries in 3 s.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 18);
	__type(key, __u64);
	__type(value, struct ht_alloc);
} allocs SEC(".maps");

#include "agg.bpf.h"

/*
 * Kernel stacks, by the kernel's own stack map: values are as long as
 * struct ht_stack, zero-filled past the last frame, so the loader reads
 * them as it reads user stacks.
 */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 65536);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct ht_stack));
} stacks SEC(".maps");

static __always_inline struct ht_agg *agg_get(__u64 stack, __u32 kind)
{
	struct ht_agg_key k = { .stack = stack, .kind = kind,
				.image = image };
	struct ht_agg zero = { .key = k }, *a;

	a = bpf_map_lookup_elem(&aggs, &k);
	if (a)
		return a;
	bpf_map_update_elem(&aggs, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&aggs, &k);
}

/* When the aggregate map is full: stack 0, "[unrecorded stacks]". */
static __always_inline struct ht_agg *agg_for(__u64 *stack, __u32 kind)
{
	struct ht_agg *a = agg_get(*stack, kind);

	if (a || !*stack)
		return a;
	count(HT_C_DROP_AGG);
	*stack = 0;
	return agg_get(0, kind);
}

static __always_inline void agg_sub(const struct ht_alloc *v)
{
	struct ht_agg *a = agg_get(v->stack, v->kind);

	if (!a)
		return;
	__sync_fetch_and_add(&a->live_bytes, -(__s64)v->size);
	__sync_fetch_and_add(&a->free_bytes, v->size);
	__sync_fetch_and_add(&a->live_count, -1);
	__sync_fetch_and_add(&a->free_count, 1);
	__sync_fetch_and_add(&a->ts_sum_ms, -(v->ts / 1000000));
	agg_touch(a);
}

/*
 * A stack map id may be 0, which ht_agg_key reserves for "[unrecorded
 * stacks]": bit 32 makes every recorded id non-zero, and the map's 4-byte
 * key is the low half of the 64-bit key the loader looks up.
 */
#define STACK_ID_SET (1ULL << 32)

static __always_inline void kfree_addr(__u64 addr)
{
	struct ht_alloc *p = bpf_map_lookup_elem(&allocs, &addr), v;

	if (!p) {
		/* allocated before attach: most frees are, at first */
		if (!min_size && max_size == ~0ULL)
			count(HT_C_UNKNOWN_FREE);
		return;
	}
	v = *p;
	if (bpf_map_delete_elem(&allocs, &addr))
		return;	/* a racing free got it */
	agg_sub(&v);
}

static __always_inline void kalloc(void *ctx, __u64 addr, __u64 size,
				   __u32 kind)
{
	struct ht_alloc v = { .size = size, .kind = kind };
	struct ht_agg *a;
	long id, err;

	if (!addr || size < min_size || size > max_size)
		return;
	id = bpf_get_stackid(ctx, &stacks, 0);
	if (id >= 0) {
		v.stack = STACK_ID_SET | id;
	} else {
		/* -EEXIST: another stack holds the bucket; -ENOMEM */
		count(HT_C_DROP_STACK);
	}
	v.ts = bpf_ktime_get_ns();
	a = agg_for(&v.stack, kind);
	if (!a) {
		count(HT_C_DROP_ALLOC);
		return;
	}
	err = bpf_map_update_elem(&allocs, &addr, &v, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		/* an address handed out again: its free was missed (a
		 * tracepoint program does not run inside another) */
		kfree_addr(addr);
		err = bpf_map_update_elem(&allocs, &addr, &v, BPF_NOEXIST);
	}
	if (err) {
		count(HT_C_DROP_ALLOC);
		return;
	}
	agg_add(a, v.size, v.ts);
}

/* bytes_alloc: what the slab really holds for it, as memleak counts */
SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_ev, unsigned long call_site, const void *ptr,
	     size_t bytes_req, size_t bytes_alloc, gfp_t gfp, int node)
{
	kalloc(ctx, (__u64)ptr, bytes_alloc, HT_KMALLOC);
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_ev, unsigned long call_site, const void *ptr)
{
	if (ptr)
		kfree_addr((__u64)ptr);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_ev, unsigned long call_site, const void *ptr,
	     struct kmem_cache *s, gfp_t gfp, int node)
{
	kalloc(ctx, (__u64)ptr, s ? BPF_CORE_READ(s, size) : 0,
	       HT_KMEM_CACHE);
	return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free_ev, unsigned long call_site, const void *ptr,
	     const struct kmem_cache *s)
{
	if (ptr)
		kfree_addr((__u64)ptr);
	return 0;
}

/*
 * The slab allocator's allocate_slab() (its address range, from
 * kallsyms; 0: unknown): the pages it takes hold the kmalloc and
 * kmem_cache objects counted above, so they are the allocator's own
 * (HT_ARENA, apart from the stacks), not counted twice. Found among the
 * first frames of the page allocation's stack (fentry on it is refused).
 */
const volatile __u64 slab_lo = 0, slab_hi = 0;
#define SLAB_DEPTH 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[SLAB_DEPTH]);
} slab_frames SEC(".maps");

static __always_inline int in_slab(void *ctx)
{
	__u32 zero = 0, i;
	__u64 *f = bpf_map_lookup_elem(&slab_frames, &zero);
	long n;

	if (!slab_lo || !f)
		return 0;
	n = bpf_get_stack(ctx, f, SLAB_DEPTH * sizeof(__u64), 0);
	for (i = 0; i < SLAB_DEPTH && (long)(i * sizeof(__u64)) < n; i++)
		if (f[i] > slab_lo && f[i] <= slab_hi)	/* return addresses */
			return 1;
	return 0;
}

/* Pages by their struct page: its address is one per page frame. */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_ev, struct page *page, unsigned int order, gfp_t gfp,
	     int migratetype)
{
	kalloc(ctx, (__u64)page, PAGE_SIZE << (order & 31),
	       in_slab(ctx) ? HT_ARENA : HT_PAGES);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(page_free_ev, struct page *page, unsigned int order)
{
	if (page)
		kfree_addr((__u64)page);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
