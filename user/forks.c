// SPDX-License-Identifier: GPL-2.0
/*
 * A child the target forks inherits its memory, the breakpoints of the
 * allocator uprobes included. The kernel runs no program for the child,
 * but with uprobe_multi links (the default) it never takes the breakpoints
 * out either: its handler for another process does not ask for removal.
 * So every allocator call of the child would trap, costing microseconds
 * each, for as long as heaptrail stays attached. As a debugger removes its
 * breakpoints, the loader writes the original bytes back through
 * /proc/PID/mem: the write breaks copy-on-write, so the child gets a
 * private copy of the page and the target's own stays as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "forks.h"
#include "procmaps.h"

#define INT3 0xcc

int unprobe_child(pid_t pid, const struct probe_site *sites, int n)
{
	struct pmaps maps = { 0 };
	char path[64];
	int fd, err, done = 0, i;
	size_t j;

	err = pmaps_read(pid, &maps);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pmaps_free(&maps);
		return -errno;
	}
	for (j = 0; j < maps.n; j++) {
		const struct pmap *m = &maps.v[j];
		uint64_t dev = makedev(m->dev_major, m->dev_minor);

		if (!m->exec || !m->inode)
			continue;
		for (i = 0; i < n; i++) {
			const struct probe_site *s = &sites[i];
			uint64_t at = m->start + s->off - m->pgoff;
			uint8_t b;

			/* another tool's breakpoint where ours was never
			 * placed is not ours to take out */
			if (s->dev != dev || s->ino != m->inode ||
			    s->off < m->pgoff || at >= m->end ||
			    s->orig == INT3)
				continue;
			if (pread(fd, &b, 1, at) == 1 && b == INT3 &&
			    pwrite(fd, &s->orig, 1, at) == 1)
				done++;
		}
	}
	close(fd);
	pmaps_free(&maps);
	return done;
}
