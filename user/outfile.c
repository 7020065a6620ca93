// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

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

void stamped_path(char *out, size_t len, const char *dir, int pid,
		  const char *ext)
{
	struct timeval tv;
	char stamp[32];

	gettimeofday(&tv, NULL);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&tv.tv_sec));
	snprintf(out, len, "%s/heaptrail-%d-%s.%03ld.%s", dir, pid, stamp,
		 (long)tv.tv_usec / 1000, ext);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int prune_stamped(const char *dir, int pid, const char *ext, unsigned keep)
{
	char prefix[64], path[PATH_MAX], **names = NULL;
	size_t n = 0, cap = 0, i, pl, el = strlen(ext);
	struct dirent *d;
	int err = 0;
	DIR *dd;

	snprintf(prefix, sizeof(prefix), "heaptrail-%d-", pid);
	pl = strlen(prefix);
	dd = opendir(dir);
	if (!dd)
		return -errno;
	while ((d = readdir(dd))) {
		size_t l = strlen(d->d_name);

		if (l <= pl + el + 1 || strncmp(d->d_name, prefix, pl) ||
		    strcmp(d->d_name + l - el, ext) || d->d_name[l - el - 1] != '.')
			continue;
		if (grow(&names, n, &cap, sizeof(*names)) ||
		    !(names[n] = strdup(d->d_name))) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dd);
	sort_array(names, n, sizeof(*names), cmp_name);
	for (i = 0; !err && n > keep && i < n - keep; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}
