// SPDX-License-Identifier: GPL-2.0
/* --cgroup and -a: which processes a cgroup v2 directory (or all) holds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int cgroup_resolve(const char *path, uint64_t *id, uint32_t *level)
{
	char up[PATH_MAX];
	struct statfs fs;
	struct stat st, pst;
	size_t len;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(path, &fs))
		return -errno;
	if ((unsigned long)fs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	*id = st.st_ino;
	/* up to the hierarchy's root: its parent is another file system */
	*level = 0;
	if (snprintf(up, sizeof(up), "%s", path) >= (int)sizeof(up))
		return -ENAMETOOLONG;
	for (;;) {
		len = strlen(up);
		if (len + 4 >= sizeof(up))
			return -ENAMETOOLONG;
		strcat(up, "/..");
		if (stat(up, &pst))
			return -errno;
		if (pst.st_dev != st.st_dev || *level > 4096)
			break;
		(*level)++;
	}
	return 0;
}

/* pid appended to *v (one that is no PID is skipped): 0 or -ENOMEM. */
static int add_pid(pid_t **v, size_t *n, size_t *cap, long pid)
{
	if (pid <= 0 || pid > INT_MAX)
		return 0;
	if (grow(v, *n, cap, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = pid;
	return 0;
}

/* The processes of path and of the cgroups below it, depth levels down. */
static int members(const char *path, pid_t **v, size_t *n, size_t *cap,
		   int depth)
{
	char file[PATH_MAX];
	struct dirent *d;
	long pid;
	FILE *f;
	DIR *dir;
	int err = 0;

	if (snprintf(file, sizeof(file), "%s/cgroup.procs", path) >=
	    (int)sizeof(file))
		return -ENAMETOOLONG;
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (!err && fscanf(f, "%ld", &pid) == 1)
		err = add_pid(v, n, cap, pid);
	fclose(f);
	dir = depth > 0 ? opendir(path) : NULL;
	while (!err && dir && (d = readdir(dir))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", path, d->d_name) >=
		    (int)sizeof(file))
			continue;
		/* a cgroup removed meanwhile is no error */
		if (members(file, v, n, cap, depth - 1) == -ENOMEM)
			err = -ENOMEM;
	}
	if (dir)
		closedir(dir);
	return err;
}

/* Every process /proc lists (-a). */
static int all_processes(pid_t **v, size_t *n, size_t *cap)
{
	DIR *dir = opendir("/proc");
	struct dirent *d;
	char *end;
	long pid;
	int err = 0;

	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir))) {
		pid = strtol(d->d_name, &end, 10);
		if (!*end)	/* "self", "sys", ... are no processes */
			err = add_pid(v, n, cap, pid);
	}
	closedir(dir);
	return err;
}

int cgroup_members(const char *path, pid_t **v, size_t *n)
{
	size_t cap = 0;
	int err;

	*v = NULL;
	*n = 0;
	err = path ? members(path, v, n, &cap, 32) : all_processes(v, n, &cap);
	if (err) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return err;
}
