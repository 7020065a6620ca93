/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_CHILD_H
#define HT_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * End the command heaptrail started: SIGTERM, then SIGKILL if it is still
 * there after grace_ms, and reap it. Returns its wait status, or -1 when
 * it could not be reaped.
 */
int child_end(pid_t pid, int grace_ms);
/* "exited with status 3", "killed by signal 15 (Terminated)" */
const char *child_status(int status, char *buf, size_t len);

#endif
