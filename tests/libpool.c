// SPDX-License-Identifier: GPL-2.0
/*
 * An in-house pool allocator, as services have them: blocks carved from
 * 64 KiB chunks it takes from malloc, a size header before each block,
 * freed blocks kept on a list for reuse. heaptrail knows it only through
 * --alloc-syms 'my_alloc=malloc,my_free=free,my_realloc=realloc'; the
 * chunk's malloc happens inside my_alloc and must not count again.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536

struct hdr {
	size_t size;
	struct hdr *next;	/* on the free list */
};

static char *chunk, *end;
static struct hdr *freelist;

__attribute__((noinline)) void *my_alloc(size_t size)
{
	struct hdr **pp, *h;

	size = (size + 15) & ~(size_t)15;
	for (pp = &freelist; *pp; pp = &(*pp)->next)
		if ((*pp)->size >= size) {
			h = *pp;
			*pp = h->next;
			return h + 1;
		}
	if (!chunk || end - chunk < (long)(sizeof(*h) + size)) {
		chunk = malloc(CHUNK > size + sizeof(*h) ? CHUNK :
							   size + sizeof(*h));
		if (!chunk)
			return NULL;
		end = chunk + (CHUNK > size + sizeof(*h) ? CHUNK :
							  size + sizeof(*h));
	}
	h = (struct hdr *)chunk;
	h->size = size;
	chunk += sizeof(*h) + size;
	return h + 1;
}

__attribute__((noinline)) void my_free(void *p)
{
	struct hdr *h;

	if (!p)
		return;
	h = (struct hdr *)p - 1;
	h->next = freelist;
	freelist = h;
}

__attribute__((noinline)) void *my_realloc(void *p, size_t size)
{
	void *n = my_alloc(size);

	if (n && p) {
		size_t old = ((struct hdr *)p - 1)->size;

		memcpy(n, p, old < size ? old : size);
		my_free(p);
	}
	return n;
}
