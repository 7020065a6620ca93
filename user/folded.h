/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_FOLDED_H
#define HT_FOLDED_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "profile.h"
#include "symbolize.h"

/*
 * Folded stacks of outstanding bytes, one "root;...;leaf BYTES" line per
 * distinct stack, leaf being the allocator (malloc, mmap, brk, ...): the
 * input of flamegraph.pl and speedscope. Lines sum to the report total.
 */
int folded_fill(FILE *f, const struct profile *p, struct symbolizer *s);
/* What makes a folded file self-describing: its first line, a comment. */
struct folded_meta {
	pid_t pid;
	const char *comm;
	const char *cmdline;
	double interval_s;	/* 0: a one-shot report */
	uint64_t sample_bytes;	/* --sample: figures are estimates */
	bool faults;		/* --faults: pages first written, not allocations */
	struct timespec when;	/* the report's time, for a stamped name */
};

/*
 * Write atomically to target, or to a new time-stamped file inside it when
 * dir; the path written is returned in out. Stacks only, no comment line.
 */
int folded_write(const char *target, bool dir, const struct folded_meta *m,
		 const struct profile *p, struct symbolizer *s, char *out,
		 size_t outlen);

#endif
