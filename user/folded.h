/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_FOLDED_H
#define HT_FOLDED_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "procs.h"
#include "profile.h"
#include "symbolize.h"

/*
 * Folded stacks of outstanding bytes, one "root;...;leaf BYTES" line per
 * distinct stack, leaf being the allocator (malloc, mmap, brk, ...): the
 * input of flamegraph.pl and speedscope. Lines sum to the report total.
 */
int folded_fill(FILE *f, const struct profile *p);

/*
 * Write atomically to target, or to a new time-stamped file inside it when
 * dir; the path written is returned in out. Stacks only, no comment line.
 */
int folded_write(const char *target, bool dir, pid_t pid,
		 const struct timespec *when, const struct profile *p, char *out,
		 size_t outlen);

#endif
