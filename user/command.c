// SPDX-License-Identifier: GPL-2.0
/*
 * -- COMMAND: heaptrail starts the command itself, held at a start gate
 * until the probes are in place, and again after each exec it makes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "allocrange.h"
#include "command.h"
#include "procstat.h"
#include "session.h"
#include "util.h"

/* Fork the command, stopped until the probes are in place. */
int command_spawn(struct session *s, int *gate_fd)
{
	int gate[2], errp[2], err = 0;
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		sigset_t none;
		char c;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(gate[1]);
		close(errp[0]);
		if (read(gate[0], &c, 1) != 1)
			_exit(127);
		execvp(s->o.cmd[0], s->o.cmd);
		err = errno;
		if (write(errp[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(gate[0]);
	close(errp[1]);
	s->child = pid;
	s->o.pid = pid;
	*gate_fd = gate[1];
	/* EOF on errp means exec succeeded: CLOEXEC closed the child's end */
	return errp[0];
}

static int exec_result(int errfd)
{
	int err = 0;
	ssize_t n = read(errfd, &err, sizeof(err));

	close(errfd);
	return n == sizeof(err) ? -err : 0;
}

/* What the allocator mapped before the gate is the allocator's. */
static void reclaim_early(struct session *s)
{
	int n = alloc_ranges_reclaim_early(bpf_map__fd(s->skel->maps.early_ra),
					   bpf_map__fd(s->skel->maps.mappings),
					   bpf_map__fd(s->skel->maps.aggs),
					   s->skel->bss->image, &s->alloc_code);

	if (n > 0)
		s->agg.primed = false;	/* changed behind the ring */
	if (s->o.verbose && n)
		fprintf(stderr, "heaptrail: %d mappings made before main by the allocator: %s\n",
			n, n > 0 ? "the allocator's" : strerror(-n));
}

/*
 * The command stopped at the start gate, before its main: its libraries
 * are mapped. Place their unwind rows, probe its allocator and the
 * --alloc-syms functions, resume it. When those functions are missing
 * the command is left stopped (the error was told) for the caller to end.
 */
int command_release(struct session *s)
{
	proc_read_comm(s->o.pid, s->comm, sizeof(s->comm));
	proc_read_cmdline(s->o.pid, s->cmdline, sizeof(s->cmdline));
	if (!session_refresh_maps(s) && !s->o.faults) {
		session_probe_replacement(s);
		if (session_probe_extras(s))
			return -ENOENT;
		reclaim_early(s);
	}
	kill(s->child, SIGCONT);
	return 0;
}

/*
 * SIGCHLD from the command: stopped at the start gate again after an
 * exec (resumed once its new program is probed), or gone (true). A stop
 * of anyone else's making is left alone.
 */
bool command_changed(struct session *s)
{
	pid_t r;
	int st;

	r = waitpid(s->child, &st, WUNTRACED | WNOHANG);
	if (r != s->child)
		return false;
	if (WIFSTOPPED(st)) {
		if (WSTOPSIG(st) == SIGSTOP && s->gate_waiting) {
			s->gate_waiting = false;
			/* a new program without the --alloc-syms functions
			 * runs on, those functions untraced (told) */
			if (command_release(s))
				kill(s->child, SIGCONT);
		}
		return false;
	}
	s->status = st;
	s->gone = true;
	s->gone_ms = monotonic_ms();
	return true;
}

/*
 * Release the command: it runs until libc is mapped and stops at the
 * start gate, before main (released by the caller: command_release).
 * A stop later than the wait here is released by the run loop.
 */
int command_start(struct session *s, int gate_fd, int errfd)
{
	int st, err, i;

	s->skel->bss->gate_armed = 1;
	if (write(gate_fd, "g", 1) != 1)
		return -errno;
	close(gate_fd);
	err = exec_result(errfd);
	if (err) {
		waitpid(s->child, &st, 0);
		return err;
	}
	for (i = 0; i < 2000; i++) {
		pid_t r = waitpid(s->child, &st, WUNTRACED | WNOHANG);

		if (r == s->child && WIFSTOPPED(st))
			return 0;
		if (r == s->child) {	/* exited before main */
			s->gone = true;
			s->gone_ms = monotonic_ms();
			s->status = st;
			return 0;
		}
		usleep(1000);
	}
	/* slow to reach main (a loaded box): never resume it blind, its
	 * stop is still to come */
	s->gate_waiting = true;
	return 0;
}
