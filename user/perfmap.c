// SPDX-License-Identifier: GPL-2.0
/*
 * perf's JIT symbol convention: the JIT writes "START SIZE name" lines (hex
 * numbers) to /tmp/perf-PID.map. A containerised process writes to its own
 * /tmp with its own PID, so the file is looked up through /proc/PID/root
 * with the namespace PID first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfmap.h"
#include "safeopen.h"
#include "util.h"

static pid_t ns_pid(pid_t pid)
{
	char fn[64], line[256];
	pid_t last = pid;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	f = fopen(fn, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		/* innermost namespace last */
		for (;;) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			last = v;
			p = end;
		}
		break;
	}
	fclose(f);
	return last;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct perf_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int parse(FILE *f, struct perfmap *m)
{
	char line[4096];
	size_t cap = 0;

	while (fgets(line, sizeof(line), f)) {
		uint64_t start, size;
		int at = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size,
			   &at) < 2 || !at || !line[at])
			continue;
		if (m->n == cap) {
			struct perf_sym *v;

			cap = cap ? cap * 2 : 64;
			v = realloc(m->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			m->v = v;
		}
		m->v[m->n].start = start;
		m->v[m->n].size = size;
		m->v[m->n].name = strdup(line + at);
		if (!m->v[m->n].name)
			return -ENOMEM;
		m->n++;
	}
	sort_array(m->v, m->n, sizeof(*m->v), cmp_sym);
	return 0;
}

int perfmap_load(struct perfmap *m, pid_t pid)
{
	char fn[128];
	struct stat st;
	FILE *f;
	int fd, err;

	/* the process writes this file: a symlink could point heaptrail at
	 * any file of the host, a FIFO would block it */
	snprintf(fn, sizeof(fn), "/proc/%d/root/tmp/perf-%d.map", pid,
		 ns_pid(pid));
	fd = safe_open(fn, SAFE_NOFOLLOW, SAFE_MAX_TEXT);
	if (fd == -ENOENT) {
		snprintf(fn, sizeof(fn), "/tmp/perf-%d.map", pid);
		fd = safe_open(fn, SAFE_NOFOLLOW, SAFE_MAX_TEXT);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_size == m->size && st.st_mtim.tv_sec == m->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->mtime.tv_nsec) {
		close(fd);
		return 0;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	perfmap_free(m);
	err = parse(f, m);
	fclose(f);
	m->mtime = st.st_mtim;
	m->size = st.st_size;
	return err;
}

const struct perf_sym *perfmap_find(const struct perfmap *m, uint64_t addr)
{
	size_t lo = count_le(m->v, m->n, sizeof(*m->v),
			     offsetof(struct perf_sym, start), addr);
	const struct perf_sym *s;

	if (!lo)
		return NULL;
	s = &m->v[lo - 1];
	return addr < s->start + s->size ? s : NULL;
}

void perfmap_free(struct perfmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
