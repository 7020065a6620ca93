/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_UNWIND_H
#define HT_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heaptrail.h"

struct pmaps;
struct symbolizer;

enum unwind_mode {
	UNWIND_AUTO,	/* CFI for libc and modules without frame pointers */
	UNWIND_FP,	/* frame pointers, CFI only for libc */
	UNWIND_DWARF,	/* CFI for every module */
};

/* The rows of one ELF file, wherever it is mapped. */
struct unwind_file {
	unsigned int maj, min;
	uint64_t inode;
	uint32_t row_off, row_cnt;
};

/* Unwind rows of the modules the BPF stack walker follows by CFI. */
struct unwind_table {
	struct ht_urow *rows;
	size_t nrows, cap;
	struct unwind_file files[HT_MAX_MODULES];
	size_t nfiles;
	struct ht_module mods[HT_MAX_MODULES];	/* where files are mapped */
	size_t nmods;
	struct ht_module loaded[HT_MAX_MODULES];	/* as the BPF map has it */
	size_t nloaded;
	size_t rows_loaded;	/* rows already written to the BPF array */
	struct unwind_file skipped[HT_MAX_MODULES];	/* no room for them */
	size_t nskipped;
};

/* Flatten the .eh_frame of the ELF file at path (once per inode). */
int unwind_add_file(struct unwind_table *t, const char *path, unsigned int maj,
		    unsigned int min, uint64_t inode);
/* Recompute mods[] from the target's current mappings. */
void unwind_place(struct unwind_table *t, const struct pmaps *maps,
		  struct symbolizer *s);
/* Add rows for the target's mapped modules that the mode unwinds by CFI. */
void unwind_scan(struct unwind_table *t, struct symbolizer *s, pid_t pid,
		 enum unwind_mode mode);
/*
 * Write rows not yet loaded (up to rows_cap) and the placement to BPF.
 * Returns how many files had to be left out for want of room.
 */
int unwind_sync(struct unwind_table *t, struct symbolizer *s, int rows_fd,
		 int mods_fd, size_t rows_cap, bool *moved);
void unwind_free(struct unwind_table *t);

/*
 * Code mapped since the loader last looked (BPF's pending map), read
 * before the target's mappings are: once those are placed, the walker
 * may go through what was pending then.
 */
struct unwind_pending {
	struct {
		__u64 start, seq;
	} v[HT_MAX_PENDING];
	size_t n;
	__u64 full;	/* BPF's count of mappings it had no room for */
};

void unwind_pending_read(int pending_fd, const __u64 *full,
			 struct unwind_pending *p);
/*
 * Drop what p read from the pending map (entries remapped since stay).
 * Returns whether anything was dropped: cached walks are stale then.
 */
bool unwind_pending_drop(int pending_fd, __u64 *full,
			 const struct unwind_pending *p);

#endif
