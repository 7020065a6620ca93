/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TRACEFS_H
#define HT_TRACEFS_H

/*
 * Make tracefs reachable for libbpf's tracepoint attach (it reads event
 * IDs from /sys/kernel/tracing or /sys/kernel/debug/tracing). A fresh
 * machine often boots without it mounted: then heaptrail moves into a
 * mount namespace of its own and mounts tracefs there, so the host's
 * mount table is left as it was. 0, or a negative errno; *what names
 * the step that failed.
 */
int tracefs_ensure(const char **what);

#endif
