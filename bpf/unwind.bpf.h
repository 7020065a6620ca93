/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stack walker. bpf_get_stack() follows frame pointers only, and
 * Debian's libc has none: a stack taken where malloc returns into strdup(),
 * or at the syscall inside mmap(), loses the caller that matters. So we
 * walk the stack ourselves: where the pc lies in a module whose .eh_frame
 * rows userspace loaded, apply the CFA rule of that row; elsewhere follow
 * the frame pointer chain, except in code mapped since the loader last
 * looked (a library just dlopen'd): whether it keeps frame pointers is not
 * known yet, so the stack ends there, marked as cut, rather than follow a
 * guess.
 */
#ifndef UNWIND_BPF_H
#define UNWIND_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HT_MAX_MODULES);
	__type(key, __u32);
	__type(value, struct ht_module);
} modules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* resized by the loader */
	__type(key, __u32);
	__type(value, struct ht_urow);
} urows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ht_stack);
} scratch SEC(".maps");

/*
 * A small per-CPU cache of pc -> unwind row. Allocation call sites repeat,
 * so most frames skip the module scan and the row search. Entries carry
 * the generation they were found in; the loader bumps unwind_gen whenever
 * it moves modules, which makes every older entry a miss.
 */
#define UCACHE_SIZE 512	/* power of two */

enum { UC_FP = 1, UC_ROW, UC_STOP, UC_NO_ROWS };

struct ucache_ent {
	__u64 pc;
	struct ht_urow row;
	__u32 gen;
	__u32 what;	/* UC_* */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UCACHE_SIZE);
	__type(key, __u32);
	__type(value, struct ucache_ent);
} ucache SEC(".maps");

__u32 unwind_gen;

/* executable file mappings the loader has not looked at yet */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HT_MAX_PENDING);
	__type(key, __u64);	/* start address */
	__type(value, struct ht_pending);
} pending SEC(".maps");

__u64 pending_seq;
/* mappings the pending map had no room for: while non-zero, any code
 * outside the loaded modules may be such a mapping (the loader resets it
 * once it has looked at all of them) */
__u64 pending_full;

/* The mmap tracepoint saw code mapped at [start, end): wake the loader. */
static __always_inline void code_mapped(__u64 start, __u64 end)
{
	struct ht_pending v = { .end = end,
				.seq = __sync_fetch_and_add(&pending_seq, 1) + 1 };

	if (bpf_map_update_elem(&pending, &start, &v, BPF_ANY))
		__sync_fetch_and_add(&pending_full, 1);
	/* a pc cached as walkable by frame pointers may lie in it */
	__sync_fetch_and_add(&unwind_gen, 1);
}

struct pending_search {
	__u64 pc;
	int found;
};

static long pending_step(struct bpf_map *map, __u64 *start,
			 struct ht_pending *v, struct pending_search *c)
{
	if (c->pc >= *start && c->pc < v->end) {
		c->found = 1;
		return 1;
	}
	return 0;
}

/* Is pc (outside every loaded module) in code the loader has not seen? */
static __always_inline int pc_pending(__u64 pc)
{
	struct pending_search c = { .pc = pc };

	if (pending_full)
		return 1;
	bpf_for_each_map_elem(&pending, pending_step, &c, 0);
	return c.found;
}

/*
 * The top of the user stack, copied once per walk: most frames of a stack
 * lie within a few hundred bytes of sp, and one copy costs about what
 * two single-word bpf_probe_read_user() calls do.
 */
#define STACK_WIN 1024	/* power of two */

struct stack_win {
	__u8 b[STACK_WIN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_win);
} stackwin SEC(".maps");

struct walk {
	struct stack_win *win;
	__u64 tramp;	/* the uretprobe trampoline, 0 if none */
	struct return_instance *ri;	/* the next one to stand for it */
	__u64 win_lo, win_len;	/* user addresses [win_lo, win_lo + win_len) */
	__u64 pc, sp, bp;
	__u64 hash;
	struct ht_stack *st;
	__u32 last;	/* index of the previous frame's module */
	__u32 gen;
	__u32 n;
	__u32 truncated;
};

/*
 * The module scan and the row search run as bpf_loop() callbacks: the
 * verifier checks each body once instead of every path through the loops.
 */
struct mod_search {
	__u64 pc;
	const struct ht_module *found;
	__u32 idx;
};

static long mod_step(__u32 i, struct mod_search *c)
{
	const struct ht_module *m = bpf_map_lookup_elem(&modules, &i);

	if (!m || !m->end)
		return 1;
	if (c->pc >= m->start && c->pc < m->end) {
		c->found = m;
		c->idx = i;
		return 1;
	}
	return 0;
}

/* Callers are often in the module of their callee: try that one first. */
static __always_inline const struct ht_module *find_module(struct walk *w,
							   __u64 pc)
{
	struct mod_search c = { .pc = pc };
	const struct ht_module *m = bpf_map_lookup_elem(&modules, &w->last);

	if (m && pc >= m->start && pc < m->end)
		return m;
	bpf_loop(HT_MAX_MODULES, mod_step, &c, 0);
	if (c.found)
		w->last = c.idx;
	return c.found;
}

struct row_search {
	__u32 lo, hi, vpc;
};

static long row_step(__u32 i, struct row_search *c)
{
	const struct ht_urow *r;
	__u32 mid;

	if (c->hi - c->lo <= 1)
		return 1;
	mid = c->lo + (c->hi - c->lo) / 2;
	r = bpf_map_lookup_elem(&urows, &mid);
	if (!r)
		return 1;
	if (r->pc <= c->vpc)
		c->lo = mid;
	else
		c->hi = mid;
	return 0;
}

/* The last row whose pc is <= vpc, within the module's slice. */
static __always_inline const struct ht_urow *find_row(const struct ht_module *m,
						       __u32 vpc)
{
	struct row_search c = { .lo = m->row_off,
				.hi = m->row_off + m->row_cnt, .vpc = vpc };
	const struct ht_urow *r;

	bpf_loop(HT_BSEARCH_STEPS, row_step, &c, 0);
	r = bpf_map_lookup_elem(&urows, &c.lo);
	if (!r || r->pc > vpc)
		return NULL;
	return r;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/*
 * A word of the user stack: from the window, else read on its own. A
 * global function, so the verifier checks it once: inlined, its branches
 * multiplied the walk's states past the verifier's limit.
 */
__noinline int uword_at(const struct stack_win *win, __u64 lo, __u64 len,
			__u64 addr, __u64 *v)
{
	__u64 off = addr - lo;

	if (!v)
		return -1;
	if (win && addr >= lo && off + 8 <= len && off <= STACK_WIN - 8) {
		*v = *(__u64 *)&win->b[off];
		return 0;
	}
	return bpf_probe_read_user(v, sizeof(*v), (void *)addr);
}

static __always_inline int uword(struct walk *w, __u64 addr, __u64 *v)
{
	return uword_at(w->win, w->win_lo, w->win_len, addr, v);
}

static const struct ht_urow stop_row = { .cfa_reg = HT_CFA_STOP };

/* not a rule of any table: the walk ends with HT_FRAME_NO_ROWS */
#define CFA_NO_ROWS 0xff
static const struct ht_urow no_rows_row = { .cfa_reg = CFA_NO_ROWS };

/*
 * The unwind row for pc, through the cache; NULL where no module has rows
 * (frame pointers then), stop_row where a module has no rule for pc,
 * no_rows_row in code the loader has not looked at yet.
 */
static __always_inline const struct ht_urow *lookup_row(struct walk *w,
							 __u64 pc)
{
	__u32 idx = (__u32)(pc ^ (pc >> 9)) & (UCACHE_SIZE - 1);
	struct ucache_ent *e = bpf_map_lookup_elem(&ucache, &idx);
	const struct ht_module *m;
	const struct ht_urow *r;

	if (e && e->pc == pc && e->gen == w->gen)
		return e->what == UC_ROW ? &e->row :
		       e->what == UC_STOP ? &stop_row :
		       e->what == UC_NO_ROWS ? &no_rows_row : NULL;
	/* pc - 1: a return address may be the first byte of the next row */
	m = find_module(w, pc - 1);
	r = m ? find_row(m, (__u32)(pc - 1 - m->bias)) : NULL;
	if (!m && pc_pending(pc - 1)) {
		if (e) {
			e->pc = pc;
			e->gen = w->gen;
			e->what = UC_NO_ROWS;
		}
		return &no_rows_row;
	}
	if (!e)
		return m ? (r ? r : &stop_row) : NULL;
	e->pc = pc;
	e->gen = w->gen;
	if (!m) {
		e->what = UC_FP;
		return NULL;
	}
	if (!r) {
		e->what = UC_STOP;
		return &stop_row;
	}
	e->row = *r;
	e->what = UC_ROW;
	return &e->row;
}

/* the [uprobes] page, where the kernel's return trampoline is */
static __always_inline __u64 xol_page(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	return BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
}

/*
 * A pending uretprobe (another tool's, or another heaptrail's) put the
 * kernel's trampoline where a return address was; the kernel keeps the
 * real one in the thread's return instances, newest first, in the order
 * the walk meets them. A chained instance (a tail call) shares the slot
 * of the one after it. Without this the stack ends, or splits, there.
 */
static __always_inline __u64 real_return(struct walk *w, __u64 ra)
{
	struct return_instance *ri = w->ri;
	int k;

	if (!ra || ra != w->tramp || !ri)
		return ra;
	ra = BPF_CORE_READ(ri, orig_ret_vaddr);
	for (k = 0; k < 8 && ri && BPF_CORE_READ(ri, chained); k++)
		ri = BPF_CORE_READ(ri, next);
	w->ri = ri ? BPF_CORE_READ(ri, next) : NULL;
	return ra;
}

static long walk_step(__u32 i, struct walk *w)
{
	const struct ht_urow *r;
	__u64 pc = w->pc, cfa, ra = 0, bp = w->bp;

	if (!pc)
		return 1;
	if (w->n >= HT_MAX_FRAMES) {
		w->truncated = 1;
		return 1;
	}
	w->st->ips[w->n & (HT_MAX_FRAMES - 1)] = pc;
	w->hash = mix(w->hash, pc);
	w->n++;

	r = lookup_row(w, pc);
	if (r) {
		if (r->cfa_reg == HT_CFA_STOP)
			return 1;
		if (r->cfa_reg == CFA_NO_ROWS) {
			/* the frame above stays unknown: say the stack is
			 * cut here, in a frame no function has */
			if (w->n < HT_MAX_FRAMES) {
				w->st->ips[w->n & (HT_MAX_FRAMES - 1)] =
					HT_FRAME_NO_ROWS;
				w->hash = mix(w->hash, HT_FRAME_NO_ROWS);
				w->n++;
			}
			w->truncated = 1;
			return 1;
		}
		cfa = (r->cfa_reg == HT_CFA_SP ? w->sp : w->bp) + r->cfa_off;
		if (uword(w, cfa - 8, &ra))
			return 1;
		if (r->bp_saved && uword(w, cfa + r->bp_off, &bp))
			return 1;
		w->sp = cfa;
		w->bp = bp;
		w->pc = real_return(w, ra);
		return 0;
	}

	/* frame pointer: [bp] = caller's bp, [bp + 8] = return address */
	if (!bp || bp < w->sp)
		return 1;
	if (uword(w, bp, &w->bp) || uword(w, bp + 8, &w->pc))
		return 1;
	w->pc = real_return(w, w->pc);
	w->sp = bp + 16;
	return 0;
}

/*
 * Walk the user stack from (pc, sp, bp), store it in the stacks map and
 * return its key; 0 means "unknown stack" (stack map full).
 */
static __always_inline __u64 capture_stack(void *stacks, __u64 pc, __u64 sp,
					   __u64 bp, __u32 *truncated)
{
	__u32 zero = 0;
	struct walk w = { .pc = pc, .sp = sp, .bp = bp,
			  .hash = 0xcbf29ce484222325ULL, .gen = unwind_gen };
	long err;

	w.st = bpf_map_lookup_elem(&scratch, &zero);
	if (!w.st)
		return 0;
	w.tramp = xol_page();
	if (w.tramp) {
		struct task_struct *task = (void *)bpf_get_current_task();

		w.ri = BPF_CORE_READ(task, utask, return_instances);
	}
	w.win = bpf_map_lookup_elem(&stackwin, &zero);
	if (w.win) {
		/* the stack may end within the window: then up to the end
		 * of sp's page, which is mapped */
		__u64 len = 4096 - (sp & 4095);

		if (!bpf_probe_read_user(w.win->b, STACK_WIN, (void *)sp))
			len = STACK_WIN;
		else if (len > STACK_WIN ||
			 bpf_probe_read_user(w.win->b, len & (STACK_WIN - 1),
					     (void *)sp))
			len = 0;
		w.win_lo = sp;
		w.win_len = len;
	}
	bpf_loop(HT_MAX_FRAMES + 1, walk_step, &w, 0);
	if (w.n < HT_MAX_FRAMES)
		w.st->ips[w.n & (HT_MAX_FRAMES - 1)] = 0;
	*truncated = w.truncated;
	w.hash = mix(w.hash, w.n);
	if (!w.hash)
		w.hash = 1;	/* 0 is reserved for "unknown" */
	/* before the lookup: the loader may be deleting it (doomed) */
	doomed_id(w.hash);
	if (bpf_map_lookup_elem(stacks, &w.hash))
		return w.hash;
	err = bpf_map_update_elem(stacks, &w.hash, w.st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU won */)
		return 0;
	return w.hash;
}

#endif /* UNWIND_BPF_H */
