// SPDX-License-Identifier: GPL-2.0
/*
 * Which function an entry point that only jumps goes to. A jump through
 * the GOT (a PLT stub's, or -fno-plt's jmp *x(%rip)) is named by the
 * dynamic relocation that fills that GOT slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jumpto.h"
#include "safeopen.h"

static int read_at(int fd, const struct elf_img *img, uint64_t vaddr,
		   uint8_t *buf, size_t n)
{
	uint64_t off;

	if (elf_img_vaddr_to_off(img, vaddr, &off))
		return -ENOENT;
	return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -EIO;
}

/* The jump at vaddr: its target, or its GOT slot when indirect. */
static int decode_jmp(int fd, const struct elf_img *img, uint64_t vaddr,
		      uint64_t *to, bool *via_got)
{
	uint8_t c[12];
	size_t i = 0;
	int32_t d;

	if (read_at(fd, img, vaddr, c, sizeof(c)))
		return -EIO;
	if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		i = 4;	/* endbr64 */
	if (c[i] == 0xf2)
		i++;	/* bnd prefix of IBT PLT stubs */
	*via_got = false;
	if (c[i] == 0xe9) {
		memcpy(&d, &c[i + 1], 4);
		*to = vaddr + i + 5 + d;
	} else if (c[i] == 0xeb) {
		*to = vaddr + i + 2 + (int8_t)c[i + 1];
	} else if (c[i] == 0xff && c[i + 1] == 0x25) {
		memcpy(&d, &c[i + 2], 4);
		*to = vaddr + i + 6 + d;
		*via_got = true;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* The symbol of the dynamic relocation that fills GOT slot got. */
static int got_name(int fd, uint64_t got, char *name, size_t len)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	int err = -ENOENT;

	while (e && err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			Elf_Scn *syms = elf_getscn(e, sh.sh_link);
			GElf_Shdr ssh;
			GElf_Rela r;
			GElf_Sym s;
			const char *nm;

			if (!gelf_getrela(d, i, &r) || r.r_offset != got)
				continue;
			if (!syms || !gelf_getshdr(syms, &ssh) ||
			    !gelf_getsym(elf_getdata(syms, NULL),
					 GELF_R_SYM(r.r_info), &s) ||
			    !(nm = elf_strptr(e, ssh.sh_link, s.st_name)))
				break;
			snprintf(name, len, "%s", nm);
			err = 0;
			break;
		}
	}
	if (e)
		elf_end(e);
	return err;
}

int jump_target(const char *path, const struct elf_img *img, uint64_t vaddr,
		char *name, size_t len)
{
	int fd = safe_open(path, 0, SAFE_MAX_ELF), err;
	const struct elf_sym *sym;
	uint64_t to;
	bool got;

	if (fd < 0)
		return fd;
	elf_version(EV_CURRENT);
	err = decode_jmp(fd, img, vaddr, &to, &got);
	if (!err && !got && (sym = elf_img_sym_at(img, to)) && sym->addr == to) {
		snprintf(name, len, "%s", sym->name);
	} else if (!err && !got) {
		/* a PLT stub, which jumps through the GOT in turn */
		err = decode_jmp(fd, img, to, &to, &got);
		if (!err)
			err = got ? got_name(fd, to, name, len) : -ENOENT;
	} else if (!err) {
		err = got_name(fd, to, name, len);
	}
	close(fd);
	return err;
}
