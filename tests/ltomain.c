// SPDX-License-Identifier: GPL-2.0
/*
 * LTO symbolization target: built with gcc -flto -O2 -g from this file and
 * ltolib.c. The allocation is made in ltolib.c's lto_new_buf(), inlined
 * into lto_new_record(), inlined into this file's store() at link time:
 * the inline chain crosses translation units, so its DWARF refers from
 * one compile unit to another. After SIGUSR1 it keeps 10 records of
 * 80 + LTO_HEADER bytes: 960 bytes in 10 allocations.
 */
#include <stdlib.h>

#include "handshake.h"
#include "lto.h"

#define NRECORDS 10

static char *volatile sink[NRECORDS];

static __attribute__((noinline)) void store(int i)
{
	sink[i] = lto_new_record(80);	/* @lto-store */
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

int main(void)
{
	int i;

	if (!handshake_ready())
		return 0;
	for (i = 0; i < NRECORDS; i++)
		store(i);
	handshake_done();
	return 0;
}
