// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progkind.h"
#include "safeopen.h"

/* Go's linker writes these sections; runtime.main is in every Go program. */
static int has_go_marks(Elf *e)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".go.buildinfo") ||
			     !strcmp(name, ".note.go.buildid") ||
			     !strcmp(name, ".gopclntab")))
			return 1;
		if (sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)) ||
		    !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, i, &sym))
				break;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, "runtime.main"))
				return 1;
		}
	}
	return 0;
}

/* The target names these files: safe_open() (no FIFO, no device). */
static int open_elf(const char *path, int *fd, Elf **e)
{
	*fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (*fd < 0)
		return *fd;
	elf_version(EV_CURRENT);
	*e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*e || elf_kind(*e) != ELF_K_ELF) {
		if (*e)
			elf_end(*e);
		close(*fd);
		return -ENOEXEC;
	}
	return 0;
}

static void close_elf(int fd, Elf *e)
{
	elf_end(e);
	close(fd);
}

int go_binary(const char *path)
{
	int fd, ret;
	Elf *e;

	ret = open_elf(path, &fd, &e);
	if (ret)
		return ret;
	ret = has_go_marks(e);
	close_elf(fd, e);
	return ret;
}

int static_binary(const char *path)
{
	int fd, ret;
	size_t i, n;
	Elf *e;

	ret = open_elf(path, &fd, &e);
	if (ret)
		return ret;
	ret = elf_getphdrnum(e, &n) ? -ENOEXEC : 1;
	for (i = 0; ret == 1 && i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_INTERP)
			ret = 0;
	}
	close_elf(fd, e);
	return ret;
}

int command_path(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t n;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		/* an empty entry is the current directory, as for execvp */
		snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", cmd);
		if (!access(out, X_OK))
			return 0;
		if (!end)
			return -ENOENT;
	}
}
