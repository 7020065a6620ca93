// SPDX-License-Identifier: GPL-2.0
/*
 * Opening files the traced program controls. heaptrail runs as root and
 * reads debug links, build-id paths, perf maps and modules that the target
 * names or plants: a FIFO there would block open() (and every signal with
 * it), a device could be read forever, a sparse file of a terabyte would be
 * checksummed for hours.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safeopen.h"

int safe_open(const char *path, int flags, uint64_t max)
{
	int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	struct stat st;
	int fd, err;

	if (flags & SAFE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		err = -EFBIG;
	else
		return fd;
	close(fd);
	return err;
}
