// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the debug-file finder (user/debugfind.c) on an
 * arbitrary module: its build ID and .gnu_debuglink (name, CRC) pick the
 * paths it opens, so a planted module must not lead it astray.
 */
#define _GNU_SOURCE
#include "debugfind.h"
#include "elfimg.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dirs[1] = { (char *)empty_debug_dir("fuzz-debugfind") };
	char id[41] = "", found[4096], path[64];
	struct debug_req r = { 0 };
	int fd, dfd;

	fd = memfile_put("fuzz-debugfind", path, data, size);
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
