/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_REPORT_H
#define HT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "ages.h"
#include "procmem.h"
#include "reclaim.h"
#include "procs.h"
#include "profile.h"
#include "symbolize.h"
#include "trend.h"

/* The target's execs since attach: the last one's time and old name. */
struct exec_note {
	unsigned int n;
	double at_s;
	char old_comm[64];
	struct prof_totals dropped;	/* what the old programs held */
};

struct report_opts {
	pid_t pid;
	const char *comm;
	const char *cmdline;
	int top;
	double elapsed;		/* seconds since attach */
	bool final;
	const struct leak_suspect *sus;	/* most likely leak first */
	size_t nsus;
	struct leak_scan scan;	/* what the ranking could tell */
	const struct proc_mem *mem;	/* now; NULL if unknown */
	const struct proc_mem *mem0;	/* at attach */
	const struct age_row *ages;	/* per p->v entry, or NULL */
	double min_age;			/* seconds; 0: all allocations */
	bool faults;			/* --faults: pages, not allocations */
	bool kernel;			/* --kernel: the kernel's allocations */
	bool slab_apart;	/* --kernel: the slab's own pages in p->arena */
	uint64_t sample_bytes;		/* --sample: figures are estimates */
	uint64_t min_size, max_size;	/* sizes traced; 0, ~0: all */
	uint64_t forks;		/* children the target forked: not traced */
	/* --follow-forks: the processes traced (their live totals
	 * tallied from this report's profile); NULL: the target alone */
	const struct proc_table *procs;
	const char *cgroup;	/* --cgroup PATH, else NULL */
	bool all;		/* -a: every process */
	const struct exec_note *exec;	/* NULL: none */
	const struct map_fill *fill;	/* NULL: unknown */
	/* the target's end, in a final report: */
	enum { END_RUNNING, END_GONE, END_WAITED, END_ENDING } end;
	int wstatus;		/* END_WAITED: the command's wait status */
	double end_s;		/* when, seconds after attach */
};

void report_print(FILE *out, const struct profile *p, struct symbolizer *s,
		  const struct report_opts *o);
/* Index of key's stack in p->v, or -1. */
long report_find(const struct profile *p, const struct ht_agg_key *key);
/* "1.50 MiB" */
const char *fmt_bytes(double bytes, char *buf, size_t len);

#endif
