/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DIFF_H
#define HT_DIFF_H

#include <stddef.h>
#include <stdint.h>

/* Stacks of a saved profile, "root;...;leaf" and their outstanding bytes. */
struct diff_stack {
	char *name;
	int64_t bytes;
};

#define DIFF_WHY_LEN 160

struct diff_stacks {
	struct diff_stack *v;
	size_t n, cap;
	char why[DIFF_WHY_LEN];	/* why the last parse returned -EBADMSG */
};

/*
 * Append the "root;...;leaf BYTES" lines of buf to s; blank lines and
 * '#' comments are skipped. -EBADMSG on a malformed line, s->why says which.
 */
int diff_parse_folded(const char *buf, size_t len, struct diff_stacks *s);
/* Sort by name and sum the bytes of identical stacks. */
int diff_merge(struct diff_stacks *s);
void diff_stacks_free(struct diff_stacks *s);

/* `heaptrail diff [-n N] [--grown-only] OLD NEW`; argv[0] is "diff". */
int diff_main(int argc, char **argv);

#endif
