/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DWARFSRC_H
#define HT_DWARFSRC_H

#include <stdbool.h>
#include <stdint.h>

/* One source-level frame at an address: an inlined call or the function. */
struct src_frame {
	const char *func;	/* linkage name if any, else DW_AT_name; NULL */
	const char *file;	/* as DWARF gives it; NULL if no line info */
	int line;
	uint64_t entry;		/* function's low pc (outermost frame only) */
	bool inlined;
};

struct dbg_info;

/* Read the DWARF of an ELF file open on fd (taken over, closed on free). */
int dbg_open(int fd, struct dbg_info **out);
/*
 * The frames at vaddr (an ELF virtual address of the debug file), inlined
 * callees first and the enclosing function last: how many were written,
 * 0 if no DWARF covers vaddr. Strings live as long as the dbg_info.
 */
int dbg_frames(struct dbg_info *d, uint64_t vaddr, struct src_frame *out,
	       int max);
void dbg_free(struct dbg_info *d);

#endif
