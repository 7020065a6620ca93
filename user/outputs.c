// SPDX-License-Identifier: GPL-2.0
/*
 * The report's files, for a process or the kernel alike: written whole
 * or not at all (outfile.c), named by one time, older ones dropped by
 * --keep. A failure is said once per file and remembered for the exit
 * code.
 */
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "folded.h"
#include "outputs.h"

static void done(struct outputs *w, struct written *kept, const char *path,
		 int err, bool dir, unsigned int keep)
{
	if (err) {
		fprintf(stderr, "heaptrail: cannot write %s: %s\n", path,
			outfile_error(err));
		w->failed = true;
	} else if (dir) {
		keep_written(kept, path, keep);
	}
}

void outputs_write(struct outputs *w, const struct opts *o,
		   const struct profile *p, struct symbolizer *sym,
		   struct pprof_meta *m)
{
	char path[PATH_MAX];
	struct timespec when;
	int err;

	clock_gettime(CLOCK_REALTIME, &when);
	if (o->folded) {
		err = folded_write(o->folded, o->folded_dir, m->pid, &when, p,
				   path, sizeof(path));
		done(w, &w->folded, path, err, o->folded_dir, o->keep);
	}
	if (o->pprof) {
		m->time_ns = when.tv_sec * 1000000000ULL + when.tv_nsec;
		if (o->pprof_dir)
			stamped_path(path, sizeof(path), o->pprof, m->pid,
				     &when, "pb.gz");
		else
			snprintf(path, sizeof(path), "%s", o->pprof);
		err = pprof_write(path, p, sym, m);
		done(w, &w->pprof, path, err, o->pprof_dir, o->keep);
	}
}

void outputs_free(struct outputs *w)
{
	written_free(&w->folded);
	written_free(&w->pprof);
}
