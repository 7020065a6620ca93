/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PPROF_H
#define HT_PPROF_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "profile.h"
#include "symbolize.h"

/* What the profile says about where it came from; strings may be NULL. */
struct pprof_meta {
	pid_t pid;
	const char *comm;
	const char *cmdline;
	uint64_t time_ns;	/* wall clock, ns since the epoch */
	uint64_t duration_ns;
	double interval_s;	/* report interval, 0 if none */
	uint64_t sample_bytes;	/* --sample: values are estimates */
	bool faults;		/* --faults: pages first written, not allocations */
	bool kernel;		/* --kernel: the kernel's allocations */
};

/*
 * The live stacks of p as a gzip'd profile.proto, readable by
 * `go tool pprof`: samples inuse_space, inuse_objects, alloc_space,
 * alloc_objects (inuse_space the default), leaf frame the allocator
 * (malloc, mmap, ...) and a "kind" label with the same name.
 * pprof_write replaces path atomically. Both return 0 or -errno.
 */
int pprof_write(const char *path, const struct profile *p,
		struct symbolizer *s, const struct pprof_meta *m);
int pprof_fill(FILE *f, const struct profile *p, struct symbolizer *s,
	       const struct pprof_meta *m);

#endif
