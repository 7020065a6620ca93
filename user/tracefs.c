// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdio.h>
#include <unistd.h>

#include "tracefs.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

static int mounted(const char *dir)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/events", dir);
	return !access(path, F_OK);
}

int tracefs_ensure(const char **what)
{
	if (mounted(TRACEFS) || mounted(DEBUGFS_TRACING))
		return 0;
	/* our own copy of the mount table: the mount below stays ours */
	*what = "syscall tracepoints: tracefs is not mounted, and unshare(CLONE_NEWNS) to mount it privately failed";
	if (unshare(CLONE_NEWNS))
		return -errno;
	/* slave: the host's later mounts still reach us, ours never go back */
	*what = "syscall tracepoints: tracefs is not mounted, and making / a slave mount failed";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		return -errno;
	*what = "syscall tracepoints: tracefs is not mounted, and mount -t tracefs nodev " TRACEFS " failed";
	if (mount("nodev", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL))
		return -errno;
	return mounted(TRACEFS) ? 0 : -ENOENT;
}
