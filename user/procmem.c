// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "procmem.h"

int proc_mem_read(pid_t pid, struct proc_mem *m)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "VmRSS:", offsetof(struct proc_mem, rss) },
		{ "RssAnon:", offsetof(struct proc_mem, anon) },
		{ "RssFile:", offsetof(struct proc_mem, file) },
		{ "VmSwap:", offsetof(struct proc_mem, swap) },
		{ "VmSize:", offsetof(struct proc_mem, vsize) },
	};
	char fn[64], line[256];
	int found = 0;
	size_t i;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			size_t l = strlen(fields[i].name);
			unsigned long long kb;

			if (strncmp(line, fields[i].name, l) ||
			    sscanf(line + l, "%llu", &kb) != 1)
				continue;
			*(uint64_t *)((char *)m + fields[i].off) = kb * 1024;
			found++;
		}
	}
	fclose(f);
	/* a zombie has a status file but no memory lines */
	return found ? 0 : -ESRCH;
}
