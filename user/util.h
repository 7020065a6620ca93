/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_UTIL_H
#define HT_UTIL_H

#include <errno.h>
#include <stdlib.h>

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

#endif
