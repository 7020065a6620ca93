// SPDX-License-Identifier: GPL-2.0
/*
 * Many live allocations in many stacks, for the loader's background cost
 * (tests/bgcost.sh) and its exactness at scale (tests/cases/scale.sh).
 *
 *   manystacks ALLOCS STACKS [churn]
 *
 * After "go" it makes ALLOCS live 16-byte allocations spread evenly over
 * STACKS distinct call stacks (a path of 16 levels, each entered through
 * one of two call sites), prints "done", then leaks 16 bytes a second from
 * one more stack until told to stop. With "churn", every second it also
 * frees and remakes one allocation in each of the STACKS stacks, so that
 * every stack changes (and its count stays).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handshake.h"

#define NOINLINE __attribute__((noinline))
#define LEVELS 16

static void *volatile sink;

static NOINLINE void *level(int d, unsigned path, int site)
{
	void *p;

	if (d == LEVELS)
		p = malloc(16);
	else if (path & 1)
		p = level(d + 1, path >> 1, 1);
	else
		p = level(d + 1, path >> 1, 2);
	sink = (void *)(long)site;	/* no tail call: each site a frame */
	return p;
}

static NOINLINE void trickle(void)
{
	sink = malloc(16);
}

int main(int argc, char **argv)
{
	long allocs = argc > 1 ? atol(argv[1]) : 1000000;
	long stacks = argc > 2 ? atol(argv[2]) : 50000;
	int churn = argc > 3 && !strcmp(argv[3], "churn");
	struct timespec sec = { 1, 0 };
	void **keep;
	sigset_t set;

	/* kept on purpose: the allocations must stay live */
	keep = calloc(allocs, sizeof(*keep));
	if (!keep || stacks < 1 || stacks > 1 << LEVELS || allocs < stacks)
		return 2;
	if (!handshake_ready())
		return 0;
	for (long i = 0; i < allocs; i++)
		keep[i] = level(0, i % stacks, 0);
	printf("done\n");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		struct timespec left = sec;

		trickle();
		for (long s = 0; churn && s < stacks; s++) {
			free(keep[s]);
			keep[s] = level(0, s, 0);
		}
		if (sigtimedwait(&set, NULL, &left) >= 0)
			break;
	}
	return 0;
}
