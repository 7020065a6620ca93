// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

/* fill() into an open file: flushed, and synced where it can be. */
static int fill_file(int fd, bool sync, int (*fill)(FILE *f, void *arg),
		     void *arg)
{
	FILE *f = fdopen(fd, "w");
	int err;

	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	err = fill(f, arg);
	if (!err && fflush(f))
		err = -errno;
	if (!err && sync && fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * A FIFO checked at start stays open until its first report: closing it
 * then would end its reader's stream before any stacks arrived.
 */
#define MAX_HELD 4
static struct {
	char path[PATH_MAX];
	int fd;
} held[MAX_HELD];
static int nheld;

static int take_held(const char *path)
{
	int i, fd;

	for (i = 0; i < nheld; i++) {
		if (strcmp(held[i].path, path))
			continue;
		fd = held[i].fd;
		held[i] = held[--nheld];
		return fd;
	}
	return -1;
}

/* O_NONBLOCK: a FIFO with no reader is ENXIO, not a wait */
static int open_node(const char *path)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			    O_NOCTTY);

	if (fd < 0)
		return -errno;
	/* a reader is there: block on a full pipe as any writer would */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/*
 * A device or FIFO at path is written to, never replaced (-f /dev/null
 * must stay /dev/null); a FIFO is opened for each report, so its reader
 * sees one report per stream.
 */
static int write_node(const char *path, int (*fill)(FILE *f, void *arg),
		      void *arg)
{
	int fd = take_held(path);

	if (fd < 0)
		fd = open_node(path);
	if (fd < 0)
		return fd;
	return fill_file(fd, false, fill, arg);
}

int atomic_write(const char *path, int (*fill)(FILE *f, void *arg), void *arg)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd, err;

	if (!lstat(path, &st)) {
		/* a link planted at the path is neither followed nor
		 * replaced; heaptrail runs as root */
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode))
			return write_node(path, fill, arg);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* O_EXCL, a name no one can guess, in the same directory */
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fchmod(fd, 0640);
	err = fill_file(fd, true, fill, arg);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int open_output(const char *path, FILE **out)
{
	struct stat st;
	int fd;

	if (!*path)
		return -ENOENT;
	if (!lstat(path, &st) && S_ISLNK(st.st_mode))
		return -ELOOP;
	/* no O_TRUNC on a device or FIFO; O_NONBLOCK: a FIFO needs its
	 * reader now, not at the first report */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && ftruncate(fd, 0)) {
		close(fd);
		return -errno;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*out = fdopen(fd, "w");
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	setvbuf(*out, NULL, _IOLBF, 0);
	return 0;
}

/* mkdir -p, each directory made 0750. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = 0;
			if (mkdir(buf, 0750) && errno != EEXIST)
				return -errno;
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

int check_writable(const char *path, int is_dir)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd, err;

	if (!*path)
		return -ENOENT;
	if (is_dir && (err = make_dirs(path)))
		return err;
	if (!is_dir && !lstat(path, &st)) {
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		/* a device or FIFO must open now (a FIFO: have a reader);
		 * a FIFO is held open for the first report */
		if (!S_ISREG(st.st_mode)) {
			if (!S_ISFIFO(st.st_mode) || nheld == MAX_HELD) {
				fd = open_node(path);
				if (fd >= 0)
					close(fd);
				return fd < 0 ? fd : 0;
			}
			fd = open_node(path);
			if (fd < 0)
				return fd;
			snprintf(held[nheld].path, sizeof(held[nheld].path),
				 "%s", path);
			held[nheld++].fd = fd;
			return 0;
		}
	}
	/* root passes access() even on read-only file systems: really try */
	if (is_dir) {
		snprintf(tmp, sizeof(tmp), "%s/.heaptrail.XXXXXX", path);
	} else {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
			return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(tmp);
	return 0;
}

void stamped_path(char *out, size_t len, const char *dir, int pid,
		  const struct timespec *when, const char *ext)
{
	char stamp[32], who[16] = "kernel";	/* pid 0: --kernel */

	if (pid > 0)
		snprintf(who, sizeof(who), "%d", pid);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&when->tv_sec));
	snprintf(out, len, "%s/heaptrail-%s-%s.%03ld.%s", dir, who, stamp,
		 when->tv_nsec / 1000000, ext);
}

const char *outfile_error(int err)
{
	if (err == -ELOOP)
		return "a symbolic link: refused, never followed or replaced";
	if (err == -ENXIO)
		return "a FIFO with no reader";
	return strerror(-err);
}

int keep_written(struct written *w, const char *path, unsigned keep)
{
	char *copy = strdup(path);
	int err = 0;

	if (!copy || grow(&w->paths, w->n, &w->cap, sizeof(*w->paths))) {
		free(copy);
		return -ENOMEM;
	}
	w->paths[w->n++] = copy;
	/* the oldest of this run's files go; nobody else's */
	while (keep && w->n > keep) {
		if (unlink(w->paths[0]) && errno != ENOENT && !err)
			err = -errno;
		free(w->paths[0]);
		memmove(w->paths, w->paths + 1, --w->n * sizeof(*w->paths));
	}
	return err;
}

void written_free(struct written *w)
{
	while (w->n)
		free(w->paths[--w->n]);
	free(w->paths);
	w->paths = NULL;
	w->cap = 0;
}
