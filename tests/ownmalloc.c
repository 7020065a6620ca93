// SPDX-License-Identifier: GPL-2.0
/*
 * A program with its own malloc compiled in and exported (-rdynamic): it
 * interposes libc's for everyone, libc's stdio too. A bump allocator over
 * a static arena, each block after a 16-byte size header; free keeps
 * nothing. At SIGUSR1: 100 malloc/free pairs, then own_leak() keeps
 * 10 x malloc(333) = 3330 bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "handshake.h"

static char arena[64 << 20] __attribute__((aligned(64)));
static size_t used;

static void *bump(size_t size, size_t align)
{
	size_t at = (used + 16 + align - 1) & ~(align - 1);

	if (at + size > sizeof(arena))
		return NULL;
	used = at + size;
	*(size_t *)(arena + at - 16) = size;
	return arena + at;
}

void *malloc(size_t size)
{
	return bump(size, 16);
}

void free(void *p)
{
	(void)p;
}

void *calloc(size_t n, size_t size)
{
	void *p = n && size > (size_t)-1 / n ? NULL : bump(n * size, 16);

	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *p, size_t size)
{
	void *n = bump(size, 16);

	if (n && p) {
		size_t old = *(size_t *)((char *)p - 16);

		memcpy(n, p, old < size ? old : size);
	}
	return n;
}

void *memalign(size_t align, size_t size)
{
	return bump(size, align < 16 ? 16 : align);
}

void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	*out = memalign(align, size);
	return *out ? 0 : ENOMEM;
}

static void *volatile sink;
static void *keep[10];

__attribute__((noinline)) void own_churn(void)
{
	for (int i = 0; i < 100; i++) {
		sink = malloc(64);
		free(sink);
	}
}

__attribute__((noinline)) void own_leak(void)
{
	for (int i = 0; i < 10; i++)
		keep[i] = malloc(333);
	sink = keep;
}

int main(void)
{
	if (!handshake_ready())
		return 0;
	own_churn();
	own_leak();
	handshake_done();
	return 0;
}
