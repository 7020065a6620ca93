/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --faults: no allocator probes at all. The target's resident memory grows
 * when it first writes to an anonymous page; the user stack of that write
 * (the regs the fault tracepoint passes) is charged one page, under the
 * kind HT_FAULT, in the allocs map keyed by page address; a page the
 * kernel first writes for it (read(2) into a fresh buffer) goes to the
 * stack of the syscall. Pages given back (munmap, brk shrink, madvise
 * DONTNEED/FREE/REMOVE, an mremap shrink) leave it again, and pages
 * mremap moves keep their entry at the new address, through the syscall
 * programs in heaptrail.bpf.c.
 * A BTF tracepoint needs no tracefs, and the only cost the target pays is
 * a short program on its page faults.
 */
#ifndef FAULTS_BPF_H
#define FAULTS_BPF_H

#define VM_SHARED 0x8
#define X86_PF_WRITE 0x2
#define PAGE_MASK (~(PAGE_SIZE - 1))

const volatile __u32 faults_mode = 0;
/*
 * Set by the loader to the live map's entries (at most bpf_loop's 1 << 23):
 * a range of more pages than that is cheaper as one pass over the map.
 */
const volatile __u32 page_walk_max = 65536;

struct vma_check {
	__u64 mm;		/* the address space it was found in */
	__u64 start, end;
	__u64 gen;		/* vma_gen when it was found */
	__u32 anon;
};

/*
 * bpf_find_vma costs microseconds here: the fault tracepoint runs with
 * interrupts off, so the mmap lock it takes is released through an
 * irq_work, an interrupt of its own. Faults come in runs over one region,
 * so the last VMA found is kept per CPU and reused while no syscall of
 * the target that can remap memory (mmap, munmap, mremap, brk, madvise)
 * has started or ended since. A split by mprotect keeps each part's file
 * and sharing: the cached answer holds for the whole old range.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vma_check);
} vma_cache SEC(".maps");

__u64 vma_gen = 0;

static __always_inline void vma_changed(void)
{
	if (faults_mode)
		__sync_fetch_and_add(&vma_gen, 1);
}

static long anon_private(struct task_struct *task, struct vm_area_struct *vma,
			 struct vma_check *c)
{
	c->anon = !vma->vm_file && !(vma->vm_flags & VM_SHARED);
	c->start = vma->vm_start;
	c->end = vma->vm_end;
	return 0;
}

/* Is address in an anonymous private VMA of the current task? */
static __always_inline int anon_at(__u64 address)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mm = (__u64)task->mm, gen = vma_gen;
	struct vma_check *vc, c = {};
	__u32 zero = 0;

	vc = bpf_map_lookup_elem(&vma_cache, &zero);
	if (vc && vc->mm == mm && vc->gen == gen && address >= vc->start &&
	    address < vc->end)
		return vc->anon;
	if (bpf_find_vma(task, address, anon_private, &c, 0))
		return 0;
	c.mm = mm;
	c.gen = gen;	/* read before the lookup: a change since voids it */
	if (vc)
		*vc = c;
	return c.anon;
}

/*
 * Charge the page at address to the user stack in regs, the first time it
 * is written (a COW of a counted page, say, is not new memory).
 */
static __always_inline void page_count(__u64 address, struct pt_regs *regs)
{
	struct ht_alloc v = { .size = PAGE_SIZE, .kind = HT_FAULT };
	__u64 page = address & PAGE_MASK;
	struct ht_agg *a;

	if (bpf_map_lookup_elem(&allocs, &page))
		return;
	if (!anon_at(address))
		return;
	/* ip is the faulting instruction itself, not a return address:
	 * every frame is looked up (rows, lines) at pc - 1, so it is kept
	 * as ip + 1. At ip - 1 there may be another row (the epilogue a
	 * compiler placed before a loop) and the walk would read garbage */
	v.stack = stack_of(regs->ip + 1, regs->sp, regs->bp, 0);
	v.ts = bpf_ktime_get_ns();
	a = agg_for(&v.stack, HT_FAULT, 0);
	if (!a) {
		count(HT_C_DROP_ALLOC);
		return;
	}
	if (bpf_map_update_elem(&allocs, &page, &v, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&allocs, &page))
			count(HT_C_DROP_ALLOC);
		return;	/* full, or another thread won the race */
	}
	agg_add(a, PAGE_SIZE, v.ts);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	/* a read maps the shared zero page: no memory yet */
	if (!(error_code & X86_PF_WRITE) || !is_target_proc())
		return 0;
	page_count(address, regs);
	return 0;
}

/*
 * The kernel writing to a page the program never touched (read(2) or
 * recv(2) into a fresh buffer) faults in kernel mode: the page is the
 * program's all the same, charged to the user stack of the syscall.
 */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct task_struct *task;

	/* kernel addresses are the upper half; none is the program's */
	if (!(error_code & X86_PF_WRITE) || (long)address < 0 || !is_target_proc())
		return 0;
	task = bpf_get_current_task_btf();
	page_count(address, (struct pt_regs *)bpf_task_pt_regs(task));
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
		agg_sub(&v, v.size, 1, 0);
	return 0;
}

static long drop_in_range(struct bpf_map *map, __u64 *key, struct ht_alloc *v,
			  struct drop_range *r)
{
	struct ht_alloc copy = *v;

	if (*key < r->lo || *key >= r->hi)
		return 0;
	if (!bpf_map_delete_elem(&allocs, key))
		agg_sub(&copy, copy.size, 1, 0);
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
	if (n <= page_walk_max)
		bpf_loop(n, drop_page, &r, 0);
	else
		bpf_for_each_map_elem(&allocs, drop_in_range, &r, 0);
}

/*
 * mremap moved counted pages from src to dst: they stay resident and will
 * not fault again, so they keep their stack and age at the new address.
 * Inserted before the old key goes, so that a pass over the map never
 * sees the element it stands on freed and reused.
 */
static __always_inline void page_move(__u64 src, __u64 dst,
				      const struct ht_alloc *v)
{
	if (bpf_map_update_elem(&allocs, &dst, v, BPF_NOEXIST)) {
		/* map full, or dst written (and counted) since the move */
		if (!bpf_map_delete_elem(&allocs, &src))
			agg_sub(v, v->size, 1, 0);
		return;
	}
	if (bpf_map_delete_elem(&allocs, &src))
		bpf_map_delete_elem(&allocs, &dst);	/* src went meanwhile */
}

struct move_range {
	__u64 from, to;		/* page aligned */
	__u64 nmove;		/* pages that move: the shorter length */
};

/* Destination page i: what was counted there went with the mapping
 * MREMAP_FIXED replaced; then source page i moves in, if it has one. */
static long move_page(__u32 i, struct move_range *r)
{
	struct drop_range d = { .lo = r->to };
	__u64 src = r->from + (__u64)i * PAGE_SIZE;
	struct ht_alloc *p, v;

	drop_page(i, &d);
	if (i >= r->nmove)
		return 0;
	p = bpf_map_lookup_elem(&allocs, &src);
	if (!p)
		return 0;
	v = *p;
	page_move(src, r->to + (__u64)i * PAGE_SIZE, &v);
	return 0;
}

static long move_in_range(struct bpf_map *map, __u64 *key, struct ht_alloc *v,
			  struct move_range *r)
{
	struct ht_alloc copy = *v;
	__u64 off = *key - r->from;

	/* source and destination never overlap: a moved page is not met
	 * again as a source */
	if (*key < r->from || off >= r->nmove * PAGE_SIZE)
		return 0;
	page_move(*key, r->to + off, &copy);
	return 0;
}

/*
 * mremap(old, old_len, new_len) returned dst: in place, a shrink gives the
 * tail back; a move takes the counted pages along (never dropped, which
 * would lose them, nor left, which would count them twice), and what the
 * source had beyond the new length is given back.
 */
static __always_inline void pages_remap(__u64 old, __u64 old_len, __u64 dst,
					__u64 new_len)
{
	__u64 keep = old_len < new_len ? old_len : new_len;
	struct move_range r = { .from = old & PAGE_MASK, .to = dst,
				.nmove = keep / PAGE_SIZE };
	__u64 n = new_len / PAGE_SIZE;

	if (dst != r.from && n) {
		if (n <= page_walk_max) {
			bpf_loop(n, move_page, &r, 0);
		} else {
			pages_drop(dst, new_len);
			bpf_for_each_map_elem(&allocs, move_in_range, &r, 0);
		}
	}
	if (old_len > keep)
		pages_drop(r.from + keep, old_len - keep);
}

/*
 * exec replaces the address space: every page counted so far is gone (in
 * -- COMMAND mode, those heaptrail's forked child wrote before its exec),
 * and a cached VMA could match a new one at a reused mm address.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(fault_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	if (!is_target_proc())
		return 0;
	vma_changed();
	pages_drop(0, ~0ULL & PAGE_MASK);
	return 0;
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
	__u32 slot;
	struct tstate *t = sc_exit(ctx->ret, &slot);

	if (t && (t->sc_a2 == MADV_DONTNEED || t->sc_a2 == MADV_FREE ||
		  t->sc_a2 == MADV_REMOVE))
		pages_drop(t->sc_a0, page_up(t->sc_a1));
	return 0;
}

#endif /* FAULTS_BPF_H */
