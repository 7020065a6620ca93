/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_KMODE_H
#define HT_KMODE_H

#include <stdbool.h>
#include <stdint.h>

/* What heaptrail --kernel takes from the command line. */
struct kmode_opts {
	double interval;	/* 0: only the final report */
	double duration;	/* 0: until SIGINT/SIGTERM */
	int top;
	const char *folded;
	bool folded_dir;
	const char *pprof;
	bool pprof_dir;
	unsigned keep;
	bool json;
	const char *output;
	uint64_t min_size, max_size;
	unsigned long max_allocs, max_stacks;
	const char *btf;
	bool verbose;
};

/*
 * heaptrail --kernel: the kernel's outstanding allocations by kernel
 * stack, reported as a process's are. Returns the exit code.
 */
int kmode_main(const struct kmode_opts *o);

#endif
