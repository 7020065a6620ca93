// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail's trace run: check the options against the machine and the
 * target, load and attach, run the report loop, detach. Every failure is
 * reported here, once, in one line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "child.h"
#include "command.h"
#include "elfimg.h"
#include "outfile.h"
#include "procmaps.h"
#include "procstat.h"
#include "cgroup.h"
#include "progkind.h"
#include "sample.h"
#include "kmode.h"
#include "session.h"
#include "signals.h"
#include "trace.h"
#include "util.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	return 0;
}

static bool have_privileges(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_SYS_ADMIN covers BPF, perf events and /proc/PID/map_files */
	return eff & (1ULL << 21);
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "heaptrail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/*
 * --faults charges one 4 KiB page per fault; with THP "always" a fault in
 * a large enough anonymous region may map 2 MiB ("madvise": only regions
 * the program asked for).
 */
static bool thp_always(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strstr(line, "[always]") != NULL;
}

/*
 * Programs whose allocations uprobes on a libc cannot see, refused in one
 * line unless --faults (no probes): a Go program (its heap is not
 * malloc's, and a return probe rewrites return addresses on goroutine
 * stacks the runtime moves and scans), and a static COMMAND (no libc to
 * probe; heaptrail would probe its own libc and report nothing). A static
 * -p PID maps no libc and is refused where that is found.
 */
#define GO_WHY "Go's heap does not use malloc, and return probes can crash its runtime; use --faults (no probes) or Go's own heap profile (net/http/pprof)"

static int refuse_kind(const struct session *s)
{
	char path[PATH_MAX], comm[64];

	if (s->o.cmd) {
		if (command_path(s->o.cmd[0], path, sizeof(path)))
			return 0;	/* the spawn says why */
	} else {
		snprintf(path, sizeof(path), "/proc/%d/exe", s->o.pid);
	}
	if (go_binary(path) > 0) {
		if (s->o.cmd)
			return fail("%s is a Go program: %s", s->o.cmd[0], GO_WHY);
		proc_read_comm(s->o.pid, comm, sizeof(comm));
		return fail("PID %d (%s) is a Go program: %s", s->o.pid, comm,
			    GO_WHY);
	}
	if (s->o.cmd && static_binary(path) > 0)
		return fail("%s is statically linked: there is no shared allocator to probe; --faults traces it (no probes)",
			    s->o.cmd[0]);
	return 0;
}

/*
 * --cgroup, -a: the first member that maps an allocator stands for the
 * target (slot 0: libc, unwind rows, the default names); the others
 * join as the BPF side first sees them.
 */
static int cgroup_anchor(struct session *s)
{
	struct pmaps maps;
	size_t n, i;
	pid_t *v;
	int err;

	/* -a: the root of the cgroup v2 hierarchy holds every process,
	 * mounted or not (its id is 1, its level 0) */
	if (s->o.all) {
		s->cg_id = 1;
		s->cg_level = 0;
	} else {
		err = cgroup_resolve(s->o.cgroup, &s->cg_id, &s->cg_level);
		if (err == -EMEDIUMTYPE)
			return fail("%s is not a cgroup v2 directory",
				    s->o.cgroup);
		if (err)
			return fail("cannot use cgroup %s: %s", s->o.cgroup,
				    strerror(-err));
	}
	err = cgroup_members(s->o.cgroup, &v, &n);
	if (err && s->o.all)
		return fail("cannot list /proc: %s", strerror(-err));
	if (err)
		return fail("cannot read %s/cgroup.procs: %s", s->o.cgroup,
			    strerror(-err));
	for (i = 0; i < n && !s->o.pid; i++) {
		if (v[i] == getpid() || pmaps_read(v[i], &maps))
			continue;
		if (find_allocator(&maps))
			s->o.pid = v[i];
		pmaps_free(&maps);
	}
	free(v);
	if (!s->o.pid && s->o.all)
		return fail("no process maps a libc to trace");
	if (!s->o.pid)
		return fail("cgroup %s has no process that maps a libc to trace",
			    s->o.cgroup);
	return 0;
}

static int trace(struct session *s, int argc, char **argv)
{
	const char *btf_path, *what = "";
	char libc_path[PATH_MAX], lib_name[PATH_MAX];
	struct elf_img *libc = NULL;
	const struct pmap *lp;
	struct pmaps maps;
	int gate_fd = -1, errfd = -1, err, rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_opts(argc, argv, &s->o);
	libbpf_set_print(s->o.verbose ? libbpf_print : quiet_print);

	if (!have_privileges())
		return fail("permission denied: heaptrail needs root (CAP_SYS_ADMIN, for BPF, uprobes and /proc/PID/map_files)");
	btf_path = s->o.btf ? s->o.btf : "/sys/kernel/btf/vmlinux";
	{
		struct btf *btf = btf__parse(btf_path, NULL);
		char why[128];

		/* libbpf's own codes (4001: not a BTF file) have no strerror */
		if (libbpf_get_error(btf)) {
			if (libbpf_get_error(btf) == -LIBBPF_ERRNO__FORMAT)
				snprintf(why, sizeof(why), "not a valid BTF file");
			else
				libbpf_strerror(libbpf_get_error(btf), why,
						sizeof(why));
			return fail("kernel BTF not usable at %s: %s (needs CONFIG_DEBUG_INFO_BTF, or --btf FILE)",
				    btf_path, why);
		}
		btf__free(btf);
	}
	if (s->o.folded) {
		err = check_writable(s->o.folded, s->o.folded_dir);
		if (err)
			return fail("cannot write folded output %s: %s", s->o.folded,
				    outfile_error(err));
	}
	if (s->o.pprof) {
		err = check_writable(s->o.pprof, s->o.pprof_dir);
		if (err)
			return fail("cannot write pprof output %s: %s", s->o.pprof,
				    outfile_error(err));
	}
	s->out = stdout;
	if (s->o.output) {
		err = open_output(s->o.output, &s->out);
		if (err)
			return fail("cannot write %s: %s", s->o.output,
				    outfile_error(err));
	}
	if (s->o.kernel)
		return kmode_main(&s->o, s->out);

	if (s->o.cgroup || s->o.all) {
		err = cgroup_anchor(s);
		if (err)
			return err;
	}
	/* which libc: the target's, or for a command the one we run on */
	if (s->o.cmd) {
		if (s->o.libc) {
			snprintf(libc_path, sizeof(libc_path), "%s", s->o.libc);
			snprintf(lib_name, sizeof(lib_name), "%s", s->o.libc);
		} else {
			if (pmaps_read(getpid(), &maps) || !(lp = find_libc(&maps)))
				return fail("cannot find the libc heaptrail runs on; use --libc FILE");
			snprintf(libc_path, sizeof(libc_path), "%s", lp->path);
			snprintf(lib_name, sizeof(lib_name), "%s", lp->path);
			pmaps_free(&maps);
		}
	} else {
		if (s->o.pid == getpid())
			return fail("heaptrail cannot trace itself");
		if (kill(s->o.pid, 0) && errno == ESRCH)
			return fail("no process with PID %d", s->o.pid);
	}
	if (!s->o.faults) {
		err = refuse_kind(s);
		if (err)
			return err;
	}
	/* --faults -p probes no code: any process will do, static too */
	if (!s->o.cmd && !s->o.faults) {
		err = pmaps_read(s->o.pid, &maps);
		if (err)
			return fail("cannot read /proc/%d/maps: %s", s->o.pid,
				    strerror(-err));
		lp = find_allocator(&maps);
		if (!lp) {
			pmaps_free(&maps);
			return fail("PID %d maps no libc: heaptrail traces glibc's allocator (statically linked program?)",
				    s->o.pid);
		}
		pmap_file_path(s->o.pid, lp, libc_path, sizeof(libc_path));
		snprintf(lib_name, sizeof(lib_name), "%s", lp->path);
		pmaps_free(&maps);
	}
	if (s->o.cmd || !s->o.faults) {
		uint64_t vaddr;

		err = elf_img_open(libc_path, &libc);
		/* another user's process: /proc/PID/map_files asks for
		 * CAP_SYS_PTRACE, which a container may not grant */
		if ((err == -EACCES || err == -EPERM) && !s->o.cmd)
			return fail("cannot read PID %d's %s through /proc: %s (tracing another user's process needs CAP_SYS_PTRACE)",
				    s->o.pid, lib_name, strerror(-err));
		if (err)
			return fail("cannot read %s: %s", lib_name,
				    strerror(-err));
		if (!libc->nsyms) {
			elf_img_free(libc);
			return fail("%s has no symbols", lib_name);
		}
		if (elf_img_sym_addr(libc, "malloc", &vaddr)) {
			elf_img_free(libc);
			return fail("%s has no malloc symbol", lib_name);
		}
	}

	/* SIGINT and SIGTERM end the run with a final report; SIGCHLD: the
	 * command stopped at a start gate, or is gone */
	s->sigfd = end_signals_fd(s->o.cmd != NULL);

	if (s->o.cmd) {
		errfd = command_spawn(s, &gate_fd);
		if (errfd < 0) {
			fail("cannot start %s: %s", s->o.cmd[0], strerror(-errfd));
			goto out;
		}
		snprintf(s->comm, sizeof(s->comm), "%s", s->o.cmd[0]);
		session_init_symbolizer(s);
		/* libc's rows now; where it is mapped, once it is */
		{
			struct stat st;

			if (!stat(libc_path, &st))
				unwind_add_file(&s->unw, libc_path, major(st.st_dev),
						minor(st.st_dev), st.st_ino);
		}
	} else {
		proc_read_comm(s->o.pid, s->comm, sizeof(s->comm));
		proc_read_cmdline(s->o.pid, s->cmdline, sizeof(s->cmdline));
		session_init_symbolizer(s);
		err = symbolizer_refresh(&s->sym);
		if (err) {
			fail("PID %d exited", s->o.pid);
			goto out;
		}
		unwind_scan(&s->unw, &s->sym, s->o.pid, s->o.unwind);
	}

	s->links.multi = !s->o.no_multi && uprobe_multi_supported();
	s->links.at_entry = s->o.at_entry;
	/* sessions pay off where calls are skipped: with --sample */
	s->links.session = s->links.multi && s->o.sample && !s->o.no_session &&
			  uprobe_session_supported();
	s->links.verbose = s->o.verbose;
	err = session_load(s);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			fail("permission denied loading BPF programs (root, CAP_BPF and CAP_PERFMON needed; lockdown?)");
		else
			fail("cannot load BPF programs: %s (run with -v for details)",
			     strerror(-err));
		goto out;
	}
	if (s->o.sample &&
	    (err = sample_tables_fill(bpf_map__fd(s->skel->maps.sample_draw),
				      bpf_map__fd(s->skel->maps.sample_weight),
				      s->o.sample))) {
		fail("cannot fill the sampling tables: %s", strerror(-err));
		goto out;
	}
	session_sync_unwind(s);
	err = session_attach(s, libc_path, libc, &what);
	if (err) {
		if (err == -ESRCH || (!s->child && kill(s->o.pid, 0)))
			fail("PID %d exited while attaching", s->o.pid);
		else if (err == -EPERM || err == -EACCES)
			fail("cannot attach %s: %s (needs root: CAP_SYS_ADMIN)",
			     what, strerror(-err));
		else
			fail("cannot attach %s: %s (run with -v for details)",
			     what, strerror(-err));
		goto out;
	}
	if (!s->child && session_probe_extras(s))
		goto out;
	s->start_ms = monotonic_ms();
	if (s->child) {
		err = command_start(s, gate_fd, errfd);
		gate_fd = errfd = -1;
		if (err) {
			s->child = 0;
			fail("cannot run %s: %s", s->o.cmd[0], strerror(-err));
			goto out;
		}
		/* at the gate, before main: a missing --alloc-syms name (the
		 * one error line) ends it at once, as if never started */
		if (!s->gone && !s->gate_waiting && command_release(s)) {
			kill(s->child, SIGKILL);
			waitpid(s->child, NULL, 0);
			s->child = 0;
			goto out;
		}
	}
	s->pidfd = syscall(SYS_pidfd_open, s->o.pid, 0);
	err = aggsync_init(&s->agg, bpf_map__fd(s->skel->maps.aggs),
			   bpf_map__fd(s->skel->maps.changed),
			   &s->skel->data->agg_gen, &s->skel->bss->changes_lost);
	if (err) {
		fail("cannot read the BPF change ring: %s", strerror(-err));
		goto out;
	}
	err = reclaim_init(&s->reclaim, s->skel);
	if (err) {
		fail("cannot set up stack reclaim: %s", strerror(-err));
		goto out;
	}
	s->events = ring_buffer__new(bpf_map__fd(s->skel->maps.events), session_on_event,
				    s, NULL);
	if (!s->events) {
		fail("cannot read the BPF event ring: %s", strerror(errno));
		goto out;
	}
	session_sample_now(s);
	if (s->o.faults && thp_always())
		fprintf(stderr,
			"heaptrail: transparent huge pages are on for all memory: a 2 MiB page one fault maps is counted as 4 KiB\n");
	if (s->o.faults)
		fprintf(stderr,
			"heaptrail: tracing PID %d (%s): page faults, no allocator probes, %zu unwind rows in %zu modules%s\n",
			s->o.pid, s->comm, s->unw.nrows, s->unw.nmods,
			s->o.duration ? "" : "; Ctrl-C to stop");
	else
		fprintf(stderr,
			"heaptrail: tracing PID %d (%s): %d allocator functions in %s (%s), %zu unwind rows in %zu modules%s\n",
			s->o.pid, s->comm, s->links.nfuncs,
			s->alloc_lib[0] ? s->alloc_lib : lib_name,
			s->links.session ? "session uprobes" :
			s->links.multi	? "uprobe_multi" : "uprobes",
			s->unw.nrows, s->unw.nmods,
			s->o.duration ? "" : "; Ctrl-C to stop");
	if (!s->gone)
		session_run(s);
	if (s->gone && s->child) {
		char how[80];

		fprintf(stderr, "heaptrail: PID %d %s\n", s->o.pid,
			child_status(s->status, how, sizeof(how)));
	} else if (s->gone) {
		fprintf(stderr, "heaptrail: PID %d exited\n", s->o.pid);
	}
	/* report before detaching: probes go away one by one, and a free
	 * probe removed before malloc's would leave phantom allocations */
	session_report(s, true);
	if (s->o.verbose)
		fprintf(stderr,
			"heaptrail: aggregates: %llu full reads, %llu stacks read as changed, %ld stale at the end\n",
			(unsigned long long)s->agg.full_reads,
			(unsigned long long)s->agg.key_reads,
			aggsync_stale(&s->agg));
	rc = s->files.failed ? 1 : 0;
	/* a command that ended by itself: its status, as time(1) gives it */
	if (!rc && s->gone && s->child)
		rc = WIFEXITED(s->status)   ? WEXITSTATUS(s->status) :
		     WIFSIGNALED(s->status) ? 128 + WTERMSIG(s->status) : 0;
out:
	detach_all(&s->links);
	if (gate_fd >= 0)
		close(gate_fd);	/* the child sees EOF and exits */
	if (errfd >= 0)
		close(errfd);
	if (s->child && !s->gone && !s->o.keep_running) {
		char how[80];
		int st = child_end(s->child, 2000);

		fprintf(stderr, "heaptrail: ended PID %d: %s\n", s->child,
			child_status(st, how, sizeof(how)));
	}
	ring_buffer__free(s->events);
	heaptrail_bpf__destroy(s->skel);
	procs_free(&s->procs);	/* their symbolizers read through s->sym's */
	symbolizer_free(&s->sym);
	unwind_free(&s->unw);
	trend_free(&s->trend);
	aggsync_free(&s->agg);
	if (s->reclaim.skel)
		reclaim_free(&s->reclaim);
	outputs_free(&s->files);
	if (s->out && s->out != stdout && fclose(s->out) && !rc) {
		fprintf(stderr, "heaptrail: cannot write %s: %s\n", s->o.output,
			strerror(errno));
		rc = 1;
	}
	stackcache_free(&s->frames);
	trend_feed_free(&s->feed);
	free(s->ended);
	elf_img_free(libc);
	if (s->pidfd >= 0)
		close(s->pidfd);
	return rc;
}

int trace_main(int argc, char **argv)
{
	struct session s = { .pidfd = -1, .sigfd = -1 };
	int rc = trace(&s, argc, argv);

	/* the options' own allocations, whichever way the run ended */
	alloc_syms_free(&s.o.alloc_syms);
	return rc;
}
