/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_ATTACH_H
#define HT_ATTACH_H

#include <sys/types.h>

#include "elfimg.h"
#include "procmaps.h"

struct heaptrail_bpf;
struct bpf_link;

#define ATTACH_MAX_LINKS 48

struct attach {
	struct bpf_link *links[ATTACH_MAX_LINKS];
	int n;
	int nfuncs;		/* allocator functions probed */
};

/* The libc mapping of a process, or NULL if it maps none. */
const struct pmap *find_libc(const struct pmaps *maps);
/* Uprobes on the allocator functions of the libc file at path. */
int attach_allocators(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		      const struct elf_img *libc, struct attach *a);
/* Tracepoints for mmap/munmap/mremap/brk and thread exit. */
int attach_syscalls(struct heaptrail_bpf *skel, struct attach *a);
void detach_all(struct attach *a);

#endif
