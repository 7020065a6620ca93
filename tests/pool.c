// SPDX-License-Identifier: GPL-2.0
/*
 * A program on an in-house pool allocator (libpool.c: linked in, or as
 * bin/libpool.so for pool-so). At SIGUSR1: 200 my_alloc/my_free pairs,
 * then leak_pool() keeps 25 x my_alloc(40) = 1000 bytes and
 * leak_grown() one my_realloc'd block of 300 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

void *my_alloc(size_t size);
void my_free(void *p);
void *my_realloc(void *p, size_t size);

static void *volatile sink;
static void *keep[32];

__attribute__((noinline)) void churn_pool(void)
{
	for (int i = 0; i < 200; i++) {
		void *p = my_alloc(100 + i % 50);

		sink = p;
		my_free(p);
	}
}

__attribute__((noinline)) void leak_pool(void)
{
	for (int i = 0; i < 25; i++)
		keep[i] = my_alloc(40);
	sink = keep;
}

__attribute__((noinline)) void leak_grown(void)
{
	char *p = my_alloc(10);

	memset(p, 1, 10);
	keep[30] = my_realloc(p, 300);
}

int main(void)
{
	if (!handshake_ready())
		return 0;
	churn_pool();
	leak_pool();
	leak_grown();
	handshake_done();
	return 0;
}
