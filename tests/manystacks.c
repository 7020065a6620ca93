// SPDX-License-Identifier: GPL-2.0
/*
 * Many live allocations in many stacks, for the loader's background cost
 * (tests/bgcost.sh) and its exactness at scale (tests/cases/scale.sh).
 *
 *   manystacks ALLOCS STACKS
 *
 * After "go" it makes ALLOCS live 16-byte allocations spread evenly over
 * STACKS distinct call stacks (a path of 16 levels, each entered through
 * one of two call sites), prints "done", then leaks 16 bytes a second from
 * one more stack until told to stop.
 */
#include <stdlib.h>
#include <time.h>

#include "handshake.h"

#define NOINLINE __attribute__((noinline))
#define LEVELS 16

static void *volatile sink;
static void **keep;
static long nkept;

static NOINLINE void level(int d, unsigned path, int site)
{
	if (d == LEVELS) {
		keep[nkept++] = malloc(16);
		sink = keep[nkept - 1];
	} else if (path & 1) {
		level(d + 1, path >> 1, 1);
	} else {
		level(d + 1, path >> 1, 2);
	}
	sink = (void *)(long)site;	/* no tail call: each site a frame */
}

static NOINLINE void trickle(void)
{
	sink = malloc(16);
}

int main(int argc, char **argv)
{
	long allocs = argc > 1 ? atol(argv[1]) : 1000000;
	long stacks = argc > 2 ? atol(argv[2]) : 50000;
	struct timespec sec = { 1, 0 };
	sigset_t set;

	keep = calloc(allocs, sizeof(*keep));
	if (!keep || stacks < 1 || stacks > 1 << LEVELS)
		return 2;
	if (!handshake_ready())
		return 0;
	for (long i = 0; i < allocs; i++)
		level(0, i % stacks, 0);
	printf("done\n");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		struct timespec left = sec;

		trickle();
		if (sigtimedwait(&set, NULL, &left) >= 0)
			break;
	}
	return 0;
}
