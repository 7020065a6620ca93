// SPDX-License-Identifier: GPL-2.0
/*
 * Finding a module's separate debug file, the way gdb and elfutils do:
 * by build ID under .build-id/, then by .gnu_debuglink name next to the
 * module, in its .debug/ and under the debug root. A debuglink only names
 * a file, so its CRC32 is checked: a stale debug file from an older build
 * would give wrong lines, which is worse than none. Last, the debuginfod
 * servers of $DEBUGINFOD_URLS, by build ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dbgfetch.h"
#include "debugfind.h"
#include "safeopen.h"

#define SYS_DEBUG_DIR "/usr/lib/debug"

struct link {
	char name[256];
	uint32_t crc;
	bool has_dwarf;		/* the module carries its own .debug_info */
};

static void read_sections(int fd, struct link *l)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *elf;

	memset(l, 0, sizeof(*l));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if ((!strcmp(name, ".debug_info") ||
		     !strcmp(name, ".zdebug_info")) && sh.sh_type != SHT_NOBITS)
			l->has_dwarf = true;
		/* an empty or SHT_NOBITS section has no buffer at all */
		if (strcmp(name, ".gnu_debuglink") ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		/* file name, NUL, padding to 4, CRC32 in the file's byte order */
		n = strnlen(d->d_buf, d->d_size);
		if (n >= sizeof(l->name) || ((n + 4) & ~3UL) + 4 > d->d_size)
			continue;
		memcpy(l->name, d->d_buf, n);
		l->name[n] = '\0';
		{
			Elf_Data src = { .d_buf = (char *)d->d_buf + ((n + 4) & ~3UL),
					 .d_type = ELF_T_WORD, .d_size = 4,
					 .d_version = EV_CURRENT };
			Elf_Data dst = { .d_buf = &l->crc, .d_type = ELF_T_WORD,
					 .d_size = 4, .d_version = EV_CURRENT };

			if (!gelf_xlatetom(elf, &dst, &src,
					   elf_getident(elf, NULL)[EI_DATA]))
				l->name[0] = '\0';
		}
	}
out:
	if (elf)
		elf_end(elf);
}

static bool crc_ok(int fd, uint32_t want)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crc = crc32(crc, buf, n);
		off += n;
	}
	return n == 0 && crc == want;
}

/* Open path, under the target's root first (containers), then as is. */
static int try_open(const struct debug_req *r, const char *path,
		    const struct link *l, char *buf, size_t len)
{
	struct stat a, b;
	int i, fd;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(buf, len, "/proc/%d/root%s", r->pid, path);
		else
			snprintf(buf, len, "%s", path);
		fd = safe_open(buf, 0, SAFE_MAX_ELF);
		if (fd < 0)
			continue;
		/* a debuglink may name the module itself (same basename) */
		if (!fstat(fd, &a) && !fstat(r->fd, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			close(fd);
			continue;
		}
		if (!l || crc_ok(fd, l->crc))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static int by_build_id(const struct debug_req *r, char *buf, size_t len)
{
	char p[4096];
	size_t i;
	int fd;

	if (strlen(r->build_id) < 4)
		return -ENOENT;
	for (i = 0; i <= r->ndirs; i++) {
		snprintf(p, sizeof(p), "%s/.build-id/%.2s/%s.debug",
			 i < r->ndirs ? r->dirs[i] : SYS_DEBUG_DIR, r->build_id,
			 r->build_id + 2);
		fd = try_open(r, p, NULL, buf, len);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

static int by_link(const struct debug_req *r, const struct link *l,
		   char *buf, size_t len)
{
	char dir[4096], p[8192];
	const char *slash = strrchr(r->path, '/');
	size_t i;
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - r->path) : 0,
		 r->path);
	snprintf(p, sizeof(p), "%s/%s", dir, l->name);
	if ((fd = try_open(r, p, l, buf, len)) >= 0)
		return fd;
	snprintf(p, sizeof(p), "%s/.debug/%s", dir, l->name);
	if ((fd = try_open(r, p, l, buf, len)) >= 0)
		return fd;
	for (i = 0; i <= r->ndirs; i++) {
		const char *root = i < r->ndirs ? r->dirs[i] : SYS_DEBUG_DIR;

		snprintf(p, sizeof(p), "%s%s/%s", root, dir, l->name);
		if ((fd = try_open(r, p, l, buf, len)) >= 0)
			return fd;
		snprintf(p, sizeof(p), "%s/%s", root, l->name);
		if (i < r->ndirs && (fd = try_open(r, p, l, buf, len)) >= 0)
			return fd;
	}
	return -ENOENT;
}

int debug_find(const struct debug_req *r, char *buf, size_t len)
{
	struct link l;
	int fd;

	read_sections(r->fd, &l);
	if (l.has_dwarf) {
		snprintf(buf, len, "%s", r->path);
		fd = dup(r->fd);
		return fd < 0 ? -errno : fd;
	}
	fd = by_build_id(r, buf, len);
	if (fd < 0 && l.name[0])
		fd = by_link(r, &l, buf, len);
	if (fd >= 0)
		return fd;
	/* nothing on this machine: the debuginfod servers, if any */
	fd = dbgfetch(r->build_id, buf, len);
	if (fd == -ETIME || fd == -EINTR)
		fprintf(stderr, "heaptrail: debuginfod: no debug file for %s (build ID %s): %s\n",
			r->path, r->build_id, fd == -ETIME ?
			"not received in time (" DBGFETCH_MAX_STR " s, or DEBUGINFOD_MAXTIME)" :
			"stopped by a signal");
	return fd < 0 ? -ENOENT : fd;
}
