/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DEBUGFIND_H
#define HT_DEBUGFIND_H

#include <stddef.h>
#include <sys/types.h>

/* Where a module is and what names its debug info. */
struct debug_req {
	int fd;			/* the module file itself */
	const char *path;	/* as the process maps it */
	pid_t pid;		/* its files are under /proc/PID/root */
	const char *build_id;	/* hex, may be "" */
	/* extra places to look (--debug-dir), before the system ones */
	char *const *dirs;
	size_t ndirs;
};

/*
 * Open the file holding the module's DWARF: the module itself if it has
 * .debug_info, else /usr/lib/debug/.build-id/xx/rest.debug, else the
 * .gnu_debuglink file whose CRC32 matches, else a debuginfod server's by
 * build ID (dbgfetch.h). Returns an fd, its path in buf, or -ENOENT.
 */
int debug_find(const struct debug_req *r, char *buf, size_t len);

#endif
