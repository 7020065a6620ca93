/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_OPTIONS_H
#define HT_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include "allocsyms.h"
#include "unwind.h"

#define MAX_DEBUG_DIRS 16


struct opts {
	pid_t pid;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	int ndebug_dirs;
	bool no_demangle;
	char **cmd;
	double interval;	/* 0: only the final report */
	double duration;	/* 0: until signal or exit */
	int top;
	const char *folded;
	bool folded_dir;
	const char *pprof;
	bool pprof_dir;
	unsigned keep;		/* files kept per output directory; 0: all */
	bool json;
	bool ages;		/* walk live allocations for their ages */
	double min_age;
	const char *btf;
	const char *libc;
	enum unwind_mode unwind;
	unsigned long max_allocs, max_stacks, max_mappings;
	bool verbose;
	bool no_multi;		/* one perf-event uprobe per function */
	bool at_entry;		/* probes at function+0 (for comparisons) */
	bool faults;		/* no allocator probes: first-touched pages */
	unsigned long sample;	/* mean bytes per sample; 0: every call */
	unsigned long min_size, max_size;	/* traced sizes, inclusive */
	const char *output;	/* -o: the reports' file, not stdout */
	bool no_session;	/* entry+return uprobes even with sessions */
	bool keep_running;	/* leave COMMAND running at the end */
	bool follow_forks;	/* trace the target's children too */
	const char *cgroup;	/* --cgroup: its processes (implies
				 * follow_forks; pid: the first member) */
	bool all;		/* -a: every process, as --cgroup of the
				 * root (cgroup NULL) */
	bool kernel;		/* --kernel: the kernel's allocations */
	struct alloc_syms alloc_syms;	/* --alloc-syms, and the executable's */
};

/* Fill o from the command line; a usage error exits with status 2. */
void parse_opts(int argc, char **argv, struct opts *o);

#endif
