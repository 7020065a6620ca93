/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROGKIND_H
#define HT_PROGKIND_H

/* What kind of executable a target runs: refused kinds are told early. */

/*
 * Is the executable at path built by Go? 1 if so, 0 if not, negative
 * errno if it cannot be read. Go's runtime allocates without malloc and
 * moves goroutine stacks under return probes, which can crash it.
 */
int go_binary(const char *path);
/*
 * Is it statically linked (no PT_INTERP: no dynamic loader, no shared
 * libc to probe)? 1, 0, or negative errno.
 */
int static_binary(const char *path);
/* The file execvp() would run for cmd, in out; negative errno if none. */
int command_path(const char *cmd, char *out, size_t len);

#endif
