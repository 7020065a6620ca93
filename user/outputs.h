/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_OUTPUTS_H
#define HT_OUTPUTS_H

#include <stdbool.h>

#include "options.h"
#include "outfile.h"
#include "pprof.h"

/* The files a run writes besides its reports: folded and pprof. */
struct outputs {
	struct written folded, pprof;	/* in output directories, for --keep */
	bool failed;	/* a file could not be written (said on stderr) */
};

/*
 * Write the report's folded and pprof files, as o asks: one wall-clock
 * time names both (set in m here); m->pid names files in a directory.
 */
void outputs_write(struct outputs *w, const struct opts *o,
		   const struct profile *p, struct symbolizer *sym,
		   struct pprof_meta *m);
void outputs_free(struct outputs *w);

#endif
