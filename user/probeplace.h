/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROBEPLACE_H
#define HT_PROBEPLACE_H

#include <stddef.h>
#include <stdint.h>

/* Argument registers a BPF entry program reads (System V order). */
enum {
	PP_ARG0 = 1 << 0,	/* rdi */
	PP_ARG1 = 1 << 1,	/* rsi */
	PP_ARG2 = 1 << 2,	/* rdx */
	PP_RET = 1 << 3,	/* a return probe reads the result */
};

struct probe_place {
	uint64_t off;		/* bytes from the function's start */
	char why[400];		/* for -v: what is there, what was skipped */
};

/*
 * Where to put a function's uprobe (and uretprobe) so that the kernel
 * emulates the probed instruction instead of single-stepping it: the first
 * emulated instruction (push reg, jmp, jcc, call, nop) that the function
 * reaches with rsp and the argument registers in args still as they were
 * at entry, that no branch of the function targets, and before which every
 * branch out leads straight to a ret (none may when PP_RET is in args: that
 * path would return a result unseen). Otherwise +0. code holds the whole
 * function (len bytes), loaded at ELF address vaddr.
 */
void probe_place(const uint8_t *code, size_t len, uint64_t vaddr,
		 unsigned args, struct probe_place *out);

#endif
