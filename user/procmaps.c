// SPDX-License-Identifier: GPL-2.0
/* /proc/PID/maps parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"
#include "util.h"

static int parse_line(const char *line, struct pmap *p)
{
	char perms[8], path[4096] = "";
	int n;

	memset(p, 0, sizeof(*p));
	n = sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %4095[^\n]", &p->start,
		   &p->end, perms, &p->pgoff, &p->dev_major, &p->dev_minor,
		   &p->inode, path);
	if (n < 7)
		return -EINVAL;
	p->exec = perms[2] == 'x';
	n = strlen(path);
	if (n > 10 && !strcmp(path + n - 10, " (deleted)")) {
		p->deleted = true;
		path[n - 10] = '\0';
	}
	p->path = strdup(path);
	return p->path ? 0 : -ENOMEM;
}

int pmaps_read(pid_t pid, struct pmaps *out)
{
	char fn[64], line[4352];
	size_t cap = 0;
	FILE *f;

	out->v = NULL;
	out->n = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", pid);
	f = fopen(fn, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (grow(&out->v, out->n, &cap, sizeof(*out->v))) {
			fclose(f);
			pmaps_free(out);
			return -ENOMEM;
		}
		if (!parse_line(line, &out->v[out->n]))
			out->n++;
	}
	fclose(f);
	return 0;
}

void pmaps_free(struct pmaps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct pmap *pmaps_find(const struct pmaps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	/* the kernel lists mappings sorted by address */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

void pmap_file_path(pid_t pid, const struct pmap *p, char *buf, size_t len)
{
	/* map_files reaches the very inode mapped: deleted, replaced, or
	 * inside another mount namespace */
	snprintf(buf, len, "/proc/%d/map_files/%lx-%lx", pid, p->start, p->end);
}
