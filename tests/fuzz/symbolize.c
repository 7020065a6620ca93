// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: `heaptrail symbolize` (user/offline.c) on an
 * arbitrary saved report: its frame lines and "unsymbolized module" lines
 * (build IDs, paths) come from wherever the report was made.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "offline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static char dir[256];
	static int fd = -1;
	char *argv[] = { "symbolize", "--debug-dir", dir, path, NULL };

	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");

		/* the files on this machine only: a debuginfod server would
		 * be asked for every input's build ID */
		unsetenv("DEBUGINFOD_URLS");

		/* an empty debug directory of its own, under the test's */
		snprintf(dir, sizeof(dir), "%s/fuzz-symbolize.XXXXXX",
			 tmp ? tmp : "/tmp");
		fd = memfd_create("fuzz-symbolize", MFD_CLOEXEC);
		if (fd < 0 || !mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	symbolize_main(4, argv);
	return 0;
}
