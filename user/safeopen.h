/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SAFEOPEN_H
#define HT_SAFEOPEN_H

#include <stdint.h>

/* Size limits of the files the traced program can name. */
#define SAFE_MAX_ELF	(8ULL << 30)	/* modules and debug files */
#define SAFE_MAX_TEXT	(256ULL << 20)	/* perf maps */

#define SAFE_NOFOLLOW	1	/* a symlink is never legitimate here */

/*
 * Open for reading a file that the traced (untrusted) program can name or
 * plant: never blocks (a FIFO would hang heaptrail in open()), and refuses
 * anything but a regular file of at most max bytes. Returns an fd (O_CLOEXEC)
 * or a negative errno: -EINVAL not a regular file, -EFBIG too large.
 */
int safe_open(const char *path, int flags, uint64_t max);

#endif
