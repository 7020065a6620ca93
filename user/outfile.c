// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

int atomic_write(const char *path, int (*fill)(FILE *f, void *arg), void *arg)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fchmod(fd, 0644);
	err = fill(f, arg);
	if (!err && fflush(f))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int check_writable(const char *path, int is_dir)
{
	char tmp[PATH_MAX];
	char *slash;
	int fd;

	/* root passes access() even on read-only file systems: really try */
	if (is_dir) {
		snprintf(tmp, sizeof(tmp), "%s/.heaptrail.XXXXXX", path);
	} else {
		snprintf(tmp, sizeof(tmp), "%s", path);
		slash = strrchr(tmp, '/');
		snprintf(slash ? slash + 1 : tmp,
			 sizeof(tmp) - (slash ? slash + 1 - tmp : 0),
			 ".heaptrail.XXXXXX");
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(tmp);
	return 0;
}
