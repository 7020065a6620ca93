/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PURGE_H
#define HT_PURGE_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

/*
 * After the target's exec: drop from the BPF maps what its old program
 * held, the live allocations and mappings made before ts_ns and the
 * aggregates of images other than image. What the aggregates held is
 * added to *dropped. 0 or a negative errno.
 */
int purge_image(int allocs_fd, int mappings_fd, int aggs_fd, uint32_t image,
		uint64_t ts_ns, struct prof_totals *dropped);

/*
 * --follow-forks: processes exited or ran exec; drop all their slots
 * held (set: by slot, HT_MAX_PROCS of them), adding to dropped[slot]
 * what their aggregates held. One pass over each map for all of them.
 */
int purge_slots(int allocs_fd, int mappings_fd, int aggs_fd, const bool *set,
		struct prof_totals *dropped);

#endif
