// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail: outstanding allocations of one process, aggregated by user
 * stack in the kernel.
 *
 * The allocator probes share one per-thread state. The outermost traced
 * call on a thread owns it; a traced call made inside it (realloc calling
 * malloc, malloc calling mmap or sbrk, aligned_alloc calling memalign)
 * is recognised by its deeper stack pointer and ignored, so every
 * allocation is counted once, with the size and stack the program asked
 * for.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "heaptrail.h"

#define EEXIST 17
#define MAP_ANONYMOUS 0x20
#define PROT_EXEC 0x4
#define MAP_FIXED 0x10
#define MREMAP_DONTUNMAP 4
#define PAGE_SIZE 4096ULL
/* tstate.kind of a call --sample skipped: its return may never be seen */
#define HT_UNSAMPLED 0xff

const volatile __u32 targ_tgid = 0;
/* and its start, in clock ticks after boot as /proc/PID/stat gives it:
 * a PID number alone could be a new process's once the target exits */
const volatile __u64 targ_start = 0;
/* the target's program: exec starts the next one (procs.bpf.h) */
volatile __u32 image = 0;
/* heaptrail's own PID namespace when it is not the initial one (a debug
 * container sharing the target's): targ_tgid is a PID as seen there */
const volatile __u64 pidns_dev = 0;
const volatile __u64 pidns_ino = 0;
/* --sample: mean bytes between samples (0: every allocation) */
const volatile __u64 sample_bytes = 0;
/* --min-size/--max-size: allocations outside are not traced */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
/* attached through a session uprobe: a skipped call has no return probe */
const volatile __u32 session_mode = 0;
/* set by the loader when it starts the command itself */
__u64 gate_armed = 0;

struct tstate {
	__s64 countdown;	/* --sample: bytes until the next sample */
	__u64 sp;	/* user sp at the outermost allocator entry */
	__u64 ret_addr;	/* the return address found at sp then */
	__u64 size;
	__u64 ptr;	/* realloc: old pointer; posix_memalign: memptr */
	__u32 kind;	/* HT_NONE when no allocator call is under way */
	__u16 sc_skip;	/* syscall under way is not traced (file mmap) */
	__u16 sc_alloc;	/* syscall under way was made by the allocator */
	__u32 sc_exec;	/* mmap under way maps a file executable */
	__u32 pad;
	__u64 sc_a0;	/* syscall arguments saved at entry */
	__u64 sc_a1;
	__u64 sc_a2;
	__u64 sc_a3;
};

/*
 * Thread state lives in an array slot picked by tid: an array lookup is
 * inlined by the JIT, a hash lookup is not, and every probe hit needs the
 * state (about 40 ns a lookup saved, three times a malloc+free pair).
 * A thread whose slot another live thread holds falls back to the hash.
 */
#define TSLOTS 16384	/* power of two */

struct tslot {
	__u64 tid;	/* owner, 0 when free (64 bits: clang 14's BPF
			 * target has no 32-bit compare-and-swap) */
	struct tstate s;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSLOTS);
	__type(key, __u32);
	__type(value, struct tslot);
} tslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tstate);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ht_alloc);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ht_alloc);
} mappings SEC(".maps");

#include "agg.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ht_stack);
} stacks SEC(".maps");

/*
 * Reclaim (user/reclaim.c): the loader deletes the aggregates and the
 * stack of a stack id that holds nothing. A program may have taken that
 * id, or a pointer to one of its aggregates, just before: so the loader
 * lists the ids it means to delete in doomed, sets reclaim_phase and
 * waits an RCU grace period (every program that missed the phase has
 * ended). From then on, a program that meets a doomed id marks it used
 * and writes its aggregates into the ledger, never into aggs: the loader
 * deletes only ids unchanged and unused after the grace period, ends the
 * phase, waits a second grace period, and then restores the stack of any
 * id used meanwhile (same id, same frames) and adds the ledger into aggs.
 * No write can land in a deleted aggregate.
 */
volatile __u32 reclaim_phase;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* sized by the loader */
	__type(key, __u64);
	__type(value, __u32);	/* 1: used during the phase */
} doomed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* sized by the loader */
	__type(key, struct ht_agg_key);
	__type(value, struct ht_agg);
} ledger SEC(".maps");

/* Is id listed for deletion in this phase? Then it is used. */
static __always_inline bool doomed_id(__u64 id)
{
	__u32 *used;

	if (!reclaim_phase)
		return false;
	used = bpf_map_lookup_elem(&doomed, &id);
	if (!used)
		return false;
	*used = 1;
	return true;
}

/*
 * --sample tables, filled by the loader (BPF has no floating point):
 * quantiles of the exponential distribution of mean sample_bytes, and the
 * unbiased weight w(s) = s / (1 - exp(-s / sample_bytes)) of a sampled
 * allocation at sizes k * sample_bytes / 64, k = 0..HT_SAMPLE_STEPS.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HT_SAMPLE_DRAWS);
	__type(key, __u32);
	__type(value, __u64);
} sample_draw SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HT_SAMPLE_STEPS + 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_weight SEC(".maps");

#include "procs.bpf.h"
#include "unwind.bpf.h"

/* --sample: a distance to the next sample, exponential of mean sample_bytes */
static __always_inline __s64 sample_distance(void)
{
	__u32 i = bpf_get_prandom_u32() & (HT_SAMPLE_DRAWS - 1);
	__u64 *d = bpf_map_lookup_elem(&sample_draw, &i);

	return d ? *d : sample_bytes;
}

/* The current thread's state, if it has one. */
static __always_inline struct tstate *thread_find(__u32 tid)
{
	__u32 i = tid & (TSLOTS - 1);
	struct tslot *s = bpf_map_lookup_elem(&tslots, &i);

	if (s && s->tid == tid)
		return &s->s;
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline struct tstate *thread_state(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), i = tid & (TSLOTS - 1);
	struct tslot *s = bpf_map_lookup_elem(&tslots, &i);
	struct tstate zero = {}, *t;

	if (s && s->tid == tid)
		return &s->s;
	t = bpf_map_lookup_elem(&threads, &tid);
	if (t)
		return t;
	/* a new thread starts with a drawn distance too: from 0 its first
	 * allocation would always be sampled, one extra sample per thread */
	if (sample_bytes)
		zero.countdown = sample_distance();
	if (s && __sync_val_compare_and_swap(&s->tid, 0, (__u64)tid) == 0) {
		/* only this thread reads the slot from now on */
		s->s = zero;
		return &s->s;
	}
	bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		count(HT_C_DROP_THREAD);
	return t;
}

/*
 * Is a call entered at sp inside the allocator call that owns t? Deeper
 * means nested; at the same sp it is a tail call only if the uretprobe
 * has already replaced the return address there.
 */
static __always_inline int inside(const struct tstate *t, __u64 sp)
{
	__u64 ra = 0;

	if (t->kind == HT_NONE || sp > t->sp)
		return 0;
	if (t->kind == HT_UNSAMPLED && session_mode) {
		/* no return probe clears a skipped call's state: it is under
		 * way only while its return address is still in place */
		if (sp == t->sp)
			return 0;
		bpf_probe_read_user(&ra, sizeof(ra), (void *)t->sp);
		/* a uretprobe of another tool's (another heaptrail's, on
		 * the same library) may have put its trampoline there */
		return ra == t->ret_addr || (ra && ra == xol_page());
	}
	if (sp < t->sp)
		return 1;
	bpf_probe_read_user(&ra, sizeof(ra), (void *)sp);
	return ra != t->ret_addr;
}

/* The aggregate key of a stack in process slot (procs.bpf.h). */
static __always_inline struct ht_agg_key agg_key(__u64 stack, __u32 kind,
						 __u32 slot)
{
	/* a child's exec gives it a new slot: images count the target's */
	struct ht_agg_key k = { .stack = stack, .kind = kind,
				.image = slot ? 0 : image, .proc = slot };

	return k;
}

/*
 * The aggregate to change for (stack, kind) in process slot, made if
 * missing (a free may come after the loader reclaimed its stack: the
 * ledger adds its allocation later). A doomed stack's goes to the ledger
 * (see doomed).
 */
static __always_inline struct ht_agg *agg_get(__u64 stack, __u32 kind,
					      __u32 slot)
{
	struct ht_agg_key k = agg_key(stack, kind, slot);
	struct ht_agg zero = { .key = k }, *a;

	if (stack && doomed_id(stack)) {
		a = bpf_map_lookup_elem(&ledger, &k);
		if (a)
			return a;
		bpf_map_update_elem(&ledger, &k, &zero, BPF_NOEXIST);
		return bpf_map_lookup_elem(&ledger, &k);
	}
	a = bpf_map_lookup_elem(&aggs, &k);
	if (a)
		return a;
	bpf_map_update_elem(&aggs, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&aggs, &k);
}

/*
 * The aggregate an allocation of *stack goes to. When the aggregate map
 * is full, it goes to stack 0 ("[unrecorded stacks]"), for which the map
 * keeps room, as an allocation whose stack did not fit in the stack map
 * does: the totals stay exact, only the stack is lost.
 */
static __always_inline struct ht_agg *agg_for(__u64 *stack, __u32 kind,
					      __u32 slot)
{
	struct ht_agg *a = agg_get(*stack, kind, slot);

	if (a || !*stack)
		return a;
	count(HT_C_DROP_AGG);
	*stack = 0;
	return agg_get(0, kind, slot);
}

static __always_inline void agg_sub(const struct ht_alloc *v, __u64 bytes,
				    int whole, __u32 slot)
{
	struct ht_agg *a = agg_get(v->stack, v->kind, slot);

	if (!a)
		return;
	__sync_fetch_and_add(&a->live_bytes, -(__s64)bytes);
	__sync_fetch_and_add(&a->free_bytes, bytes);
	if (whole) {
		__u32 n = v->weight ? v->weight : 1;

		__sync_fetch_and_add(&a->live_count, -(__s64)n);
		__sync_fetch_and_add(&a->free_count, n);
		__sync_fetch_and_add(&a->ts_sum_ms, -(v->ts / 1000000 * n));
	}
	agg_touch(a);
}

static __always_inline __u64 stack_of(__u64 pc, __u64 sp, __u64 bp,
				      __u32 slot)
{
	__u32 trunc = 0;
	/* another program's code (a followed exec) does not lie at the
	 * target's modules' addresses (ASLR): it is walked by frame
	 * pointers, as code without rows is */
	__u64 id = capture_stack(&stacks, pc, sp, bp, &trunc);

	if (!id)
		count(HT_C_DROP_STACK);
	if (trunc)
		count(HT_C_TRUNCATED);
	return id;
}

/* Stack of the current task's user context, for syscall tracepoints. */
static __always_inline __u64 task_stack(__u32 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	return stack_of(regs->ip, regs->sp, regs->bp, slot);
}

/*
 * Where the allocator's code lies in the target, set by the loader: its
 * free(), a replacement allocator's whole text, --alloc-syms functions.
 * A mapping made while a frame of the stack is in there is the
 * allocator's (glibc makes a new thread's arena inside free() when that
 * is its first allocator call; jemalloc's background threads and its
 * constructor map extents outside any probed call). free has no return
 * probe to say so; the stack does. alloc_code_n is written last.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HT_ALLOC_RANGES);
	__type(key, __u32);
	__type(value, struct ht_range);
} alloc_code SEC(".maps");

volatile __u32 alloc_code_n;

static __always_inline bool in_alloc_code(__u64 pc)
{
	__u32 n = alloc_code_n;

#pragma unroll
	for (__u32 j = 0; j < HT_ALLOC_RANGES; j++) {
		__u32 i = j;
		struct ht_range *r;

		if (j >= n)
			break;
		r = bpf_map_lookup_elem(&alloc_code, &i);

		/* return addresses: the call ends where the range does */
		if (r && pc > r->lo && pc <= r->hi)
			return true;
	}
	return false;
}

static long in_alloc_step(__u32 i, __u32 *found)
{
	struct ht_stack *st;
	__u32 zero = 0;
	__u64 pc;

	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return 1;
	pc = st->ips[i & (HT_MAX_FRAMES - 1)];
	if (!pc)
		return 1;
	if (in_alloc_code(pc)) {
		*found = 1;
		return 1;
	}
	return 0;
}

/*
 * Was the stack just walked (the per-CPU scratch) inside allocator code?
 * A walk that stopped at the syscall wrapper (no unwind rows for its
 * caller yet) leaves the wrapper's return address at the stack top: libc's
 * mmap and munmap wrappers are leaf functions that push nothing.
 */
static __always_inline bool walked_in_alloc(__u64 sp)
{
	struct ht_stack *st;
	__u32 zero = 0, found = 0;
	__u64 ra = 0;

	if (!alloc_code_n)
		return false;
	bpf_loop(HT_MAX_FRAMES, in_alloc_step, &found, 0);
	if (found)
		return true;
	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st || st->ips[1])
		return false;
	bpf_probe_read_user(&ra, sizeof(ra), (void *)sp);
	return ra && in_alloc_code(ra);
}

/*
 * Before the start gate (-- COMMAND: the loader knows no allocator code
 * yet, and no unwind rows), the return address each program mapping's
 * syscall wrapper left at the stack top, by the mapping's address: at the
 * gate the loader moves those made from allocator code (jemalloc's
 * constructor maps its first extents) to the allocator's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} early_ra SEC(".maps");

static __always_inline void note_early(__u64 addr, __u64 sp)
{
	struct ht_stack *st;
	__u32 zero = 0;
	__u64 ra = 0;

	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st || st->ips[1])
		return;
	bpf_probe_read_user(&ra, sizeof(ra), (void *)sp);
	if (ra)
		bpf_map_update_elem(&early_ra, &addr, &ra, BPF_ANY);
}

static __always_inline __u64 task_sp(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	return regs->sp;
}

/* ---- heap ---- */

static __always_inline void heap_free(__u64 addr, __u32 slot)
{
	struct ht_alloc *p, v;

	addr |= (__u64)slot << HT_SLOT_SHIFT;
	p = bpf_map_lookup_elem(&allocs, &addr);

	if (!p) {
		/* sampled or size-filtered: most were never recorded */
		if (!sample_bytes && !min_size && max_size == ~0ULL)
			count(HT_C_UNKNOWN_FREE);
		return;
	}
	v = *p;
	if (bpf_map_delete_elem(&allocs, &addr))
		return;	/* a racing free got it */
	agg_sub(&v, v.size, 1, slot);
}

/* --sample: the bytes and allocations one sample of size bytes stands for */
static __always_inline __u64 sample_scale(__u64 size, __u32 *n)
{
	__u64 r = sample_bytes, w = size, *lo, *hi, step;
	__u32 k;

	*n = 1;
	if (!r)
		return size;
	step = r / 64 ? r / 64 : 1;
	k = size / step;
	if (k < HT_SAMPLE_STEPS) {
		__u32 k1 = k + 1;

		lo = bpf_map_lookup_elem(&sample_weight, &k);
		hi = bpf_map_lookup_elem(&sample_weight, &k1);
		if (lo && hi)	/* w is smooth: linear between grid points */
			w = *lo + (*hi - *lo) * (size - (__u64)k * step) / step;
	}
	if (size && w > size) {
		/* w / size allocations, rounded up or down at random in
		 * proportion to the remainder: nearest would be biased
		 * (1.58 -> 2 for a sample the size of the rate) */
		__u64 q = w / size, rem = w - q * size;
		__u64 u = (__u64)bpf_get_prandom_u32() << 32 |
			  bpf_get_prandom_u32();

		if (rem && u % size < rem)
			q++;
		*n = q > 0xffffffffULL ? 0xffffffff : q;
	}
	return w;
}

static __always_inline void heap_record(struct pt_regs *ctx, __u64 addr,
					__u64 size, __u32 kind, __u32 slot)
{
	struct ht_alloc v = { .size = size, .kind = kind };
	struct ht_agg *a;
	__u64 key;
	long err;

	if (!addr)
		return;
	key = addr | (__u64)slot << HT_SLOT_SHIFT;
	v.stack = stack_of(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx),
			   slot);
	v.ts = bpf_ktime_get_ns();
	v.size = sample_scale(size, &v.weight);
	a = agg_for(&v.stack, kind, slot);
	if (!a) {
		count(HT_C_DROP_ALLOC);
		return;
	}
	err = bpf_map_update_elem(&allocs, &key, &v, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		/* an address handed out again: we missed its free */
		heap_free(addr, slot);
		err = bpf_map_update_elem(&allocs, &key, &v, BPF_NOEXIST);
	}
	if (err) {
		count(HT_C_DROP_ALLOC);
		return;
	}
	agg_add_n(a, v.size, v.ts, v.weight);
}

/*
 * --sample: Poisson sampling by bytes, as tcmalloc and Go do. Each thread
 * counts down a distance drawn from an exponential distribution of mean
 * sample_bytes; the allocation that reaches zero is sampled.
 */
static __always_inline bool sampled(struct tstate *t, __u64 size)
{
	if (!sample_bytes)
		return true;
	t->countdown -= size;
	if (t->countdown > 0)
		return false;
	t->countdown = sample_distance();
	return true;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 kind, __u64 size,
				 __u64 ptr, int slot)
{
	struct tstate *t;
	__u64 sp = PT_REGS_SP(ctx);

	if (slot < 0)
		return 0;
	t = thread_state();
	if (!t)
		return 0;
	if (inside(t, sp)) {
		count(HT_C_NESTED);
		return 0;
	}
	bpf_probe_read_user(&t->ret_addr, sizeof(t->ret_addr), (void *)sp);
	t->sp = sp;
	if (size < min_size || size > max_size || !sampled(t, size)) {
		/* no return will be seen: a realloc's old block goes now */
		if (ptr && (kind == HT_REALLOC || kind == HT_REALLOCARRAY))
			heap_free(ptr, slot);
		t->kind = HT_UNSAMPLED;	/* its brk/mmap are the allocator's */
		return 0;
	}
	t->size = size;
	t->ptr = ptr;
	t->kind = kind;
	return 1;
}

static __always_inline __u64 mul_sat(__u64 a, __u64 b)
{
	__u64 q;

	if (!a)
		return 0;
	q = ~0ULL / a;
	asm volatile("" : "+r"(q));	/* keep clang from a 128-bit multiply */
	return b > q ? ~0ULL : a * b;
}

static __always_inline int free_enter(struct pt_regs *ctx, __u64 ptr,
				      int slot)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tstate *t;

	if (!ptr || slot < 0)
		return 0;
	t = thread_find(tid);
	if (t && inside(t, PT_REGS_SP(ctx)))
		return 0;	/* realloc(p, 0) frees p itself: counted there */
	heap_free(ptr, slot);
	return 0;
}

/*
 * The entry of any allocator function; the attach cookie says which. 1
 * when its return must be seen (an allocation to record).
 */
static __always_inline int on_entry(struct pt_regs *ctx)
{
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx);
	__u64 a2 = PT_REGS_PARM3(ctx);
	__u32 kind = bpf_get_attach_cookie(ctx);
	int slot = traced_slot(0);

	switch (kind) {
	case HT_FREE:
		return free_enter(ctx, a0, slot);
	case HT_MALLOC:
	case HT_VALLOC:
		return enter(ctx, kind, a0, 0, slot);
	case HT_PVALLOC:	/* pvalloc hands out whole pages */
		return enter(ctx, kind, (a0 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1),
			     0, slot);
	case HT_CALLOC:
		return enter(ctx, kind, mul_sat(a0, a1), 0, slot);
	case HT_REALLOC:
		return enter(ctx, kind, a1, a0, slot);
	case HT_REALLOCARRAY:
		return enter(ctx, kind, mul_sat(a1, a2), a0, slot);
	case HT_POSIX_MEMALIGN:
		return enter(ctx, kind, a2, a0, slot);
	case HT_ALIGNED_ALLOC:
	case HT_MEMALIGN:
		return enter(ctx, kind, a1, 0, slot);
	}
	return 0;
}

/* The return of any allocator function: the state says which call. */
static __always_inline int on_return(struct pt_regs *ctx, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tstate *t;
	__u64 size, ptr, addr = ret;
	int slot = traced_slot(0);
	__u32 kind;

	if (slot < 0)
		return 0;
	t = thread_find(tid);
	/* a nested call returns below the owner's entry sp */
	if (!t || t->kind == HT_NONE || PT_REGS_SP(ctx) <= t->sp)
		return 0;
	kind = t->kind;
	size = t->size;
	ptr = t->ptr;
	t->kind = HT_NONE;
	if (kind == HT_UNSAMPLED)
		return 0;

	switch (kind) {
	case HT_REALLOC:
	case HT_REALLOCARRAY:
		if (ret) {
			if (ptr)
				heap_free(ptr, slot);
		} else if (ptr && size == 0) {
			heap_free(ptr, slot);	/* realloc(p, 0) frees p */
		}
		break;
	case HT_POSIX_MEMALIGN:
		addr = 0;
		if ((int)ret == 0)
			bpf_probe_read_user(&addr, sizeof(addr), (void *)ptr);
		break;
	default:
		break;
	}
	heap_record(ctx, addr, size, kind, slot);
	return 0;
}

/*
 * One entry and one return program serve every allocator function, so
 * that a single uprobe_multi link carries all of them.
 */
SEC("uprobe")
int alloc_enter(struct pt_regs *ctx)
{
	on_entry(ctx);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	return on_return(ctx, ret);
}

/*
 * Session uprobes (Linux 6.13+): one program sees entry and return, and
 * an entry that returns non-zero has no return probe at all, so a call
 * that --sample skips costs a single trap. Loaded only where the kernel
 * has them.
 */
extern bool bpf_session_is_return(void) __ksym __weak;

SEC("uprobe")
int alloc_session(struct pt_regs *ctx)
{
	if (bpf_session_is_return())
		return on_return(ctx, PT_REGS_RC(ctx));
	return !on_entry(ctx);
}

/* ---- mappings and brk made by the program itself ---- */

struct unmap_ctx {
	__u64 lo, hi;
	__u64 ins_key;
	struct ht_alloc ins;
	int has_ins;
	__u32 slot;
};

static long unmap_cb(struct bpf_map *map, __u64 *key, struct ht_alloc *v,
		     struct unmap_ctx *c)
{
	__u64 s = *key & HT_ADDR_MASK, e = s + v->size;
	__u64 hi = (__u64)c->slot << HT_SLOT_SHIFT;

	if (*key >> HT_SLOT_SHIFT != c->slot || e <= c->lo || s >= c->hi)
		return 0;
	if (c->lo <= s && c->hi >= e) {
		agg_sub(v, v->size, 1, c->slot);
		bpf_map_delete_elem(&mappings, key);
	} else if (s < c->lo && c->hi < e) {
		/* a hole in the middle: the tail becomes a mapping of its own */
		struct ht_agg *a;

		agg_sub(v, c->hi - c->lo, 0, c->slot);
		a = agg_get(v->stack, v->kind, c->slot);
		if (a) {
			__sync_fetch_and_add(&a->live_count, 1);
			__sync_fetch_and_add(&a->ts_sum_ms, v->ts / 1000000);
			agg_touch(a);
		}
		c->ins = *v;
		c->ins.size = e - c->hi;
		c->ins_key = c->hi | hi;
		c->has_ins = 1;
		v->size = c->lo - s;
	} else if (s < c->lo) {
		agg_sub(v, e - c->lo, 0, c->slot);
		v->size = c->lo - s;
	} else {
		agg_sub(v, c->hi - s, 0, c->slot);
		c->ins = *v;
		c->ins.size = e - c->hi;
		c->ins_key = c->hi | hi;
		c->has_ins = 1;
		bpf_map_delete_elem(&mappings, key);
	}
	return 0;
}

static __always_inline void unmap_range(__u64 lo, __u64 len, __u32 slot)
{
	struct unmap_ctx c = { .lo = lo, .hi = lo + len, .slot = slot };

	if (!len)
		return;
	bpf_for_each_map_elem(&mappings, unmap_cb, &c, 0);
	if (c.has_ins &&
	    bpf_map_update_elem(&mappings, &c.ins_key, &c.ins, BPF_ANY))
		count(HT_C_DROP_MAPPING);
}

static __always_inline void map_record(__u64 addr, __u64 len, __u64 stack,
				       __u32 kind, __u64 ts, __u32 slot)
{
	struct ht_alloc v = { .size = len, .stack = stack, .ts = ts,
			      .kind = kind };
	struct ht_agg *a = agg_for(&v.stack, kind, slot);

	if (!a) {
		count(HT_C_DROP_MAPPING);
		return;
	}
	addr |= (__u64)slot << HT_SLOT_SHIFT;
	if (bpf_map_update_elem(&mappings, &addr, &v, BPF_ANY)) {
		count(HT_C_DROP_MAPPING);
		return;
	}
	agg_add(a, len, ts);
}

static __always_inline __u64 page_up(__u64 len)
{
	return (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* --faults (faults.bpf.h): the target's mappings may change */
static __always_inline void vma_changed(void);

/* Save a syscall's arguments; skip it if an allocator call made it. */
static __always_inline struct tstate *sc_enter(__u64 a0, __u64 a1, __u64 a2)
{
	struct tstate *t;

	if (traced_slot(1) < 0)
		return NULL;
	vma_changed();
	t = thread_state();
	if (!t)
		return NULL;
	t->sc_skip = 0;
	t->sc_alloc = t->kind != HT_NONE && inside(t, task_sp());
	t->sc_exec = 0;
	t->sc_a0 = a0;
	t->sc_a1 = a1;
	t->sc_a2 = a2;
	return t;
}

/* The thread's saved syscall, if it succeeded (allocator's or not). */
static __always_inline struct tstate *sc_exit_any(long ret, __u32 *slot)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	int sl = traced_slot(1);
	struct tstate *t;

	if (sl < 0)
		return NULL;
	*slot = sl;
	vma_changed();
	t = thread_find(tid);
	if (!t || (ret < 0 && ret > -4096))
		return NULL;
	return t;
}

static __always_inline struct tstate *sc_exit(long ret, __u32 *slot)
{
	struct tstate *t = sc_exit_any(ret, slot);

	return t && !t->sc_skip ? t : NULL;
}

#include "faults.bpf.h"

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct tstate *t = sc_enter(ctx->args[0], ctx->args[1], ctx->args[3]);

	if (!t || (t->sc_a2 & MAP_ANONYMOUS))
		return 0;
	/* new code: the stack walker must not guess through it before the
	 * loader has placed its unwind rows (unwind.bpf.h) */
	t->sc_exec = !!(ctx->args[2] & PROT_EXEC);
	/* file mappings are not heap; under --faults a MAP_FIXED one
	 * still replaces counted pages */
	if (!faults_mode)
		t->sc_skip = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct tstate *t;
	__u64 len, stack;
	__u32 slot = 0;

	t = sc_exit_any(ctx->ret, &slot);
	if (!t)
		return 0;
	len = page_up(t->sc_a1);
	/* the rows are the target's (slot 0): a followed process's code
	 * is walked by frame pointers, never held up as pending (its new
	 * program's first stacks were cut at [no unwind rows]) */
	if (t->sc_exec && !slot) {
		code_mapped(ctx->ret, ctx->ret + len);
		event(HT_EV_MAP, 0);
	}
	t->sc_exec = 0;
	if (t->sc_skip)
		return 0;
	if (faults_mode) {
		/* only MAP_FIXED can land on counted pages: a fresh
		 * mapping costs no walk over its range */
		if (t->sc_a2 & MAP_FIXED)
			pages_drop(ctx->ret, len);
		return 0;
	}
	unmap_range(ctx->ret, len, slot); /* MAP_FIXED replaces what was there */
	/*
	 * The allocator's own reservations (extents, spans, arenas, a large
	 * block's mapping) are kept apart, under one aggregate: their stacks
	 * are the allocator's, and the program's request is counted at its
	 * allocator call already.
	 */
	if (t->sc_alloc) {
		map_record(ctx->ret, len, 0, HT_ARENA, bpf_ktime_get_ns(), slot);
		return 0;
	}
	stack = task_stack(slot);
	if (walked_in_alloc(task_sp())) {
		map_record(ctx->ret, len, 0, HT_ARENA, bpf_ktime_get_ns(), slot);
		return 0;
	}
	map_record(ctx->ret, len, stack, HT_MMAP, bpf_ktime_get_ns(), slot);
	if (gate_armed && !slot)
		note_early(ctx->ret, task_sp());
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	sc_enter(ctx->args[0], ctx->args[1], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int munmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 slot = 0;
	struct tstate *t = sc_exit(ctx->ret, &slot);

	if (t && faults_mode)
		pages_drop(t->sc_a0, page_up(t->sc_a1));
	else if (t)
		unmap_range(t->sc_a0, page_up(t->sc_a1), slot);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct tstate *t = sc_enter(ctx->args[0], ctx->args[1], ctx->args[2]);

	if (t)
		t->sc_a3 = ctx->args[3];	/* flags */
	return 0;
}

struct find_ctx {
	__u64 addr;	/* with the slot bits, as the keys */
	struct ht_alloc v;
	int found;
};

static long find_cb(struct bpf_map *map, __u64 *key, struct ht_alloc *v,
		    struct find_ctx *c)
{
	/* another slot's keys differ above the address bits */
	if (c->addr < *key || c->addr - *key >= v->size)
		return 0;
	c->v = *v;
	c->found = 1;
	return 1;
}

/*
 * A moved or resized mapping keeps the stack and age of the original,
 * also when only part of it was remapped (from anywhere in it).
 * MREMAP_DONTUNMAP leaves the old range mapped: the program holds both.
 */
SEC("tracepoint/syscalls/sys_exit_mremap")
int mremap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct find_ctx c = {};
	struct ht_alloc *p;
	struct tstate *t;
	__u32 slot = 0;

	t = sc_exit(ctx->ret, &slot);
	if (!t)
		return 0;
	c.addr = t->sc_a0 | (__u64)slot << HT_SLOT_SHIFT;
	if (faults_mode) {
		pages_remap(t->sc_a0, page_up(t->sc_a1), ctx->ret,
			    page_up(t->sc_a2));
		return 0;
	}
	p = bpf_map_lookup_elem(&mappings, &c.addr);
	if (p)
		c.v = *p;
	else
		bpf_for_each_map_elem(&mappings, find_cb, &c, 0);
	if (!p && !c.found)
		return 0;
	if (!(t->sc_a3 & MREMAP_DONTUNMAP))
		unmap_range(t->sc_a0, page_up(t->sc_a1), slot);
	unmap_range(ctx->ret, page_up(t->sc_a2), slot);
	map_record(ctx->ret, page_up(t->sc_a2), c.v.stack, c.v.kind, c.v.ts,
		   slot);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_brk")
int brk_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	sc_enter(BPF_CORE_READ(task, mm, brk), 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_brk")
int brk_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 old, new = ctx->ret;
	__u32 slot = 0;
	struct tstate *t;

	t = sc_exit(ctx->ret, &slot);
	if (!t || t->sc_alloc)	/* glibc's main heap: not a mapping */
		return 0;
	old = t->sc_a0;
	if (faults_mode) {
		if (new < old)
			pages_drop(new, old - new);
		return 0;
	}
	if (new > old)
		map_record(old, new - old, task_stack(slot), HT_BRK,
			   bpf_ktime_get_ns(), slot);
	else if (new < old)
		unmap_range(new, old - new, slot);
	return 0;
}

/*
 * A program heaptrail starts maps libc only after exec. Stopping it once
 * at __libc_start_main, before main runs, lets the loader place libc's
 * unwind rows before the program's own allocations start.
 */
SEC("uprobe")
int start_gate(struct pt_regs *ctx)
{
	if (is_target() && __sync_lock_test_and_set(&gate_armed, 0))
		bpf_send_signal(19 /* SIGSTOP */);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int thread_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), i = tid & (TSLOTS - 1);
	struct tslot *s;

	if (traced_slot(1) < 0)
		return 0;
	s = bpf_map_lookup_elem(&tslots, &i);
	if (s && s->tid == tid)
		__sync_val_compare_and_swap(&s->tid, (__u64)tid, 0);
	else
		bpf_map_delete_elem(&threads, &tid);
	return 0;
}

/*
 * Reclaim: the loader runs this once per ledger key after the phase and
 * its grace period, when nothing writes the ledger any more: the key's
 * changes made during the phase go into aggs, with atomic adds, as the
 * probes' own changes go.
 */
SEC("syscall")
int ledger_fold(struct ht_agg_key *ctx)
{
	struct ht_agg_key k = *ctx;
	struct ht_agg *l = bpf_map_lookup_elem(&ledger, &k), v, *a, zero = {};

	if (!l)
		return 0;
	v = *l;
	bpf_map_delete_elem(&ledger, &k);
	zero.key = k;
	a = bpf_map_lookup_elem(&aggs, &k);
	if (!a) {
		bpf_map_update_elem(&aggs, &k, &zero, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&aggs, &k);
	}
	if (!a) {	/* full: [unrecorded stacks] keeps room */
		count(HT_C_DROP_AGG);
		k.stack = 0;
		zero.key = k;
		bpf_map_update_elem(&aggs, &k, &zero, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&aggs, &k);
		if (!a)
			return 1;
	}
	__sync_fetch_and_add(&a->live_bytes, v.live_bytes);
	__sync_fetch_and_add(&a->live_count, v.live_count);
	__sync_fetch_and_add(&a->alloc_bytes, v.alloc_bytes);
	__sync_fetch_and_add(&a->alloc_count, v.alloc_count);
	__sync_fetch_and_add(&a->free_bytes, v.free_bytes);
	__sync_fetch_and_add(&a->free_count, v.free_count);
	__sync_fetch_and_add(&a->ts_sum_ms, v.ts_sum_ms);
	agg_touch(a);
	return 0;
}

/*
 * How full the maps are, for every report: the kernel counts each hash
 * map's elements (Linux 6.6+); the loader runs this and reads map_fill.
 */
extern __s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym __weak;

__s64 map_fill[HT_NFILLS];

SEC("syscall")
int fill_levels(void *ctx)
{
	if (!bpf_map_sum_elem_count)
		return 1;
	map_fill[HT_F_STACKS] = bpf_map_sum_elem_count((void *)&stacks);
	map_fill[HT_F_AGGS] = bpf_map_sum_elem_count((void *)&aggs);
	map_fill[HT_F_ALLOCS] = bpf_map_sum_elem_count((void *)&allocs);
	map_fill[HT_F_MAPPINGS] = bpf_map_sum_elem_count((void *)&mappings);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
