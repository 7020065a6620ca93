/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DBGFETCH_H
#define HT_DBGFETCH_H

#include <stddef.h>

/* The longest heaptrail waits for one debug file from a server. */
#define DBGFETCH_MAX_S 30
#define DBGFETCH_MAX_STR "30"

/*
 * A module's debug file by build ID (hex) from the debuginfod servers of
 * $DEBUGINFOD_URLS, through libdebuginfod and its cache
 * ($DEBUGINFOD_CACHE_PATH). At most DBGFETCH_MAX_S seconds, and given up
 * within about a second once SIGINT, SIGTERM or SIGHUP is pending: those
 * wait blocked for heaptrail's signalfd meanwhile. Returns an fd and the
 * cached file's path in buf, or a negative errno: -ENOSYS without
 * DEBUGINFOD_URLS, -ENOENT not found, -ETIME out of time, -EINTR stopped
 * by a signal.
 */
int dbgfetch(const char *build_id, char *buf, size_t len);

#endif
