/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_UTIL_H
#define HT_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "s" for a count that takes the plural: "1 allocation", "2 allocations" */
static inline const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * Make room for one more element in a growable array: *v holds *n used
 * elements of elem bytes in *cap slots. 0 or -ENOMEM (*v left valid).
 */
static inline int grow(void *v, size_t n, size_t *cap, size_t elem)
{
	void **pv = v, *nv;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	nv = realloc(*pv, c * elem);
	if (!nv)
		return -ENOMEM;
	*pv = nv;
	*cap = c;
	return 0;
}

/*
 * In an array of n elements of stride bytes sorted by the uint64_t at
 * offset off, how many have that key <= key: the element at index
 * result - 1 is the last one starting at or before key.
 */
static inline size_t count_le(const void *base, size_t n, size_t stride,
			      size_t off, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k = *(const uint64_t *)((const char *)base +
						 mid * stride + off);

		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * qsort() of an empty array: C declares qsort's base nonnull even for
 * zero elements, and empty arrays here are NULL (UBSan reports it).
 */
static inline void sort_array(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
