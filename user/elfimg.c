// SPDX-License-Identifier: GPL-2.0
/* ELF symbol tables, load segments and build IDs, read with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfimg.h"
#include "safeopen.h"
#include "util.h"

struct raw_sym {
	uint64_t addr, size;
	const char *name;	/* points into libelf data until copied */
	int rank;		/* lower is a better name for the address */
};

static int name_rank(const char *name, int bind)
{
	int r = 0;

	if (name[0] == '_')
		r += 4;
	if (name[0] == '_' && name[1] == '_')
		r += 4;
	if (bind != STB_GLOBAL)
		r += bind == STB_WEAK ? 1 : 2;
	return r;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

static int collect(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct raw_sym **v,
		   size_t *n, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, cnt;

	if (!data || !sh->sh_entsize)
		return 0;
	cnt = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < cnt; i++) {
		GElf_Sym s;
		const char *name;
		int type;

		if (!gelf_getsym(data, i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !s.st_value ||
		    s.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (*n == *cap) {
			struct raw_sym *nv;

			*cap = *cap ? *cap * 2 : 1024;
			nv = realloc(*v, *cap * sizeof(**v));
			if (!nv)
				return -ENOMEM;
			*v = nv;
		}
		(*v)[(*n)++] = (struct raw_sym){ s.st_value, s.st_size, name,
						 name_rank(name, GELF_ST_BIND(s.st_info)) };
	}
	return 0;
}

/* Copy names out of libelf's buffers; keep one symbol per address. */
static int finish_syms(struct elf_img *img, struct raw_sym *v, size_t n)
{
	size_t i, k = 0, bytes = 0;
	char *p;

	sort_array(v, n, sizeof(*v), cmp_raw);
	for (i = 0; i < n; i++)
		bytes += strcspn(v[i].name, "@") + 1;
	img->all = calloc(n ? n : 1, sizeof(*img->all));
	img->syms = calloc(n ? n : 1, sizeof(*img->syms));
	img->strs = malloc(bytes ? bytes : 1);
	if (!img->all || !img->syms || !img->strs)
		return -ENOMEM;
	p = img->strs;
	for (i = 0; i < n; i++) {
		/* .symtab names may carry a version ("memcpy@@GLIBC_2.14") */
		size_t l = strcspn(v[i].name, "@");

		memcpy(p, v[i].name, l);
		p[l++] = '\0';
		img->all[i] = (struct elf_sym){ v[i].addr, v[i].size, p };
		p += l;
		if (k && img->syms[k - 1].addr == v[i].addr) {
			if (!img->syms[k - 1].size)
				img->syms[k - 1].size = v[i].size;
			continue;
		}
		img->syms[k++] = img->all[i];
	}
	img->nall = n;
	img->nsyms = k;
	return 0;
}

static void read_build_id(Elf *elf, char *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data &&
		       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
			const unsigned char *d;
			size_t i;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz > 20)
				continue;
			d = (const unsigned char *)data->d_buf + desc_off;
			for (i = 0; i < nh.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", d[i]);
			return;
		}
	}
}

/* Do most functions begin with push %rbp; mov %rsp,%rbp? */
static bool uses_frame_pointers(int fd, const struct elf_img *img)
{
	size_t i, seen = 0, with = 0;

	for (i = 0; i < img->nsyms && seen < 64; i++) {
		static const unsigned char endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
		static const unsigned char prologue[] = { 0x55, 0x48, 0x89, 0xe5 };
		unsigned char b[8];
		const unsigned char *p = b;
		uint64_t off;

		if (img->syms[i].size < 16 ||
		    elf_img_vaddr_to_off(img, img->syms[i].addr, &off) ||
		    pread(fd, b, sizeof(b), off) != sizeof(b))
			continue;
		seen++;
		if (!memcmp(p, endbr, 4))
			p += 4;
		if (!memcmp(p, prologue, 4))
			with++;
	}
	return seen && with * 2 > seen;
}

int elf_img_open(const char *path, struct elf_img **out)
{
	struct raw_sym *raw = NULL;
	size_t nraw = 0, cap = 0, nph, i;
	struct elf_img *img;
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	int fd, err = 0;

	elf_version(EV_CURRENT);
	fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (fd < 0)
		return fd;
	img = calloc(1, sizeof(*img));
	if (!img) {
		close(fd);
		return -ENOMEM;
	}
	img->path = strdup(path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		err = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < nph && img->nsegs < ELF_IMG_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		img->segs[img->nsegs++] = (struct elf_seg){
			ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz,
			!!(ph.p_flags & PF_X) };
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			img->has_symtab = true;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			err = collect(elf, scn, &sh, &raw, &nraw, &cap);
			if (err)
				goto out;
		}
	}
	err = finish_syms(img, raw, nraw);
	if (err)
		goto out;
	read_build_id(elf, img->build_id);
	img->frame_pointers = uses_frame_pointers(fd, img);
out:
	free(raw);
	if (elf)
		elf_end(elf);
	close(fd);
	if (err) {
		elf_img_free(img);
		return err;
	}
	*out = img;
	return 0;
}

int elf_build_id(int fd, char out[41])
{
	Elf *elf;

	out[0] = '\0';
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -ENOEXEC;
	}
	read_build_id(elf, out);
	elf_end(elf);
	return 0;
}

void elf_img_free(struct elf_img *img)
{
	if (!img)
		return;
	free(img->path);
	free(img->syms);
	free(img->all);
	free(img->strs);
	free(img);
}

const struct elf_sym *elf_img_sym_at(const struct elf_img *img, uint64_t vaddr)
{
	size_t lo = count_le(img->syms, img->nsyms, sizeof(*img->syms),
			     offsetof(struct elf_sym, addr), vaddr);
	const struct elf_sym *s;

	if (!lo)
		return NULL;
	s = &img->syms[lo - 1];
	/* a sized symbol must contain the address; an unsized one may not
	 * reach past the next symbol, which the search already ensures */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	return s;
}

int elf_img_sym_addr(const struct elf_img *img, const char *name,
		     uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < img->nall; i++) {
		if (!strcmp(img->all[i].name, name)) {
			*vaddr = img->all[i].addr;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_img_vaddr_to_off(const struct elf_img *img, uint64_t vaddr,
			 uint64_t *off)
{
	size_t i;

	for (i = 0; i < img->nsegs; i++) {
		const struct elf_seg *s = &img->segs[i];

		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*off = vaddr - s->vaddr + s->off;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_img_off_to_vaddr(const struct elf_img *img, uint64_t off,
			 uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < img->nsegs; i++) {
		const struct elf_seg *s = &img->segs[i];

		/* mappings start at the page holding the segment's start */
		if (off >= (s->off & ~0xfffULL) && off < s->off + s->filesz) {
			*vaddr = off - s->off + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}
