/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_ATTACH_H
#define HT_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfimg.h"
#include "procmaps.h"

struct heaptrail_bpf;
struct bpf_link;

#define ATTACH_MAX_LINKS 128
#define ATTACH_MAX_SITES 256
#define ATTACH_MAX_FNS 64	/* functions probed in one file */

/* A breakpoint heaptrail's uprobes put in a file's code. */
struct probe_site {
	uint64_t dev, ino;	/* the probed file, as stat(2) gives them */
	uint64_t off;		/* the breakpoint's file offset */
	uint8_t orig;		/* the byte it replaces */
};

struct attach {
	struct bpf_link *links[ATTACH_MAX_LINKS];
	int n;
	int raw[16];		/* uprobe_multi link fds */
	int nraw;
	int nfuncs;		/* allocator functions probed */
	bool multi;		/* attached through uprobe_multi links */
	bool session;		/* one session uprobe link (needs multi) */
	bool at_entry;		/* probes at +0, not moved (probeplace.c) */
	bool verbose;		/* say where each probe went */
	struct probe_site sites[ATTACH_MAX_SITES];
	int nsites;
};

/* Does the running kernel have uprobe_multi links (Linux 6.6+)? */
bool uprobe_multi_supported(void);
/* Does it have session uprobes (Linux 6.13+: entry decides on return)? */
bool uprobe_session_supported(void);
/* Before load: let the allocator programs attach through uprobe_multi. */
void prepare_uprobe_multi(struct heaptrail_bpf *skel);

/* The libc mapping of a process, or NULL if it maps none. */
const struct pmap *find_libc(const struct pmaps *maps);
/*
 * The library whose malloc the process uses: a replacement allocator it
 * maps (jemalloc, tcmalloc, mimalloc: preloaded or linked, they interpose
 * libc's), else libc; NULL if neither.
 */
const struct pmap *find_allocator(const struct pmaps *maps);
/*
 * Uprobes on the allocator functions of the libc file at path: two
 * uprobe_multi links when a->multi (set up by prepare_uprobe_multi), else
 * one perf-event uprobe per function and direction. pid -1: in every
 * process that maps the file (BPF filters).
 */
int attach_allocators(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		      const struct elf_img *libc, struct attach *a);
/*
 * Uprobes on the functions names[] of the ELF file at path, each of the
 * kind kinds[] (HT_MALLOC...: probed as that function of the allocator
 * table is). How many were probed; -ENOENT when it has none of them.
 */
int attach_named(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		 const struct elf_img *img, const char *const *names,
		 const uint32_t *kinds, size_t n, struct attach *a);
/* The kind of the allocator function called name (malloc, free...). */
int alloc_kind_by_name(const char *name, uint32_t *kind);
/* The names alloc_kind_by_name knows, for messages. */
const char *alloc_kind_names(void);
/* Tracepoints for mmap/munmap/mremap/brk, thread exit and, when they
 * are loaded (--faults), madvise and user page faults. */
int attach_syscalls(struct heaptrail_bpf *skel, struct attach *a);
/* Note the breakpoints of probes at file offsets off[] of path. */
void attach_note_sites(struct attach *a, const char *path,
		       const uint64_t *off, size_t n);
/* Are the allocator probes on the file of device dev, inode ino? */
bool attach_probes_file(const struct attach *a, uint64_t dev, uint64_t ino);
void detach_all(struct attach *a);

#endif
