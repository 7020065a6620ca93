/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_CGROUP_H
#define HT_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A cgroup v2 directory: its id (the directory's inode number, as
 * bpf_get_current_cgroup_id() gives it) and its depth below the
 * hierarchy's root (for bpf_get_current_ancestor_cgroup_id()).
 * 0, -ENOTDIR, -EMEDIUMTYPE (not cgroup v2) or another negative errno.
 */
int cgroup_resolve(const char *path, uint64_t *id, uint32_t *level);
/* The processes in it and below it now, in *v (to free); path NULL:
 * every process of the machine (the root's, -a). */
int cgroup_members(const char *path, pid_t **v, size_t *n);

#endif
