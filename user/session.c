// SPDX-License-Identifier: GPL-2.0
/*
 * One trace session: its BPF object, probes, symbolizer and unwind rows,
 * and what changes them while the target runs (libraries loaded, exec).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "allocrange.h"
#include "cgroup.h"
#include "forks.h"
#include "procstat.h"
#include "purge.h"
#include "session.h"
#include "tracefs.h"
#include "util.h"

static void sym_init(const struct session *s, struct symbolizer *sym,
		     pid_t pid)
{
	int i;

	symbolizer_init(sym, pid);
	symbolizer_set_demangle(sym, !s->o.no_demangle);
	for (i = 0; i < s->o.ndebug_dirs; i++)
		symbolizer_add_debug_dir(sym, s->o.debug_dirs[i]);
}

void session_init_symbolizer(struct session *s)
{
	sym_init(s, &s->sym, s->o.pid);
}

/* Where the allocator's code is mapped in the target, for the BPF side. */
void session_set_alloc_code(struct session *s)
{
	struct alloc_ranges now;

	alloc_ranges_find(&s->sym, &now);
	alloc_syms_ranges(&s->o.alloc_syms, &s->sym, &now);
	alloc_ranges_write(bpf_map__fd(s->skel->maps.alloc_code),
			   &s->skel->bss->alloc_code_n, &s->alloc_code, &now);
}

/* Write new unwind rows and the current module placement to BPF. */
void session_sync_unwind(struct session *s)
{
	bool moved;

	unwind_scan(&s->unw, &s->sym, s->o.pid, s->o.unwind);
	if (unwind_sync(&s->unw, &s->sym, bpf_map__fd(s->skel->maps.urows),
			bpf_map__fd(s->skel->maps.modules), s->rows_cap, &moved))
		fprintf(stderr,
			"heaptrail: no room for the unwind rows of a library loaded since attach: its frames fall back to frame pointers\n");
	/* the BPF side's cached rows are stale once modules moved */
	if (moved)
		__atomic_add_fetch(&s->skel->bss->unwind_gen, 1, __ATOMIC_SEQ_CST);
	if (!s->o.faults)
		session_set_alloc_code(s);
}

int session_refresh_maps(struct session *s)
{
	int fd = bpf_map__fd(s->skel->maps.pending), err;
	struct unwind_pending *p = malloc(sizeof(*p));

	/* what BPF saw mapped up to now is in the maps read next */
	if (p)
		unwind_pending_read(fd, &s->skel->bss->pending_full, p);
	err = symbolizer_refresh(&s->sym);
	if (!err) {
		session_sync_unwind(s);
		/* its rows are placed (or frame pointers it is): the walker
		 * may go through it, cached cuts are stale */
		if (p && unwind_pending_drop(fd, &s->skel->bss->pending_full, p))
			__atomic_add_fetch(&s->skel->bss->unwind_gen, 1,
					   __ATOMIC_SEQ_CST);
	}
	free(p);
	return err;
}

/* How deep heaptrail's PID namespace is: NSpid has one PID a level. */
static unsigned int pidns_level(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (; *p; p++)
			if (isdigit((unsigned char)*p) &&
			    (p[-1] == ' ' || p[-1] == '\t'))
				n++;
	}
	fclose(f);
	return n ? n - 1 : 0;
}

/* PIDs given to heaptrail are those of its own PID namespace. */
static void set_pid_namespace(struct heaptrail_bpf *skel)
{
	const unsigned long init_ino = 0xEFFFFFFCUL;	/* PROC_PID_INIT_INO */
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) || st.st_ino == init_ino)
		return;
	skel->rodata->pidns_dev = st.st_dev;
	skel->rodata->pidns_ino = st.st_ino;
	skel->rodata->pidns_level = pidns_level();
}

/* heaptrail's tgid as the initial PID namespace numbers it */
static uint32_t self_tgid(void)
{
	char line[256];
	uint32_t pid = getpid();
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6)) {
			pid = strtoul(line + 6, NULL, 10);	/* outermost */
			break;
		}
	fclose(f);
	return pid;
}

int session_load(struct session *s)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = s->o.btf);
	struct heaptrail_bpf *skel;
	uint64_t start;
	int err;

	skel = heaptrail_bpf__open_opts(&oo);
	if (!skel)
		return -errno;
	s->skel = skel;
	skel->rodata->targ_tgid = s->o.pid;
	err = proc_start_ticks(s->o.pid, &start);
	if (err)
		return err;
	skel->rodata->targ_start = start;
	set_pid_namespace(skel);
	if (s->links.multi)
		prepare_uprobe_multi(skel);
	/* one mode's programs only: --faults loads no uprobe program */
	skel->rodata->faults_mode = s->o.faults;
	skel->rodata->sample_bytes = s->o.sample;
	skel->rodata->min_size = s->o.min_size;
	skel->rodata->max_size = s->o.max_size;
	skel->rodata->session_mode = s->links.session;
	skel->rodata->follow_forks = s->o.follow_forks;
	skel->rodata->cgroup_id = s->cg_id;
	skel->rodata->cgroup_level = s->cg_level;
	skel->rodata->self_tgid = self_tgid();
	bpf_program__set_autoload(skel->progs.proc_exit, s->o.follow_forks);
	bpf_program__set_autoload(skel->progs.alloc_enter,
				  !s->o.faults && !s->links.session);
	bpf_program__set_autoload(skel->progs.alloc_exit,
				  !s->o.faults && !s->links.session);
	bpf_program__set_autoload(skel->progs.alloc_session,
				  !s->o.faults && s->links.session);
	bpf_program__set_autoload(skel->progs.start_gate,
				  !s->o.faults || s->child);
	skel->rodata->gate_exec = !!s->child;
	bpf_program__set_autoload(skel->progs.fault_user, s->o.faults);
	bpf_program__set_autoload(skel->progs.fault_kernel, s->o.faults);
	bpf_program__set_autoload(skel->progs.fault_exec, s->o.faults);
	/* bpf_loop runs at most 1 << 23 times */
	skel->rodata->page_walk_max = s->o.max_allocs < (1UL << 23) ?
				      s->o.max_allocs : 1UL << 23;
	bpf_program__set_autoload(skel->progs.madvise_enter, s->o.faults);
	bpf_program__set_autoload(skel->progs.madvise_exit, s->o.faults);
	bpf_map__set_max_entries(skel->maps.allocs, s->o.max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, s->o.max_stacks);
	/* and room for stack 0 of every kind: what did not fit */
	bpf_map__set_max_entries(skel->maps.aggs, s->o.max_stacks + HT_NKINDS);
	bpf_map__set_max_entries(skel->maps.changed, aggsync_ring_size(s->o.max_stacks));
	bpf_map__set_max_entries(skel->maps.mappings, s->o.max_mappings);
	reclaim_size(skel, s->o.max_stacks);
	s->rows_cap = s->unw.nrows + ROW_HEADROOM;
	bpf_map__set_max_entries(skel->maps.urows, s->rows_cap);
	return heaptrail_bpf__load(skel);
}

/*
 * --follow-forks: the allocator probes hold for every process mapping
 * the library, the BPF slot table filtering, so that a child is traced
 * from its first instruction (a PID filter would need a new link per
 * child, attached after the child has started running).
 */
static pid_t probe_pid(const struct session *s)
{
	return s->o.follow_forks ? -1 : s->o.pid;
}

/*
 * In command mode the probes went on libc before exec. If the program
 * turns out to allocate from a replacement (LD_PRELOAD, or linked), probe
 * that too: its malloc interposes libc's.
 */
void session_probe_replacement(struct session *s)
{
	const struct pmap *lp = find_allocator(&s->sym.maps);
	const struct sym_mod *m;
	char path[128];

	/* probed already (libc at attach, or before an exec: the kernel
	 * puts the probes in each new mapping of the file) */
	if (!lp || attach_probes_file(&s->links, makedev(lp->dev_major,
							 lp->dev_minor),
				      lp->inode))
		return;
	m = symbolizer_module(&s->sym, lp);
	if (!m || !m->img)
		return;
	pmap_file_path(s->o.pid, lp, path, sizeof(path));
	if (attach_allocators(s->skel, probe_pid(s), path, m->img, &s->links)) {
		fprintf(stderr, "heaptrail: cannot probe %s: its allocations are not traced\n",
			lp->path);
		return;
	}
	snprintf(s->alloc_lib, sizeof(s->alloc_lib), "%s", lp->path);
	if (s->execs.n)
		fprintf(stderr, "heaptrail: PID %d's new program allocates from %s: probed\n",
			s->o.pid, lp->path);
}

void session_sync_procs(struct session *s)
{
	size_t i;
	int err = procs_sync(&s->procs, bpf_map__fd(s->skel->maps.procs),
			     s->skel->data->next_slot,
			     s->skel->bss->procs_untracked, s->o.pid, s->comm,
			     s->start_ms * 1000000ULL);

	if (err) {
		fprintf(stderr, "heaptrail: cannot read the traced processes: %s\n",
			strerror(-err));
		return;
	}
	/* a process running another program: its stacks are named from
	 * its own mappings, read while it runs */
	for (i = 1; i < s->procs.n; i++) {
		struct proc_info *p = &s->procs.v[i];

		if (!p->foreign || p->gone || !p->pid)
			continue;
		if (!p->sym) {
			p->sym = malloc(sizeof(*p->sym));
			if (!p->sym)
				continue;
			sym_init(s, p->sym, p->pid);
			symbolizer_share_objs(p->sym, &s->sym);
		}
		symbolizer_refresh(p->sym);
	}
}

/*
 * Followed processes exited or ran exec (a new slot then): nothing of
 * their slots can be freed any more. Drop them from the maps and the
 * copy, and keep what each held for the reports. All that ended since
 * the last drain at once: one pass over each map (a machine's shell
 * scripts end hundreds of processes a second under -a).
 */
void session_end_procs(struct session *s)
{
	struct prof_totals *held = NULL;
	size_t from = s->agg.nchg, i;
	bool *set = NULL;
	int err = 0;

	if (!s->nended)
		return;
	session_sync_procs(s);
	set = calloc(HT_MAX_PROCS, sizeof(*set));
	held = calloc(HT_MAX_PROCS, sizeof(*held));
	if (!set || !held)
		err = -ENOMEM;
	for (i = 0; !err && i < s->nended; i++)
		set[s->ended[i].slot % HT_MAX_PROCS] = true;
	if (!err)
		err = purge_slots(bpf_map__fd(s->skel->maps.allocs),
				  bpf_map__fd(s->skel->maps.mappings),
				  bpf_map__fd(s->skel->maps.aggs), set, held);
	for (i = 0; !err && i < s->nended; i++)
		err = aggsync_forget_proc(&s->agg, s->ended[i].slot);
	/* the zeroed stacks go into the history as any change does */
	if (!err)
		err = trend_feed_take(&s->feed, &s->agg, from);
	if (err)
		fprintf(stderr, "heaptrail: cannot drop what %zu ended process%s held: %s\n",
			s->nended, s->nended == 1 ? "" : "es", strerror(-err));
	for (i = 0; i < s->nended; i++) {
		const struct ended_proc *e = &s->ended[i];
		struct prof_totals none = { 0 };
		const struct prof_totals *h = held ? &held[e->slot % HT_MAX_PROCS] : &none;

		procs_ended(&s->procs, e->slot, h);
		if (s->o.verbose)
			fprintf(stderr, "heaptrail: PID %u %s: %" PRId64 " bytes it held dropped\n",
				e->pid, e->execd ? "ran exec" : "exited",
				h->live_bytes);
	}
	s->nended = 0;
	free(set);
	free(held);
}

/*
 * The probes belong to a library file: a member that allocates from one
 * not probed yet (another libc, a preloaded allocator) gets it probed,
 * for every process, BPF filtering. Members read at each refresh.
 */
void session_probe_members(struct session *s)
{
	struct pmaps maps;
	const struct pmap *lp;
	struct elf_img *img;
	char path[128];
	size_t n, i;
	pid_t *v;

	if (cgroup_members(s->o.cgroup, &v, &n))
		return;
	for (i = 0; i < n; i++) {
		if (v[i] == getpid() || pmaps_read(v[i], &maps))
			continue;
		lp = find_allocator(&maps);
		if (lp && !attach_probes_file(&s->links,
					      makedev(lp->dev_major, lp->dev_minor),
					      lp->inode)) {
			pmap_file_path(v[i], lp, path, sizeof(path));
			if (!elf_img_open(path, &img)) {
				if (attach_allocators(s->skel, -1, path, img,
						      &s->links))
					fprintf(stderr, "heaptrail: cannot probe %s of PID %d: its allocations are not traced\n",
						lp->path, v[i]);
				else if (s->o.verbose)
					fprintf(stderr, "heaptrail: PID %d allocates from %s: probed\n",
						v[i], lp->path);
				elf_img_free(img);
			}
		}
		pmaps_free(&maps);
	}
	free(v);
}

int session_probe_extras(struct session *s)
{
	const char *missing = NULL;
	int err;

	if (s->o.faults)
		return 0;
	err = alloc_syms_attach(&s->o.alloc_syms, s->skel, &s->sym, s->o.pid,
				&s->links, s->o.verbose, &missing);
	if (err == -ENOENT && missing)
		fprintf(stderr, "heaptrail: --alloc-syms: no function %s in any module of PID %d\n",
			missing, s->o.pid);
	else if (err)
		fprintf(stderr, "heaptrail: cannot probe the --alloc-syms functions: %s\n",
			strerror(-err));
	if (!err)
		session_set_alloc_code(s);
	return err;
}

/* The target forked, exec'd or mapped code: told by BPF as it happens. */
int session_on_event(void *ctx, void *data, size_t len)
{
	struct session *s = ctx;
	const struct ht_event *e = data;
	int n;

	if (len < sizeof(*e))
		return 0;
	if (e->type == HT_EV_FORK && s->o.follow_forks && e->slot) {
		if (s->o.verbose)
			fprintf(stderr, "heaptrail: PID %u forked by a traced process: followed\n",
				e->pid);
	} else if (e->type == HT_EV_CHILD_EXEC || e->type == HT_EV_EXIT) {
		/* dropped once the ring is drained (session_end_procs) */
		if (grow(&s->ended, s->nended, &s->ecap, sizeof(*s->ended)))
			fprintf(stderr, "heaptrail: out of memory: what PID %u held stays counted\n",
				e->pid);
		else
			s->ended[s->nended++] = (struct ended_proc){
				e->pid, e->old, e->type == HT_EV_CHILD_EXEC };
	} else if (e->type == HT_EV_FORK) {
		/* no slot left (--follow-forks) or not following */
		n = unprobe_child(e->pid, s->links.sites, s->links.nsites);
		if (n > 0)
			s->unprobed++;
		/* a child that is gone already needs nothing; any other
		 * failure leaves children slow, which the user must know */
		if (n < 0 && n != -ENOENT && n != -ESRCH && !s->unprobe_warned) {
			s->unprobe_warned = true;
			fprintf(stderr,
				"heaptrail: cannot take the breakpoints out of PID %u (a child of %d): %s; the target's children run slower while heaptrail is attached\n",
				e->pid, s->o.pid, strerror(-n));
		}
		if (s->o.verbose)
			fprintf(stderr,
				"heaptrail: PID %d forked PID %u: %d breakpoints taken out of it%s%s\n",
				s->o.pid, e->pid, n > 0 ? n : 0,
				n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
	} else if (e->type == HT_EV_EXEC) {
		/* -- COMMAND's own first exec starts it: no reset. Told
		 * apart here: a slow drain can bring the next exec along */
		if (s->child && !s->cmd_execd)
			s->cmd_execd = true;
		else
			s->exec_ns = e->ts;	/* acted on once drained */
	} else if (e->type == HT_EV_MAP) {
		s->code_mapped = true;	/* the same */
	}
	return 0;
}

/*
 * The target ran exec: its old program's allocations cannot be freed any
 * more and its stacks would be named from the new program's mappings.
 * Drop them, and start the history, memory baseline and names afresh.
 * The allocator probes stay: the kernel places them in the new program
 * when it maps the same library. (-- COMMAND's own first exec, the one
 * that starts the command, is no such event.)
 */
void session_exec_reset(struct session *s)
{
	struct exec_note *x = &s->execs;
	int err;

	/* BPF re-armed the start gate: the new program stops before main;
	 * under -p its allocator is looked for at the next refreshes */
	s->gate_waiting = s->child && s->skel->rodata->gate_exec;
	s->probe_pending = !s->child && !s->o.faults;
	x->n++;
	x->at_s = (monotonic_ms() - s->start_ms) / 1000.0;
	snprintf(x->old_comm, sizeof(x->old_comm), "%s", s->comm);
	err = purge_image(bpf_map__fd(s->skel->maps.allocs),
			  bpf_map__fd(s->skel->maps.mappings),
			  bpf_map__fd(s->skel->maps.aggs), s->skel->bss->image,
			  s->exec_ns, &x->dropped);
	if (err)
		fprintf(stderr, "heaptrail: cannot drop the old program's allocations: %s\n",
			strerror(-err));
	aggsync_free(&s->agg);
	err = aggsync_init(&s->agg, bpf_map__fd(s->skel->maps.aggs),
			   bpf_map__fd(s->skel->maps.changed),
			   &s->skel->data->agg_gen, &s->skel->bss->changes_lost);
	if (err)
		fprintf(stderr, "heaptrail: cannot read the BPF change ring: %s\n",
			strerror(-err));
	trend_free(&s->trend);
	trend_feed_reset(&s->feed);
	s->have_mem = false;	/* growth counts from the new program */
	proc_read_comm(s->o.pid, s->comm, sizeof(s->comm));
	proc_read_cmdline(s->o.pid, s->cmdline, sizeof(s->cmdline));
	fprintf(stderr, "heaptrail: PID %d ran exec: now %s; what %s held is dropped\n",
		s->o.pid, s->comm, x->old_comm);
	session_refresh_maps(s);
}

/* On failure *what says which step failed, for the one error line. */
int session_attach(struct session *s, const char *libc_path,
			 const struct elf_img *libc, const char **what)
{
	uint64_t vaddr, off;
	int err;

	err = tracefs_ensure(what);
	if (err)
		return err;
	*what = "syscall tracepoints (mmap, munmap, mremap, brk)";
	err = attach_syscalls(s->skel, &s->links);
	if (err)
		return err;
	/* --faults: no allocator probes; in command mode the one-shot start
	 * gate below still places the unwind rows before main runs */
	*what = "allocator uprobes";
	if (!s->o.faults)
		err = attach_allocators(s->skel, probe_pid(s), libc_path, libc,
					&s->links);
	if (err || !s->child)
		return err;
	if (elf_img_sym_addr(libc, "__libc_start_main", &vaddr) ||
	    elf_img_vaddr_to_off(libc, vaddr, &off))
		return 0;
	{
		LIBBPF_OPTS(bpf_uprobe_opts, uo);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(
			s->skel->progs.start_gate, s->o.pid, libc_path, off, &uo);

		if (!libbpf_get_error(l) && s->links.n < ATTACH_MAX_LINKS) {
			s->links.links[s->links.n++] = l;
			attach_note_sites(&s->links, libc_path, &off, 1);
		}
	}
	return 0;
}
