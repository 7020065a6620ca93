/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PERFMAP_H
#define HT_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct perf_sym {
	uint64_t start, size;
	char *name;
};

/* A JIT's /tmp/perf-PID.map: names for code in anonymous mappings. */
struct perfmap {
	struct perf_sym *v;	/* sorted by start */
	size_t n;
	struct timespec mtime;	/* of the file last read */
	off_t size;
};

/* (Re)read the target's map if it changed; -ENOENT if there is none. */
int perfmap_load(struct perfmap *m, pid_t pid);
const struct perf_sym *perfmap_find(const struct perfmap *m, uint64_t addr);
void perfmap_free(struct perfmap *m);

#endif
