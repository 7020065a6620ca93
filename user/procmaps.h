/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROCMAPS_H
#define HT_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps. */
struct pmap {
	uint64_t start, end, pgoff;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool exec;
	bool deleted;		/* file replaced or removed since it was mapped */
	char *path;		/* as the kernel prints it, " (deleted)" cut */
};

struct pmaps {
	struct pmap *v;
	size_t n;
};

int pmaps_read(pid_t pid, struct pmaps *out);
void pmaps_free(struct pmaps *m);
const struct pmap *pmaps_find(const struct pmaps *m, uint64_t addr);
/* A path that opens the mapped file even if deleted or in a container. */
void pmap_file_path(pid_t pid, const struct pmap *p, char *buf, size_t len);

#endif
