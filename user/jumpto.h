/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_JUMPTO_H
#define HT_JUMPTO_H

#include <stddef.h>
#include <stdint.h>

#include "elfimg.h"

/*
 * If the function at vaddr of img (the file at path) is only a jump to
 * another function (a tail call: jmp rel, or jmp through a PLT stub or
 * the GOT), that function's name in name: 0; else negative errno.
 */
int jump_target(const char *path, const struct elf_img *img, uint64_t vaddr,
		char *name, size_t len);

#endif
