/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --faults: no allocator probes at all. The target's resident memory grows
 * when it first writes to an anonymous page; the user stack of that write
 * (the regs the fault tracepoint passes) is charged one page, under the
 * kind HT_FAULT, in the allocs map keyed by page address. Pages given back
 * (munmap, brk shrink, madvise DONTNEED/FREE/REMOVE, mremap's source)
 * leave it again, through the syscall programs in heaptrail.bpf.c.
 * A BTF tracepoint needs no tracefs, and the only cost the target pays is
 * a short program on its page faults.
 */
#ifndef FAULTS_BPF_H
#define FAULTS_BPF_H

#define VM_SHARED 0x8
#define X86_PF_WRITE 0x2
#define PAGE_MASK (~(PAGE_SIZE - 1))

const volatile __u32 faults_mode = 0;

struct vma_check {
	int anon;
};

static long anon_private(struct task_struct *task, struct vm_area_struct *vma,
			 struct vma_check *c)
{
	c->anon = !vma->vm_file && !(vma->vm_flags & VM_SHARED);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct ht_alloc v = { .size = PAGE_SIZE, .kind = HT_FAULT };
	struct vma_check c = {};
	__u64 page = address & PAGE_MASK;
	struct ht_agg *a;

	/* a read maps the shared zero page: no memory yet */
	if (!(error_code & X86_PF_WRITE) || !is_target())
		return 0;
	if (bpf_map_lookup_elem(&allocs, &page))
		return 0;	/* counted already (a COW of it, say) */
	if (bpf_find_vma(bpf_get_current_task_btf(), address, anon_private, &c,
			 0) || !c.anon)
		return 0;
	v.stack = stack_of(regs->ip, regs->sp, regs->bp);
	v.ts = bpf_ktime_get_ns();
	a = agg_get(v.stack, HT_FAULT);
	if (!a) {
		count(HT_C_DROP_AGG);
		return 0;
	}
	if (bpf_map_update_elem(&allocs, &page, &v, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&allocs, &page))
			count(HT_C_DROP_ALLOC);
		return 0;	/* full, or another thread won the race */
	}
	agg_add(a, PAGE_SIZE, v.ts);
	return 0;
}

struct drop_range {
	__u64 lo, hi;
};

static long drop_page(__u32 i, struct drop_range *r)
{
	__u64 page = r->lo + (__u64)i * PAGE_SIZE;
	struct ht_alloc *p = bpf_map_lookup_elem(&allocs, &page), v;

	if (!p)
		return 0;
	v = *p;
	if (!bpf_map_delete_elem(&allocs, &page))
		agg_sub(&v, v.size, 1);
	return 0;
}

static long drop_in_range(struct bpf_map *map, __u64 *key, struct ht_alloc *v,
			  struct drop_range *r)
{
	struct ht_alloc copy = *v;

	if (*key < r->lo || *key >= r->hi)
		return 0;
	if (!bpf_map_delete_elem(&allocs, key))
		agg_sub(&copy, copy.size, 1);
	return 0;
}

/*
 * Forget the counted pages in [lo, lo + len): page by page when the range
 * is small, else one pass over the map (a 1 GiB munmap is 262144 pages).
 */
static __always_inline void pages_drop(__u64 lo, __u64 len)
{
	struct drop_range r = { .lo = lo & PAGE_MASK, .hi = lo + len };
	__u64 n = (r.hi - r.lo + PAGE_SIZE - 1) / PAGE_SIZE;

	if (!len)
		return;
	if (n <= 65536)
		bpf_loop(n, drop_page, &r, 0);
	else
		bpf_for_each_map_elem(&allocs, drop_in_range, &r, 0);
}

#define MADV_FREE 8
#define MADV_DONTNEED 4
#define MADV_REMOVE 9

SEC("tracepoint/syscalls/sys_enter_madvise")
int madvise_enter(struct trace_event_raw_sys_enter *ctx)
{
	sc_enter(ctx->args[0], ctx->args[1], ctx->args[2]);
	return 0;
}

/* MADV_FREE frees lazily, under memory pressure only: counted as given
 * back at once, as the program has said it no longer needs the pages. */
SEC("tracepoint/syscalls/sys_exit_madvise")
int madvise_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct tstate *t = sc_exit(ctx->ret);

	if (t && (t->sc_a2 == MADV_DONTNEED || t->sc_a2 == MADV_FREE ||
		  t->sc_a2 == MADV_REMOVE))
		pages_drop(t->sc_a0, page_up(t->sc_a1));
	return 0;
}

#endif /* FAULTS_BPF_H */
