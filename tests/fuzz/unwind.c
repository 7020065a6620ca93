// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the unwind-row builder (user/unwind.c) on arbitrary
 * bytes, as the .eh_frame of a module the traced program maps.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	struct unwind_table t = { 0 };

	/* unwind_add_file() takes a path: a memory file, rewritten each run */
	if (fd < 0) {
		fd = memfd_create("fuzz-unwind", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	unwind_add_file(&t, path, 0, 0, 1);
	unwind_free(&t);
	return 0;
}
