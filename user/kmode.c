// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail --kernel: loads bpf/kmem.bpf.c (the kmem tracepoints, every
 * task), and turns its aggregates into the reports, folded stacks and
 * pprof profiles a process gets, through the same profile snapshots and
 * writers; kernel frames are named from /proc/kallsyms (user/ksyms.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggsync.h"
#include "json.h"
#include "kmem.skel.h"
#include "kmode.h"
#include "ksyms.h"
#include "outputs.h"
#include "profile.h"
#include "report.h"
#include "signals.h"
#include "stackcache.h"
#include "stacksyms.h"
#include "symbolize.h"
#include "trend.h"
#include "trendfeed.h"
#include "util.h"

#define SAMPLE_MS 1000	/* a trend point a second, as for a process */

struct kmode {
	const struct opts *o;
	struct kmem_bpf *skel;
	struct ksyms ks;
	struct symbolizer sym;
	struct aggsync agg;
	struct stackcache frames;
	struct trend trend;
	struct outputs files;
	FILE *out;
	struct trend_feed feed;	/* changed since the last trend point */
	uint64_t start_ms;
	bool slab_apart;	/* the slab's own pages kept apart */
};

static int load(struct kmode *k)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = k->o->btf);
	struct kmem_bpf *skel = kmem_bpf__open_opts(&oo);
	int err;

	if (!skel)
		return -errno;
	k->skel = skel;
	/* without it (inlined) the slab's pages are counted with the
	 * objects in them */
	k->slab_apart = !ksyms_range(&k->ks, "allocate_slab",
				     (uint64_t *)&skel->rodata->slab_lo,
				     (uint64_t *)&skel->rodata->slab_hi);
	skel->rodata->min_size = k->o->min_size;
	skel->rodata->max_size = k->o->max_size;
	bpf_map__set_max_entries(skel->maps.allocs, k->o->max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, k->o->max_stacks);
	/* and room for stack 0 of every kind: what did not fit */
	bpf_map__set_max_entries(skel->maps.aggs, k->o->max_stacks + HT_NKINDS);
	bpf_map__set_max_entries(skel->maps.changed,
				 aggsync_ring_size(k->o->max_stacks));
	err = kmem_bpf__load(skel);
	return err ? err : kmem_bpf__attach(skel);
}

/*
 * The frames a stack starts with are the tracing machinery's (the BPF
 * program, bpf_trace_run*, the tracepoint's glue), not the allocator's:
 * how many depends on how the tracepoint was called, so they are found
 * by name, once per stack.
 */
static bool tracing_frame(const struct ksyms *ks, uint64_t pc)
{
	const struct ksym *s = ksyms_find(ks, pc - 1);
	const char *n;

	if (!s)
		return true;	/* a JIT'd BPF program not yet in kallsyms */
	n = ksym_name(ks, s);
	return !strcmp(ksym_module(ks, s), "bpf") ||
	       !strncmp(n, "bpf_", 4) || !strncmp(n, "__bpf_trace_", 12) ||
	       !strncmp(n, "__traceiter_", 12) || !strncmp(n, "perf_", 5);
}

static void trim_tracing(const struct ksyms *ks, struct profile *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct prof_entry *e = &p->v[i];

		while (e->nips > 1 && tracing_frame(ks, e->ips[0])) {
			e->ips++;
			e->nips--;
		}
	}
}

/* The aggregates that changed since last time, then maybe a trend point. */
static int sample(struct kmode *k, uint64_t now_ms)
{
	int err = aggsync_update(&k->agg);

	if (!err)
		err = trend_feed_take(&k->feed, &k->agg, 0);
	if (!err)
		err = trend_feed_point(&k->feed, &k->trend, &k->agg, now_ms,
				       SAMPLE_MS / 2);
	return err;
}

/*
 * A tracepoint hit while a BPF program already runs on the CPU (another
 * tool's, or this one's own map work) is not given to the program: the
 * kernel counts it per program.
 */
static uint64_t missed(struct kmem_bpf *skel)
{
	struct bpf_program *prog;
	uint64_t n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			n += info.recursion_misses;
	}
	return n;
}

/* Sample, then a full profile with frames, the tracing glue trimmed. */
static int read_profile(struct kmode *k, struct profile *p)
{
	uint64_t now = monotonic_ms();
	int err = sample(k, now);

	/* ages count to after the read, as for a process (user/run.c) */
	if (!err)
		err = aggsync_profile(&k->agg, monotonic_ms(), p);
	if (err)
		return err;
	err = stackcache_attach(&k->frames, bpf_map__fd(k->skel->maps.stacks),
				p);
	if (!err)
		err = profile_finish(p, bpf_map__fd(k->skel->maps.counters));
	if (err) {
		profile_free(p);
		return err;
	}
	p->counters[HT_C_MISSED] = missed(k->skel);
	trim_tracing(&k->ks, p);
	err = profile_symbolize(p, &k->sym);
	if (err)
		profile_free(p);
	return err;
}

static void report(struct kmode *k, bool final)
{
	struct report_opts ro = {
		.comm = "kernel",
		.cmdline = "",
		.top = k->o->top,
		.elapsed = (monotonic_ms() - k->start_ms) / 1000.0,
		.final = final,
		.kernel = true,
		.slab_apart = k->slab_apart,
		.min_size = k->o->min_size,
		.max_size = k->o->max_size,
	};
	struct leak_suspect *sus = NULL;
	struct profile p;
	int err = read_profile(k, &p);

	if (err) {
		fprintf(stderr, "heaptrail: cannot read BPF maps: %s\n",
			strerror(-err));
		return;
	}
	if (!trend_suspects(&k->trend, &p, &sus, &ro.nsus, &ro.scan))
		ro.sus = sus;
	if (k->o->json)
		report_json(k->out, &p, &k->sym, &ro);
	else
		report_print(k->out, &p, &k->sym, &ro);
	free(sus);
	{
		struct pprof_meta pm = {
			.comm = "kernel",
			.cmdline = "",
			.duration_ns = (monotonic_ms() - k->start_ms) * 1000000ULL,
			.interval_s = k->o->interval,
			.kernel = true,
		};

		outputs_write(&k->files, k->o, &p, &k->sym, &pm);
	}
	profile_free(&p);
}

/* Until SIGINT, SIGTERM or SIGHUP, or the duration's end. */
static void run(struct kmode *k, int sigfd)
{
	const struct opts *o = k->o;
	uint64_t next_report = o->interval ? k->start_ms + o->interval * 1000 : 0;
	uint64_t end = o->duration ? k->start_ms + o->duration * 1000 : 0;
	uint64_t next_sample = k->start_ms + SAMPLE_MS;

	for (;;) {
		struct pollfd pf = { sigfd, POLLIN, 0 };
		uint64_t now = monotonic_ms(), wake = next_sample;

		if (next_report && next_report < wake)
			wake = next_report;
		if (end && end < wake)
			wake = end;
		if (poll(&pf, 1, wake > now ? wake - now : 0) > 0)
			return;
		now = monotonic_ms();
		if (now >= next_sample) {
			sample(k, now);
			next_sample = now + SAMPLE_MS;
		}
		if (end && now >= end)
			return;
		if (next_report && now >= next_report) {
			report(k, false);
			next_report += o->interval * 1000;
		}
	}
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "heaptrail: %s: %s\n", what, strerror(-err));
	return 1;
}

int kmode_main(const struct opts *o, FILE *out)
{
	struct kmode k = { .o = o, .out = out };
	int sigfd = -1, err, rc = 1;

	err = ksyms_load(&k.ks, NULL);
	if (err) {
		if (err == -EPERM)
			fprintf(stderr, "heaptrail: /proc/kallsyms shows no addresses: kernel frames cannot be named (needs CAP_SYSLOG; with kernel.kptr_restrict=2, set it to 1)\n");
		else
			fail("cannot read /proc/kallsyms", err);
		goto out;
	}
	symbolizer_init(&k.sym, 0);
	symbolizer_set_ksyms(&k.sym, &k.ks);
	/* as for a process: SIGINT and SIGTERM end the run with a report */
	sigfd = end_signals_fd(false);
	err = load(&k);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			fprintf(stderr, "heaptrail: permission denied loading the kmem tracepoint programs (root, CAP_BPF and CAP_PERFMON needed; lockdown?)\n");
		else
			fprintf(stderr, "heaptrail: cannot load or attach the kmem tracepoint programs (kmalloc, kfree, kmem_cache_alloc, kmem_cache_free, mm_page_alloc, mm_page_free): %s (run with -v for details)\n",
				strerror(-err));
		goto out;
	}
	err = aggsync_init(&k.agg, bpf_map__fd(k.skel->maps.aggs),
			   bpf_map__fd(k.skel->maps.changed),
			   &k.skel->data->agg_gen, &k.skel->bss->changes_lost);
	if (err) {
		fail("cannot read the BPF change ring", err);
		goto out;
	}
	k.start_ms = monotonic_ms();
	sample(&k, k.start_ms);
	fprintf(stderr,
		"heaptrail: tracing the kernel: kmalloc, kmem_cache and page allocations by kernel stack, %zu kernel symbols%s\n",
		k.ks.n, o->duration ? "" : "; Ctrl-C to stop");
	run(&k, sigfd);
	report(&k, true);
	rc = k.files.failed;
out:
	if (sigfd >= 0)
		close(sigfd);
	kmem_bpf__destroy(k.skel);
	aggsync_free(&k.agg);
	trend_free(&k.trend);
	stackcache_free(&k.frames);
	symbolizer_free(&k.sym);
	ksyms_free(&k.ks);
	outputs_free(&k.files);
	trend_feed_free(&k.feed);
	if (k.out != stdout && fclose(k.out) && !rc) {
		fprintf(stderr, "heaptrail: cannot write %s: %s\n", o->output,
			strerror(errno));
		rc = 1;
	}
	return rc;
}
