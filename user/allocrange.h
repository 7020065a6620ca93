/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_ALLOCRANGE_H
#define HT_ALLOCRANGE_H

#include <stdint.h>

#include "heaptrail.h"
#include "symbolize.h"

/* Where the allocator's code lies in the target, as the BPF side sees it. */
struct alloc_ranges {
	struct ht_range v[HT_ALLOC_RANGES];
	uint32_t n;
};

/*
 * The allocator's code in the target's current mappings: a replacement
 * allocator's whole text (all of it is allocator code), else libc's free()
 * (glibc maps a thread's arena in there; malloc's mappings are seen
 * inside its probed call).
 */
void alloc_ranges_find(struct symbolizer *sym, struct alloc_ranges *out);
/* Add the function at vaddr of the module mapped as p (its symbol's size). */
void alloc_ranges_add_func(struct alloc_ranges *r, const struct pmap *p,
			   const struct pmaps *maps, const struct elf_img *img,
			   uint64_t vaddr);
/*
 * Give BPF ranges now, when they differ from cur (what it has), never
 * leaving a half-written range visible; cur becomes now.
 */
int alloc_ranges_write(int map_fd, volatile uint32_t *bpf_n,
		       struct alloc_ranges *cur, const struct alloc_ranges *now);
/*
 * At the start gate: the program mappings made before it whose syscall
 * returned into allocator code (BPF's early_ra notes) become the
 * allocator's, in the maps and the aggregates of image; the notes go.
 * The target must be stopped. Returns how many moved, or -errno.
 */
int alloc_ranges_reclaim_early(int early_fd, int mappings_fd, int aggs_fd,
			       uint32_t image, const struct alloc_ranges *r);

#endif
