// SPDX-License-Identifier: GPL-2.0
/*
 * The allocating half of the LTO symbolization target (see ltomain.c):
 * built in a translation unit of its own, so that only link-time
 * optimization can inline these into their caller, as in LTO builds of
 * real programs (Debian's python3.11). Lines are found through @markers.
 */
#include <stdlib.h>
#include <string.h>

#include "lto.h"

char *lto_new_buf(size_t n)
{
	char *p = malloc(n);	/* @lto-alloc */

	if (p)
		memset(p, 'l', n);
	return p;
}

char *lto_new_record(size_t n)
{
	char *p = lto_new_buf(n + LTO_HEADER);	/* @lto-record */

	if (p)
		p[0] = 'h';
	return p;
}
