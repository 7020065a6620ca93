/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_ALLOCSYMS_H
#define HT_ALLOCSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocrange.h"
#include "attach.h"
#include "symbolize.h"

struct heaptrail_bpf;

#define ALLOC_SYMS_MAX 32
#define ALLOC_SYMS_MAX_FILES 32

/*
 * Allocator functions beyond the table's: an in-house allocator named by
 * --alloc-syms, and an allocator linked into the executable.
 */
struct alloc_syms {
	char *names[ALLOC_SYMS_MAX];	/* --alloc-syms: function names */
	uint32_t kinds[ALLOC_SYMS_MAX];	/* and the kind each one is */
	bool found[ALLOC_SYMS_MAX];	/* probed in some module */
	size_t n;
	struct {
		uint64_t dev, ino;
	} done[ALLOC_SYMS_MAX_FILES];	/* files probed already */
	size_t ndone;
};

/*
 * Parse "NAME=KIND,NAME=KIND" (KIND: malloc, calloc, realloc, ..., free).
 * On error, -EINVAL with a one-line reason in why.
 */
int alloc_syms_parse(const char *spec, struct alloc_syms *as, char *why,
		     size_t len);
/*
 * Probe the named functions in every module of the target that defines
 * them, and the allocator functions of any module besides libc that
 * defines malloc and free itself (an executable with an allocator linked
 * in, exported or in .symtab only). A module is probed once. -ENOENT,
 * with *missing set, when a name is found nowhere.
 */
int alloc_syms_attach(struct alloc_syms *as, struct heaptrail_bpf *skel,
		      struct symbolizer *sym, pid_t pid, struct attach *a,
		      bool verbose, const char **missing);
/* Add the code ranges of what alloc_syms_attach probed to r. */
void alloc_syms_ranges(const struct alloc_syms *as, struct symbolizer *sym,
		       struct alloc_ranges *r);
void alloc_syms_free(struct alloc_syms *as);

#endif
