// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the perf map reader (user/perfmap.c) on arbitrary
 * bytes, as the traced program's /tmp/perf-PID.map (this process's own).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfmap.h"

static char path[64];

static void remove_map(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct perfmap m = { 0 };
	uint64_t probe[3];
	size_t i;

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			abort();
		atexit(remove_map);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (perfmap_load(&m, getpid()))
		return 0;
	/* look up the first bytes as addresses, and each symbol's ends */
	memset(probe, 0, sizeof(probe));
	memcpy(probe, data, size < sizeof(probe) ? size : sizeof(probe));
	for (i = 0; i < 3; i++)
		perfmap_find(&m, probe[i]);
	for (i = 0; i < m.n && i < 256; i++) {
		perfmap_find(&m, m.v[i].start);
		perfmap_find(&m, m.v[i].start + m.v[i].size - 1);
	}
	perfmap_free(&m);
	return 0;
}
