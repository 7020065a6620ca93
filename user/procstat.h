/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROCSTAT_H
#define HT_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * When process pid started, in clock ticks after boot (/proc/PID/stat's
 * starttime): with the PID, what tells it from a later process given the
 * same number. 0 or a negative errno.
 */
int proc_start_ticks(pid_t pid, uint64_t *ticks);

/* The process's comm ("?" when gone) and its command line, spaced. */
void proc_read_comm(pid_t pid, char *buf, size_t len);
void proc_read_cmdline(pid_t pid, char *buf, size_t len);

#endif
