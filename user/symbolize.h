/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SYMBOLIZE_H
#define HT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfimg.h"
#include "procmaps.h"

/* A loaded module, cached by device and inode for the whole run. */
struct sym_mod {
	unsigned int maj, min;
	uint64_t inode;
	char *name;		/* basename of the mapped path */
	struct elf_img *img;	/* NULL if the file could not be read */
	int err;
};

struct symbolizer {
	pid_t pid;
	struct pmaps maps;	/* last snapshot of the target's maps */
	struct sym_mod *mods;
	size_t nmods, cap;
};

struct frame {
	const char *func;	/* NULL when no symbol covers the address */
	uint64_t off;		/* from func, or from module start */
	const char *module;	/* NULL when no mapping covers it */
	const struct sym_mod *mod;
};

void symbolizer_init(struct symbolizer *s, pid_t pid);
/*
 * Re-read the target's maps and load every new executable module now,
 * while its files can still be reached; returns -ESRCH once it is gone
 * (the previous snapshot is kept).
 */
int symbolizer_refresh(struct symbolizer *s);
/* ret: pc is a return address, so look up the call instruction. */
void symbolizer_resolve(struct symbolizer *s, uint64_t pc, bool ret,
			struct frame *f);
/* The module mapped at pmap p (loading it if new), or NULL. */
const struct sym_mod *symbolizer_module(struct symbolizer *s,
					const struct pmap *p);
void symbolizer_free(struct symbolizer *s);

#endif
