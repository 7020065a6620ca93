/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_ELFIMG_H
#define HT_ELFIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_sym {
	uint64_t addr;		/* ELF virtual address */
	uint64_t size;
	const char *name;
};

struct elf_seg {
	uint64_t vaddr, memsz, off, filesz;
	bool exec;
};

#define ELF_IMG_MAX_SEGS 16

/* What heaptrail needs of one ELF file: functions, load segments, identity. */
struct elf_img {
	char *path;
	struct elf_sym *syms;	/* sorted by address, one name per address */
	size_t nsyms;
	struct elf_sym *all;	/* every name, aliases too */
	size_t nall;
	char *strs;		/* storage of the symbol names */
	struct elf_seg segs[ELF_IMG_MAX_SEGS];
	size_t nsegs;
	char build_id[41];	/* hex, "" when the file has none */
	bool has_symtab;	/* .symtab, not only .dynsym */
	bool frame_pointers;	/* its functions set up rbp frames */
};

int elf_img_open(const char *path, struct elf_img **out);
void elf_img_free(struct elf_img *img);
/* Only the build ID (hex, "" if none), without reading symbols. */
int elf_build_id(int fd, char out[41]);
/* The function containing vaddr, or NULL. */
const struct elf_sym *elf_img_sym_at(const struct elf_img *img, uint64_t vaddr);
int elf_img_sym_addr(const struct elf_img *img, const char *name,
		     uint64_t *vaddr);
int elf_img_vaddr_to_off(const struct elf_img *img, uint64_t vaddr,
			 uint64_t *off);
int elf_img_off_to_vaddr(const struct elf_img *img, uint64_t off,
			 uint64_t *vaddr);

#endif
