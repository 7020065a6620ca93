// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the ELF symbol reader (user/elfimg.c) on arbitrary
 * bytes, as a module or debug file the traced program planted.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	struct elf_img *img;
	uint64_t v;
	char id[41];
	size_t i;

	/* elf_img_open() takes a path: a memory file, rewritten each run */
	if (fd < 0) {
		fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
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
