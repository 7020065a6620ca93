/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_STACKCACHE_H
#define HT_STACKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyidx.h"
#include "profile.h"

/*
 * Frames of the stacks seen so far. A key of the BPF stacks map always
 * names the same frames, so each is read once per run, not per report.
 */
struct stackcache {
	uint64_t *ips;		/* every cached stack's frames, end to end */
	size_t n, cap;
	struct stack_span {
		size_t off;
		int nips;
	} *span;
	size_t nspan, spcap;
	struct keyidx idx;	/* (stack, 0) -> span */
};

/* Point each entry of p at its frames (read from stacks_fd if new). */
int stackcache_attach(struct stackcache *c, int stacks_fd, struct profile *p);
/* Drop the frames of the stacks gone() says were reclaimed. */
int stackcache_forget(struct stackcache *c,
		      bool (*gone)(void *ctx, uint64_t stack), void *ctx);
void stackcache_free(struct stackcache *c);

#endif
