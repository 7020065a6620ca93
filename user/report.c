// SPDX-License-Identifier: GPL-2.0
/* The text report: totals, drops, then the top stacks by outstanding bytes. */
#include <inttypes.h>
#include <time.h>

#include "child.h"
#include "report.h"
#include "stacksyms.h"
#include "util.h"

const char *fmt_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while ((b >= 1024 || b <= -1024) && u < 4) {
		b /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.2f %s", b, unit[u]);
	else
		snprintf(buf, len, "%.0f B", b);
	return buf;
}

/* Modules with frames left as module+offset, for the trailer. */
#define UNSYM_MAX 16
struct unsym {
	const struct sym_mod *v[UNSYM_MAX];
	int n;
};

static void note_unsym(struct unsym *u, const struct sym_mod *m)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->v[i] == m)
			return;
	if (u->n < UNSYM_MAX)
		u->v[u->n++] = m;
}

/*
 * Every pc is just past a call or a syscall instruction. One line per
 * source-level frame: "NAME+0xOFF (MODULE) FILE:LINE" for the function,
 * "NAME (inlined) FILE:LINE" for each call inlined into it, innermost
 * first.
 */
static void print_frame(FILE *out, const struct profile *p, uint32_t slot,
			uint64_t pc,
			struct unsym *u)
{
	const struct frame *v;
	int n = profile_frames(p, slot, pc, &v), i;

	for (i = 0; i < n; i++) {
		const struct frame *f = &v[i];

		if (f->synthetic) {
			fprintf(out, "        %s", f->func);
		} else if (f->inlined) {
			fprintf(out, "        %s (inlined)", f->func);
		} else if (f->func) {
			fprintf(out, "        %s+0x%" PRIx64 " (%s)", f->func,
				f->off, f->module);
		} else if (f->module) {
			fprintf(out, "        %s+0x%" PRIx64, f->module, f->off);
			if (f->mod)
				note_unsym(u, f->mod);
		} else {
			fprintf(out, "        [unknown] 0x%" PRIx64, pc);
		}
		if (f->file)
			fprintf(out, " %s:%d", src_basename(f->file), f->line);
		fputc('\n', out);
	}
}

/* What is needed to symbolize the report later, and what it cost now. */
static void print_trailer(FILE *out, struct symbolizer *s,
			  const struct sym_stats *before, const struct unsym *u)
{
	int i;

	for (i = 0; i < u->n; i++) {
		const struct sym_mod *m = u->v[i];

		fprintf(out, "unsymbolized module: %s build-id %s path %s\n",
			m->name,
			m->img && m->img->build_id[0] ? m->img->build_id : "none",
			m->path ? m->path : "?");
	}
	fprintf(out,
		"symbolized %" PRIu64 " frame%s in %.2f ms (%u file%s read, %u with DWARF; %.2f ms loading so far)\n",
		s->st.frames - before->frames,
		plural(s->st.frames - before->frames),
		(s->st.lookup_ns - before->lookup_ns) / 1e6, s->st.objs,
		plural(s->st.objs), s->st.dwarf, s->st.load_ns / 1e6);
}

long report_find(const struct profile *p, const struct ht_agg_key *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].key.stack == key->stack &&
		    p->v[i].key.kind == key->kind &&
		    p->v[i].key.proc == key->proc)
			return i;
	return -1;
}

static void print_ages(FILE *out, const struct age_row *a)
{
	const char *sep = "";
	int b;

	fprintf(out, "oldest %.1f s [", a->oldest_ms / 1000.0);
	for (b = 0; b < AGE_BUCKETS; b++) {
		if (!a->hist[b])
			continue;
		fprintf(out, "%s%s:%" PRIu64, sep, age_bucket_names[b],
			a->hist[b]);
		sep = " ";
	}
	fprintf(out, "], ");
}

static void print_memory(FILE *out, const struct profile *p,
			 const struct report_opts *o)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32];

	if (!o->mem || !o->mem0)
		return;
	fprintf(out,
		"process: RSS %s (%s%s since attach), anonymous %s (%s%s); heaptrail tracks %s made since attach\n",
		fmt_bytes(o->mem->rss, b1, sizeof(b1)),
		o->mem->rss >= o->mem0->rss ? "+" : "",
		fmt_bytes((double)o->mem->rss - o->mem0->rss, b2, sizeof(b2)),
		fmt_bytes(o->mem->anon, b3, sizeof(b3)),
		o->mem->anon >= o->mem0->anon ? "+" : "",
		fmt_bytes((double)o->mem->anon - o->mem0->anon, b4, sizeof(b4)),
		fmt_bytes(profile_total_bytes(p), b5, sizeof(b5)));
}

/* What became of the target, and of the processes it forked. */
static void print_lifecycle(FILE *out, const struct report_opts *o)
{
	char how[80];

	if (o->procs)
		fprintf(out,
			"forks: %" PRIu64 " child process%s since attach, followed\n",
			o->forks, o->forks == 1 ? "" : "es");
	else if (o->forks)
		fprintf(out,
			"forks: %" PRIu64 " child process%s since attach, not traced: %s allocations are not counted\n",
			o->forks, o->forks == 1 ? "" : "es",
			o->forks == 1 ? "its" : "their");
	if (o->exec && o->exec->n)
		fprintf(out,
			"exec: PID %d ran exec%s at +%.1f s (was %s): %" PRId64
			" bytes in %" PRId64
			" allocation%s of the old program%s dropped; figures count from there\n",
			o->pid, o->exec->n > 1 ? " again" : "", o->exec->at_s,
			o->exec->old_comm, o->exec->dropped.live_bytes,
			o->exec->dropped.live_count,
			plural(o->exec->dropped.live_count),
			o->exec->n > 1 ? "s" : "");
	if (o->end == END_WAITED)
		fprintf(out, "ended: PID %d %s at +%.1f s\n", o->pid,
			child_status(o->wstatus, how, sizeof(how)), o->end_s);
	else if (o->end == END_GONE)
		fprintf(out, "ended: PID %d exited at +%.1f s\n", o->pid,
			o->end_s);
	else if (o->end == END_ENDING)
		fprintf(out,
			"ended: PID %d still running; heaptrail ends it now (SIGTERM, SIGKILL 2 s later)\n",
			o->pid);
}

/*
 * --follow-forks: one line per process, what it holds now or what it
 * held when it ended (dropped then: its memory went with it).
 */
static void print_procs(FILE *out, const struct proc_table *t,
			const char *cgroup, bool all)
{
	size_t i, quiet = 0;
	char how[80];

	if (cgroup)
		fprintf(out, "cgroup: %s, its processes traced as they run\n",
			cgroup);
	if (all)
		fprintf(out, "all processes: each traced as it runs\n");
	fprintf(out, "processes: %zu traced, %" PRIu64
		" not tracked (no slot left)\n", t->n, t->untracked);
	for (i = 0; i < t->n; i++) {
		const struct proc_info *p = &t->v[i];
		const struct prof_totals *h = p->ended ? &p->held : &p->live;

		/* -a: a machine's hundreds of processes; those that hold
		 * nothing (the ended ones' memory went with them) are
		 * counted, not listed */
		if (all && i && (p->ended || (!h->live_bytes && !h->live_count))) {
			quiet++;
			continue;
		}
		fprintf(out, "  pid %d (%s)", p->pid, p->comm);
		if (i && p->joined)
			fprintf(out, " member from +%.1f s", p->begin_s);
		else if (i && t->v[p->parent].pid == p->pid)
			fprintf(out, " new program from +%.1f s", p->begin_s);
		else if (i)
			fprintf(out, " child of %d from +%.1f s", t->v[p->parent].pid,
				p->begin_s);
		else
			fprintf(out, cgroup || all ? " first member" : " target");
		if (p->ended && p->execd)
			fprintf(out, ", ran exec at +%.1f s, holding", p->end_s);
		else if (p->ended)
			fprintf(out, ", %s at +%.1f s, holding",
				child_status(p->wstatus, how, sizeof(how)),
				p->end_s);
		fprintf(out, ": %" PRId64 " bytes in %" PRId64 " allocation%s%s\n",
			(int64_t)h->live_bytes, (int64_t)h->live_count,
			h->live_count == 1 ? "" : "s",
			p->ended ? " (dropped)" : " outstanding");
	}
	if (quiet)
		fprintf(out, "  (%zu more: ended, or holding nothing)\n", quiet);
}

#define MAX_SUSPECTS 5	/* suspects a report lists */

/* The few frames that tell most: the allocator's own are skipped. */
static void print_short_stack(FILE *out, const struct profile *p,
			      const struct prof_entry *e)
{
	int j, shown;

	/* C++ operator new is the allocator here, not the leaker */
	for (j = 0, shown = 0; j < e->nips && shown < 4; j++) {
		const struct frame *v;
		int n = profile_frames(p, e->key.proc, e->ips[j], &v);
		const struct frame *f = &v[n - 1];

		if (f->alloc && !shown && j + 1 < e->nips)
			continue;
		fprintf(out, "%s%s", shown++ ? " < " : " ",
			f->func ? f->func : f->module ? f->module : "?");
	}
}

static void print_suspect(FILE *out, size_t i, const struct leak_suspect *l,
			  bool kernel)
{
	char b1[32], b2[32];

	if (l->reason == LEAK_NEVER_FREED) {
		fprintf(out,
			"  %zu. %s in %" PRIu64
			" allocation%s since attach, none freed (the %s freed %.0f%% of its others), %s confidence, avg age %.1f s, %s",
			i + 1, fmt_bytes(l->growth, b1, sizeof(b1)), l->allocs,
			plural(l->allocs), kernel ? "kernel" : "program",
			l->others_freed * 100,
			leak_confidence_name(l->confidence), l->avg_age_s,
			kind_name(l->key.kind));
		return;
	}
	fprintf(out,
		"  %zu. %s%s/min, %s confidence (R2 %.2f, grew in %.0f%% of %zu sample%s over %.0f s, avg age %.1f s), %s",
		i + 1, l->rate >= 0 ? "+" : "", fmt_bytes(l->rate, b2, sizeof(b2)),
		leak_confidence_name(l->confidence), l->r2, l->growing * 100,
		l->samples, plural(l->samples), l->span_s, l->avg_age_s < 0 ? 0 : l->avg_age_s,
		kind_name(l->key.kind));
}

/*
 * One line per suspect, its stack cut to the frames that tell most. A
 * run too short to rank growth says so, and how many stacks it saw
 * allocate without a single free.
 */
static void print_suspects(FILE *out, const struct profile *p,
			   const struct report_opts *o)
{
	const struct leak_scan *sc = &o->scan;
	size_t i;

	fprintf(out, "suspected leaks");
	if (sc->too_short)
		fprintf(out, ": %.1f s: too short to rank growth; %zu stack%s never freed",
			sc->span_s, sc->never_freed,
			sc->never_freed == 1 ? "" : "s");
	if (!o->nsus) {
		fprintf(out, sc->too_short ? "\n" : ": none\n");
		return;
	}
	fprintf(out, sc->too_short ? ":\n" :
		" (sustained growth, or never freed since attach):\n");
	for (i = 0; i < o->nsus && i < MAX_SUSPECTS; i++) {
		const struct leak_suspect *l = &o->sus[i];
		long k = report_find(p, &l->key);

		print_suspect(out, i, l, o->kernel);
		if (k >= 0) {
			fprintf(out, ", stack #%ld:", k + 1);
			print_short_stack(out, p, &p->v[k]);
		}
		fprintf(out, "\n");
	}
}

static void print_entry(FILE *out, const struct profile *p, size_t i,
			const struct report_opts *o, struct unsym *u)
{
	const struct prof_entry *e = &p->v[i];
	int64_t total = profile_total_bytes(p);
	double age = 0;
	char b1[32];
	int j;

	if (e->agg.live_count > 0)
		age = (p->now_ms - (double)e->agg.ts_sum_ms /
					   e->agg.live_count) / 1000.0;
	fprintf(out,
		"#%zu %" PRId64 " bytes (%s) in %" PRId64
		" %s, %.1f%% of total, avg age %.1f s, ",
		i + 1, (int64_t)e->agg.live_bytes,
		fmt_bytes(e->agg.live_bytes, b1, sizeof(b1)),
		(int64_t)e->agg.live_count,
		e->key.kind == HT_FAULT ?
			(e->agg.live_count == 1 ? "page" : "pages") :
		e->agg.live_count == 1 ? "allocation" : "allocations",
		total > 0 ? 100.0 * e->agg.live_bytes / total : 0.0, age);
	if (o->ages)
		print_ages(out, &o->ages[i]);
	if (o->procs)
		fprintf(out, "pid %d, ", proc_pid(o->procs, e->key.proc));
	fprintf(out, "%s\n", kind_name(e->key.kind));
	if (!e->nips)
		fprintf(out, "        [unrecorded stacks] (the stack or aggregate map was full)\n");
	for (j = 0; j < e->nips; j++)
		print_frame(out, p, e->key.proc, e->ips[j], u);
}

/* How full the BPF maps are, and what reclaim took out of them. */
static void print_fill(FILE *out, const struct map_fill *f)
{
	if (!f)
		return;
	if (f->known)
		fprintf(out,
			"maps: stacks %" PRIu64 "/%" PRIu64 ", aggregates %" PRIu64
			"/%" PRIu64 ", live allocations %" PRIu64 "/%" PRIu64
			", mappings %" PRIu64 "/%" PRIu64,
			f->n[HT_F_STACKS], f->max[HT_F_STACKS], f->n[HT_F_AGGS],
			f->max[HT_F_AGGS], f->n[HT_F_ALLOCS], f->max[HT_F_ALLOCS],
			f->n[HT_F_MAPPINGS], f->max[HT_F_MAPPINGS]);
	else
		fputs("maps: fill levels unknown (the kernel counts them from Linux 6.6)",
		      out);
	fprintf(out,
		"; reclaimed %" PRIu64 " stack%s that held nothing (%" PRIu64
		" put back: used while reclaimed)\n",
		f->reclaimed, plural(f->reclaimed), f->kept);
}

/*
 * --kernel: every kind is counted in p->heap; the report splits them
 * from the stacks (p->v lists each stack with activity since attach).
 */
static void print_kernel_totals(FILE *out, const struct profile *p,
				bool slab_apart)
{
	static const uint32_t kinds[] = { HT_KMALLOC, HT_KMEM_CACHE, HT_PAGES };
	struct prof_totals t[ARRAY_SIZE(kinds)] = {};
	int64_t total = profile_total_bytes(p);
	char b1[32];
	size_t i, j;

	for (i = 0; i < p->n; i++)
		for (j = 0; j < ARRAY_SIZE(kinds); j++) {
			const struct ht_agg *a = &p->v[i].agg;

			if (p->v[i].key.kind != kinds[j])
				continue;
			t[j].live_bytes += a->live_bytes;
			t[j].live_count += a->live_count;
			t[j].alloc_bytes += a->alloc_bytes;
			t[j].alloc_count += a->alloc_count;
			t[j].free_bytes += a->free_bytes;
			t[j].free_count += a->free_count;
		}
	fprintf(out,
		"mode: kernel (kmem tracepoints, every task; bytes as allocated; %s)\n"
		"outstanding: %" PRId64 " bytes (%s) = kmalloc %" PRId64
		" in %" PRId64 " object%s + kmem_cache %" PRId64 " in %" PRId64
		" object%s + pages %" PRId64 " in %" PRId64 " allocation%s\n",
		slab_apart ? "the slab's own pages apart" :
			     "pages include the slab's own",
		total, fmt_bytes(total, b1, sizeof(b1)), t[0].live_bytes,
		t[0].live_count, plural(t[0].live_count), t[1].live_bytes,
		t[1].live_count, plural(t[1].live_count), t[2].live_bytes,
		t[2].live_count, plural(t[2].live_count));
	if (slab_apart)
		fprintf(out,
			"slab pages: %" PRId64 " bytes (%s) in %" PRId64
			" allocation%s (the slab's own, holding objects: not in outstanding)\n",
			p->arena.live_bytes,
			fmt_bytes(p->arena.live_bytes, b1, sizeof(b1)),
			p->arena.live_count, plural(p->arena.live_count));
	fprintf(out,
		"since attach: allocated %" PRIu64 " bytes in %" PRIu64
		" call%s, freed %" PRIu64 " bytes in %" PRIu64 " call%s\n",
		p->heap.alloc_bytes, p->heap.alloc_count,
		plural(p->heap.alloc_count), p->heap.free_bytes,
		p->heap.free_count, plural(p->heap.free_count));
}

void report_print(FILE *out, const struct profile *p, struct symbolizer *s,
		  const struct report_opts *o)
{
	const uint64_t *c = p->counters;
	int64_t total = profile_total_bytes(p);
	char b1[32], when[32];
	time_t now = time(NULL);
	struct sym_stats before = s->st;
	struct unsym u = { .n = 0 };
	size_t i, shown;
	int j;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
	if (o->kernel)
		fprintf(out, "heaptrail: kernel, %.1f s after attach, %s%s\n",
			o->elapsed, when, o->final ? ", final" : "");
	else
		fprintf(out, "heaptrail: pid %d (%s), %.1f s after attach, %s%s\n",
			o->pid, o->comm, o->elapsed, when,
			o->final ? ", final" : "");
	if (o->sample_bytes)
		fprintf(out,
			"sampled: one allocation per %" PRIu64
			" bytes on average; heap bytes and counts are estimates\n",
			o->sample_bytes);
	if (o->max_size != UINT64_MAX)
		fprintf(out,
			"sizes: only heap allocations of %" PRIu64 " to %" PRIu64
			" bytes are traced\n",
			o->min_size, o->max_size);
	else if (o->min_size)
		fprintf(out,
			"sizes: only heap allocations of at least %" PRIu64
			" bytes are traced\n",
			o->min_size);
	print_suspects(out, p, o);
	print_memory(out, p, o);
	print_lifecycle(out, o);
	if (o->procs)
		print_procs(out, o->procs, o->cgroup, o->all);
	if (o->faults) {
		fprintf(out,
			"mode: page faults (first write to each anonymous page; no allocator probes)\n"
			"outstanding: %" PRId64 " bytes (%s) in %" PRId64
			" page%s first written since attach\n",
			total, fmt_bytes(total, b1, sizeof(b1)),
			p->faults.live_count, plural(p->faults.live_count));
	} else if (o->kernel) {
		print_kernel_totals(out, p, o->slab_apart);
	} else {
		fprintf(out,
			"outstanding: %" PRId64 " bytes (%s) = heap %" PRId64
			" in %" PRId64 " allocation%s + mmap %" PRId64
			" in %" PRId64 " mapping%s + brk %" PRId64 "\n",
			total, fmt_bytes(total, b1, sizeof(b1)),
			p->heap.live_bytes, p->heap.live_count,
			plural(p->heap.live_count), p->mmap.live_bytes,
			p->mmap.live_count, plural(p->mmap.live_count),
			p->brk.live_bytes);
		fprintf(out,
			"allocator-reserved: %" PRId64 " bytes (%s) in %" PRId64
			" mappings (made by the allocator's own code: not in"
			" outstanding)\n",
			p->arena.live_bytes,
			fmt_bytes(p->arena.live_bytes, b1, sizeof(b1)),
			p->arena.live_count);
		fprintf(out,
			"heap since attach: allocated %" PRIu64
			" bytes in %" PRIu64 " call%s, freed %" PRIu64
			" bytes in %" PRIu64 " call%s\n",
			p->heap.alloc_bytes, p->heap.alloc_count,
			plural(p->heap.alloc_count), p->heap.free_bytes,
			p->heap.free_count, plural(p->heap.free_count));
	}
	/* lost events apart from kept bytes whose stack was not kept */
	fprintf(out,
		"dropped: %" PRIu64 " (live map full %" PRIu64
		", mapping map full %" PRIu64 ", thread map full %" PRIu64
		"); unrecorded stacks %" PRIu64 " (stack map full %" PRIu64
		", aggregate map full %" PRIu64
		": bytes kept under [unrecorded stacks]); truncated stacks %" PRIu64
		"\n",
		c[HT_C_DROP_ALLOC] + c[HT_C_DROP_MAPPING] + c[HT_C_DROP_THREAD],
		c[HT_C_DROP_ALLOC], c[HT_C_DROP_MAPPING], c[HT_C_DROP_THREAD],
		c[HT_C_DROP_STACK] + c[HT_C_DROP_AGG], c[HT_C_DROP_STACK],
		c[HT_C_DROP_AGG], c[HT_C_TRUNCATED]);
	if (o->kernel)
		fprintf(out,
			"missed: %" PRIu64 " kmem event%s (the tracepoint fired while a BPF program ran on that CPU; a missed free leaves its allocation counted)\n"
			"ignored: %" PRIu64 " free%s of memory not seen allocated (made before attach)\n",
			c[HT_C_MISSED], plural(c[HT_C_MISSED]),
			c[HT_C_UNKNOWN_FREE], plural(c[HT_C_UNKNOWN_FREE]));
	else
		fprintf(out,
			"ignored: %" PRIu64 " free%s of memory not seen allocated (made before attach, or the allocator's own), %"
			PRIu64 " allocator call%s made inside another (counted once)\n",
			c[HT_C_UNKNOWN_FREE], plural(c[HT_C_UNKNOWN_FREE]),
			c[HT_C_NESTED], plural(c[HT_C_NESTED]));
	print_fill(out, o->fill);

	shown = p->nlive < (size_t)o->top ? p->nlive : (size_t)o->top;
	fprintf(out, "top %zu of %zu stack%s by outstanding bytes", shown,
		p->nlive, plural(p->nlive));
	if (o->min_age)
		fprintf(out, " (allocations at least %.1f s old)", o->min_age);
	fprintf(out, ":\n");
	for (i = 0; i < shown; i++)
		print_entry(out, p, i, o, &u);
	/* a suspect is always shown whole, even below the top */
	for (i = 0, j = 0; i < o->nsus && i < MAX_SUSPECTS; i++) {
		long k = report_find(p, &o->sus[i].key);

		if (k < (long)shown)
			continue;
		if (!j++)
			fprintf(out, "suspected leaks below the top %zu:\n", shown);
		print_entry(out, p, k, o, &u);
	}
	print_trailer(out, s, &before, &u);
	fprintf(out, "\n");
	fflush(out);
}
