/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_GOLANG_H
#define HT_GOLANG_H

/*
 * Is the executable at path built by Go? 1 if so, 0 if not, negative
 * errno if it cannot be read. Go's runtime allocates without malloc and
 * moves goroutine stacks under return probes, which can crash it.
 */
int go_binary(const char *path);
/* The file execvp() would run for cmd, in out; negative errno if none. */
int command_path(const char *cmd, char *out, size_t len);

#endif
