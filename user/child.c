// SPDX-License-Identifier: GPL-2.0
/*
 * The command of `heaptrail -- COMMAND` must not outlive the run: left
 * behind it would keep running unobserved, re-parented to init, with the
 * terminal or pipe heaptrail shared with it still open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "child.h"

static int reap_within(pid_t pid, int ms, int *status)
{
	struct timespec tick = { 0, 10 * 1000000 };
	int i;

	for (i = 0; i <= ms / 10; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

int child_end(pid_t pid, int grace_ms)
{
	int status = 0;

	/* a stopped child (at a start gate) acts on SIGTERM once
	 * continued, before it runs another instruction of its own */
	kill(pid, SIGTERM);
	kill(pid, SIGCONT);
	if (!reap_within(pid, grace_ms, &status))
		return status;
	kill(pid, SIGKILL);
	return reap_within(pid, 5000, &status) ? -1 : status;
}

const char *child_status(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "could not be reaped");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (wait status %#x)", status);
	return buf;
}
