// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the ELF symbol reader (user/elfimg.c) on arbitrary
 * bytes, as a module or debug file the traced program planted.
 */
#define _GNU_SOURCE
#include "elfimg.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct elf_img *img;
	int fd;
	uint64_t v;
	char id[41];
	size_t i;

	fd = memfile_put("fuzz-elf", path, data, size);
	elf_build_id(fd, id);
	if (elf_img_open(path, &img))
		return 0;
	for (i = 0; i < img->nall && i < 256; i++) {
		elf_img_sym_at(img, img->all[i].addr);
		elf_img_sym_addr(img, img->all[i].name, &v);
		elf_img_vaddr_to_off(img, img->all[i].addr, &v);
		elf_img_off_to_vaddr(img, img->all[i].addr, &v);
	}
	elf_img_free(img);
	return 0;
}
