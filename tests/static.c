// SPDX-License-Identifier: GPL-2.0
/* A statically linked program: no libc mapping for heaptrail to probe. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("ready %d\n", getpid());
	fflush(stdout);
	pause();
	return 0;
}
