// SPDX-License-Identifier: GPL-2.0
/*
 * A library without frame pointers that tests/dlnofp.c dlopens and calls
 * at once: until its unwind rows are loaded, stacks through it cannot be
 * walked, and must say so rather than skip its callers.
 */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
/* an empty asm after a call keeps it out of tail position */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

NOINLINE void *nofp_first_leaf(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

/* called right after dlopen */
NOINLINE void *nofp_first(size_t n)
{
	void *p = nofp_first_leaf(n);

	KEEP_FRAME();
	return p;
}

NOINLINE void *nofp_later_leaf(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

/* called a moment after dlopen: the rows must be in place by then */
NOINLINE void *nofp_later(size_t n)
{
	void *p = nofp_later_leaf(n);

	KEEP_FRAME();
	return p;
}
