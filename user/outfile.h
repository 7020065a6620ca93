/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_OUTFILE_H
#define HT_OUTFILE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/*
 * Write path atomically: fill() writes a temporary file (O_EXCL, mode
 * 0640) in the same directory, which is renamed over path only if
 * everything succeeded, so readers never see a half-written file. A
 * device or FIFO at path is written to directly; a symbolic link there
 * is refused (-ELOOP), never followed or replaced.
 */
int atomic_write(const char *path, int (*fill)(FILE *f, void *arg), void *arg);
/*
 * dir/heaptrail-PID-YYYYmmdd-HHMMSS.mmm.EXT for the time when (PID 0:
 * "kernel", for --kernel): names sort by time, and one report's files
 * share it.
 */
void stamped_path(char *out, size_t len, const char *dir, int pid,
		  const struct timespec *when, const char *ext);
/*
 * The reports' stream (-o): created 0640 or truncated, a device or FIFO
 * written to, a symbolic link refused; line-buffered.
 */
int open_output(const char *path, FILE **out);
/* What a negative errno of this module means, for one error line. */
const char *outfile_error(int err);
/* The files this run wrote to an output directory, oldest first. */
struct written {
	char **paths;
	size_t n, cap;
};

/* Note path as written; past keep (0: no limit), delete the oldest. */
int keep_written(struct written *w, const char *path, unsigned keep);
void written_free(struct written *w);
/*
 * 0 if path can be written: a file can be created in its directory (made,
 * 0750, when is_dir), or it is a device or a FIFO that opens now (a FIFO:
 * has a reader; held open for its first report, then opened per report).
 */
int check_writable(const char *path, int is_dir);

#endif
