// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the debug-file finder (user/debugfind.c) on an
 * arbitrary module: its build ID and .gnu_debuglink (name, CRC) pick the
 * paths it opens, so a planted module must not lead it astray.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debugfind.h"
#include "elfimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[256];
	static int fd = -1;
	char *dirs[1] = { dir };
	char id[41] = "", found[4096];
	struct debug_req r = { 0 };
	int dfd;

	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");

		/* the files on this machine only: a debuginfod server would
		 * be asked for every input's build ID */
		unsetenv("DEBUGINFOD_URLS");

		/* an empty debug directory of its own, under the test's */
		snprintf(dir, sizeof(dir), "%s/fuzz-debugfind.XXXXXX",
			 tmp ? tmp : "/tmp");
		fd = memfd_create("fuzz-debugfind", MFD_CLOEXEC);
		if (fd < 0 || !mkdtemp(dir))
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	elf_build_id(fd, id);
	r.fd = fd;
	r.path = "/nonexistent/fuzz/libmod.so";
	r.pid = getpid();
	r.build_id = id;
	r.dirs = dirs;
	r.ndirs = 1;
	dfd = debug_find(&r, found, sizeof(found));
	if (dfd >= 0 && dfd != fd)
		close(dfd);
	return 0;
}
