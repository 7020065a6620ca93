// SPDX-License-Identifier: GPL-2.0
/*
 * Debug files from debuginfod servers, the last place a module's DWARF is
 * looked for. libdebuginfod does the HTTP, the server list and the cache;
 * heaptrail bounds the time: the report loop waits while a file comes, and
 * the signals that end a run are blocked for its signalfd, so a download
 * must give way to them. libdebuginfod calls the progress function at
 * least once a second while it waits for a server.
 */
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbgfetch.h"

struct fetch {
	uint64_t deadline_ns;
	int why;	/* 0, or -ETIME / -EINTR when given up */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Nonzero cancels the transfer. */
static int progress(debuginfod_client *c, long done, long total)
{
	struct fetch *f = debuginfod_get_user_data(c);
	sigset_t pending;

	if (!sigpending(&pending) &&
	    (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	     sigismember(&pending, SIGHUP)))
		f->why = -EINTR;
	else if (mono_ns() > f->deadline_ns)
		f->why = -ETIME;
	return f->why;
}

int dbgfetch(const char *build_id, char *buf, size_t len)
{
	const char *urls = getenv(DEBUGINFOD_URLS_ENV_VAR);
	struct fetch f = { mono_ns() + DBGFETCH_MAX_S * 1000000000ULL, 0 };
	debuginfod_client *c;
	char *path = NULL;
	int fd;

	/* no client (and no curl set up) unless servers are named */
	if (!urls || !urls[strspn(urls, " ")] || !build_id[0])
		return -ENOSYS;
	c = debuginfod_begin();
	if (!c)
		return -ENOMEM;
	debuginfod_set_user_data(c, &f);
	debuginfod_set_progressfn(c, progress);
	fd = debuginfod_find_debuginfo(c, (const unsigned char *)build_id, 0,
				       &path);
	debuginfod_end(c);
	if (fd >= 0) {
		snprintf(buf, len, "%s", path);
		free(path);
		return fd;
	}
	free(path);
	return f.why ? f.why : fd;
}
