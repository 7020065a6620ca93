/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_FORKS_H
#define HT_FORKS_H

#include <sys/types.h>

#include "attach.h"

/*
 * Put back the original bytes of the inherited breakpoints in a child of
 * the target. Returns how many it took out, or a negative errno.
 */
int unprobe_child(pid_t pid, const struct probe_site *sites, int n);

#endif
