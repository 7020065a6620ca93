/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_STACKSYMS_H
#define HT_STACKSYMS_H

#include <stdint.h>

struct frame;
struct profile;
struct symbolizer;

/*
 * The return addresses of a profile's stacks, each symbolized once for
 * all the writers of a report (text, JSON, folded, pprof): the table
 * lives as long as the profile, and only addresses a writer asks for are
 * looked up.
 */
struct pc_syms;

/* Name p's frames through s from now on (and reload s's JIT map once). */
int profile_symbolize(struct profile *p, struct symbolizer *s);
/*
 * The source-level frames at return address pc of process slot (0 but
 * with --follow-forks), innermost first: the calls inlined there, then
 * the function (always at least that one).
 */
int profile_frames(const struct profile *p, uint32_t slot, uint64_t pc,
		   const struct frame **v);
void pc_syms_free(struct pc_syms *t);

#endif
