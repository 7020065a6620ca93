/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_OUTFILE_H
#define HT_OUTFILE_H

#include <stdio.h>

/*
 * Write path atomically: fill() writes a temporary file in the same
 * directory, which is renamed over path only if everything succeeded, so
 * readers never see a half-written file.
 */
int atomic_write(const char *path, int (*fill)(FILE *f, void *arg), void *arg);
/*
 * dir/heaptrail-PID-YYYYmmdd-HHMMSS.mmm.EXT for the time when: names sort
 * by time, and one report's files share it.
 */
void stamped_path(char *out, size_t len, const char *dir, int pid,
		  const struct timespec *when, const char *ext);
/* Delete all but the newest keep files named by stamped_path(). */
int prune_stamped(const char *dir, int pid, const char *ext, unsigned keep);
/* 0 if a file can be created in path's directory. */
int check_writable(const char *path, int is_dir);

#endif
