// SPDX-License-Identifier: GPL-2.0
/*
 * A shared library built without frame pointers, for the unwinding tests:
 * stacks through it can only be walked with its own CFI rows.
 */
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
/* an empty asm after a call keeps it out of tail position */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

void *volatile lib_sink;

NOINLINE void *lib_leaf(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

/* a bigger frame: a different CFA offset than its neighbours */
NOINLINE void *lib_mid(size_t n, int salt)
{
	volatile char pad[200];
	void *p;

	pad[salt & 127] = (char)salt;
	p = lib_leaf(n);
	KEEP_FRAME();
	lib_sink = (void *)(unsigned long)pad[salt & 127];
	return p;
}

NOINLINE void lib_outer(size_t n, int times)
{
	for (int i = 0; i < times; i++) {
		lib_sink = lib_mid(n, i);
		KEEP_FRAME();
	}
}
