/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harnesses share: the readers take paths, so each input is
 * written to a memory file of the harness's own, rewritten each run; the
 * debug-file finders get an empty debug directory and no debuginfod.
 */
#ifndef HT_FUZZ_MEMFILE_H
#define HT_FUZZ_MEMFILE_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The harness's memory file (made at the first call), emptied; its path
 * ("/proc/self/fd/N") in path. One per harness process. */
static inline int memfile(const char *name, char path[64])
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create(name, MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	if (ftruncate(fd, 0))
		abort();
	return fd;
}

/* The memory file holding data. */
static inline int memfile_put(const char *name, char path[64],
			      const uint8_t *data, size_t size)
{
	int fd = memfile(name, path);

	if (pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return fd;
}

/* An empty debug directory under $TMPDIR, made once; the files on this
 * machine only: a debuginfod server would be asked for every input's
 * build ID. */
static inline const char *empty_debug_dir(const char *name)
{
	static char dir[256];

	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");

		unsetenv("DEBUGINFOD_URLS");
		snprintf(dir, sizeof(dir), "%s/%s.XXXXXX", tmp ? tmp : "/tmp",
			 name);
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

#endif
