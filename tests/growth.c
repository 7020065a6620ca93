// SPDX-License-Identifier: GPL-2.0
/*
 * A service with a big, stable cache (200 x 4 KiB, replaced in FIFO order
 * every 10 ms), busy churn (allocated and freed at once), and a slow leak
 * underneath: 1 KiB every 100 ms from leak_record(). Runs until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CACHE_SLOTS 200
#define CACHE_ENTRY 4096

static void *cache[CACHE_SLOTS];
static void *volatile sink;

__attribute__((noinline)) void cache_put(int slot)
{
	free(cache[slot]);
	cache[slot] = malloc(CACHE_ENTRY);
	memset(cache[slot], slot, 64);
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(256);

		sink = p;
		free(p);
	}
}

__attribute__((noinline)) void leak_record(void)
{
	sink = malloc(1024);
}

int main(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned long n;

	for (int i = 0; i < CACHE_SLOTS; i++)
		cache_put(i);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (n = 0;; n++) {
		cache_put(n % CACHE_SLOTS);
		churn();
		if (n % 10 == 0)
			leak_record();
		nanosleep(&tick, NULL);
	}
	return 0;
}
