/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROFREAD_H
#define HT_PROFREAD_H

#include <stddef.h>
#include <stdint.h>

/* Stacks of a saved profile, "root;...;leaf" and their outstanding bytes. */
struct prof_stack {
	char *name;
	int64_t bytes;
};

#define PROF_WHY_LEN 160

struct prof_stacks {
	struct prof_stack *v;
	size_t n, cap;
	char why[PROF_WHY_LEN];	/* why the last parse returned -EBADMSG */
};

/*
 * Append the "root;...;leaf BYTES" lines of buf to s; blank lines and
 * '#' comments are skipped. -EBADMSG on a malformed line, s->why says which.
 */
int profread_folded(const char *buf, size_t len, struct prof_stacks *s);
/* Sort by name and sum the bytes of identical stacks. */
int profread_merge(struct prof_stacks *s);
void prof_stacks_free(struct prof_stacks *s);
/*
 * Read a saved profile, folded or gzip'd pprof (told by its first bytes),
 * merged by name. -EBADMSG when malformed: s->why says where.
 */
int profread_load(const char *path, struct prof_stacks *s);

#endif
