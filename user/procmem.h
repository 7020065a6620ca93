/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROCMEM_H
#define HT_PROCMEM_H

#include <stdint.h>
#include <sys/types.h>

/* What the kernel says the process holds, from /proc/PID/status. */
struct proc_mem {
	uint64_t rss;		/* VmRSS */
	uint64_t anon;		/* RssAnon: heap, stacks, anonymous maps */
	uint64_t file;		/* RssFile */
	uint64_t swap;		/* VmSwap */
	uint64_t vsize;		/* VmSize */
};

int proc_mem_read(pid_t pid, struct proc_mem *m);

#endif
