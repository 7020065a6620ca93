// SPDX-License-Identifier: GPL-2.0
/*
 * The attach/report loop: wait for signals, the target's events and the
 * next tick; sample the aggregates, refresh the maps, write reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ages.h"
#include "command.h"
#include "json.h"
#include "outputs.h"
#include "report.h"
#include "session.h"
#include "stacksyms.h"
#include "util.h"

static void session_read_mem(struct session *s)
{
	struct proc_mem m;

	if (proc_mem_read(s->o.pid, &m))
		return;	/* gone: the last read stands */
	s->mem = m;
	if (!s->have_mem)
		s->mem0 = m;
	s->have_mem = true;
}

/*
 * The aggregates that changed since last time, a reclaim pass when the
 * maps are half full, then maybe a trend point.
 */
static int sample(struct session *s, uint64_t now_ms)
{
	int err;

	session_read_mem(s);
	err = aggsync_update(&s->agg);
	if (err)
		return err;
	err = trend_feed_take(&s->feed, &s->agg, 0);
	if (!err && reclaim_due(&s->reclaim)) {
		err = reclaim_pass(&s->reclaim, &s->agg);
		if (!err)
			err = trend_feed_take(&s->feed, &s->agg, 0);
		/* a reclaimed stack's history and frames go with it */
		if (!err && s->reclaim.ngone)
			err = trend_forget(&s->trend, reclaim_gone, &s->reclaim);
		if (!err && s->reclaim.ngone)
			err = stackcache_forget(&s->frames, reclaim_gone,
						&s->reclaim);
	}
	if (err)
		return err;
	return trend_feed_point(&s->feed, &s->trend, &s->agg, now_ms,
				REFRESH_MS / 2);
}

void session_sample_now(struct session *s)
{
	sample(s, monotonic_ms());
}

/* Sample, then a full profile with frames, from the copy, to be named. */
static int read_profile(struct session *s, struct profile *p)
{
	uint64_t now = monotonic_ms();
	int err = sample(s, now);

	/* ages count to after the read: an allocation made while the
	 * sample ran (a reclaim pass waits two grace periods) is not
	 * younger than the report */
	if (!err)
		err = aggsync_profile(&s->agg, monotonic_ms(), p);
	if (err)
		return err;
	err = stackcache_attach(&s->frames, bpf_map__fd(s->skel->maps.stacks), p);
	if (!err)
		err = profile_finish(p, bpf_map__fd(s->skel->maps.counters));
	if (!err)
		err = profile_symbolize(p, &s->sym);
	if (err)
		profile_free(p);
	return err;
}

void session_report(struct session *s, bool final)
{
	struct report_opts ro = {
		.pid = s->o.pid,
		.comm = s->comm,
		.cmdline = s->cmdline,
		.top = s->o.top,
		.elapsed = (monotonic_ms() - s->start_ms) / 1000.0,
		.final = final,
		.faults = s->o.faults,
		.sample_bytes = s->o.sample,
		.min_size = s->o.min_size,
		.max_size = s->o.max_size,
		.forks = s->skel->bss->forks_seen,
		.exec = &s->execs,
		.fill = &s->reclaim.fill,
	};
	struct leak_suspect *sus = NULL;
	struct age_row *ages = NULL;
	struct profile p;
	int err;

	if (final && s->gone) {
		ro.end = s->child ? END_WAITED : END_GONE;
		ro.wstatus = s->status;
		ro.end_s = (s->gone_ms - s->start_ms) / 1000.0;
	} else if (final && s->child && !s->o.keep_running) {
		ro.end = END_ENDING;
	}
	/* children that ended by now are dropped before the read */
	if (s->o.follow_forks) {
		ring_buffer__consume(s->events);
		session_end_procs(s);
	}
	err = read_profile(s, &p);
	if (!err && s->reclaim.skel)
		reclaim_read_fill(&s->reclaim);
	else
		ro.fill = NULL;
	if (err) {
		fprintf(stderr, "heaptrail: cannot read BPF maps: %s\n",
			strerror(-err));
		return;
	}
	if (s->o.follow_forks) {
		session_sync_procs(s);
		procs_tally(&s->procs, &p);
		ro.procs = &s->procs;
		p.procs = &s->procs;
		ro.cgroup = s->o.cgroup;
		ro.all = s->o.all;
	}
	if (!trend_suspects(&s->trend, &p, &sus, &ro.nsus, &ro.scan))
		ro.sus = sus;
	if (s->have_mem) {
		ro.mem = &s->mem;
		ro.mem0 = &s->mem0;
	}
	if (s->o.ages) {
		err = ages_collect(bpf_map__fd(s->skel->maps.allocs),
				   bpf_map__fd(s->skel->maps.mappings), &p,
				   s->o.min_age * 1000, &ages);
		if (err)
			fprintf(stderr, "heaptrail: cannot read allocation ages: %s\n",
				strerror(-err));
		ro.ages = ages;
		ro.min_age = s->o.min_age;
	}
	if (s->o.json)
		report_json(s->out, &p, &s->sym, &ro);
	else
		report_print(s->out, &p, &s->sym, &ro);
	free(sus);
	free(ages);
	{
		struct pprof_meta pm = {
			.pid = s->o.pid,
			.comm = s->comm,
			.cmdline = s->cmdline,
			.duration_ns = (monotonic_ms() - s->start_ms) * 1000000ULL,
			.interval_s = s->o.interval,
			.sample_bytes = s->o.sample,
			.faults = s->o.faults,
		};

		outputs_write(&s->files, &s->o, &p, &s->sym, &pm);
	}
	profile_free(&p);
}

/* Has the target exited? Reaps it when it is our child. */
static bool target_gone(struct session *s)
{
	if (s->child)
		return waitpid(s->child, &s->status, WNOHANG) == s->child;
	return kill(s->o.pid, 0) && errno == ESRCH;
}

void session_run(struct session *s)
{
	uint64_t next_report = s->o.interval ? s->start_ms + s->o.interval * 1000 : 0;
	uint64_t end = s->o.duration ? s->start_ms + s->o.duration * 1000 : 0;
	uint64_t next_refresh = s->start_ms + REFRESH_MS;
	uint64_t next_mem = s->start_ms + MEM_MS;

	for (;;) {
		struct pollfd pf[3] = { { s->sigfd, POLLIN, 0 },
					{ ring_buffer__epoll_fd(s->events),
					  POLLIN, 0 },
					{ s->pidfd, POLLIN, 0 } };
		uint64_t now = monotonic_ms(), wake = next_refresh;
		int n;

		if (next_mem < wake)
			wake = next_mem;
		if (next_report && next_report < wake)
			wake = next_report;
		if (end && end < wake)
			wake = end;
		n = poll(pf, s->pidfd >= 0 ? 3 : 2, wake > now ? wake - now : 0);
		/* an exec's event before the gate stop that follows it,
		 * even when the ring's wakeup comes after the SIGCHLD */
		ring_buffer__consume(s->events);
		if (s->exec_ns) {
			session_exec_reset(s);
			s->exec_ns = 0;
		}
		session_end_procs(s);
		/* a dlopen: its rows within milliseconds, not at the next
		 * refresh; stacks through it are cut until then */
		if (s->code_mapped) {
			s->code_mapped = false;
			session_refresh_maps(s);
		}
		if (n > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) > 0 &&
			    si.ssi_signo != SIGCHLD)
				return;
			if (command_changed(s))
				return;
		}
		if (!s->gone && ((n > 0 && (pf[2].revents & POLLIN)) ||
				 (s->pidfd < 0 && target_gone(s)))) {
			target_gone(s);
			s->gone = true;
			s->gone_ms = monotonic_ms();
			/* --cgroup, -a: the first member is one of many (its
			 * exit, as any member's, comes through BPF) */
			if (!s->o.cgroup && !s->o.all)
				return;
			if (s->pidfd >= 0)
				close(s->pidfd);
			s->pidfd = -1;
		}
		now = monotonic_ms();
		if (now >= next_mem) {
			session_read_mem(s);
			next_mem = now + MEM_MS;
		}
		if (now >= next_refresh) {
			if (!session_refresh_maps(s)) {
				if (s->probe_pending &&
				    find_allocator(&s->sym.maps)) {
					s->probe_pending = false;
					session_probe_replacement(s);
					session_probe_extras(s);
				}
			}
			if (s->o.cgroup || s->o.all)
				session_probe_members(s);
			if (s->o.follow_forks)
				session_sync_procs(s);
			session_sample_now(s);
			next_refresh = now + REFRESH_MS;
		}
		if (end && now >= end)
			return;
		if (next_report && now >= next_report) {
			session_report(s, false);
			next_report += s->o.interval * 1000;
		}
	}
}
