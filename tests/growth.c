// SPDX-License-Identifier: GPL-2.0
/*
 * A service with a big, stable cache (200 x 4 KiB, replaced in FIFO order
 * every 10 ms), busy churn (allocated and freed at once), and a slow leak
 * underneath: 1 KiB every 100 ms from leak_record(). Runs until SIGTERM.
 * With "burst", no slow leak: see burst_encode().
 */
#include <signal.h>
#include <stdbool.h>
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

/*
 * "burst" mode: on SIGUSR1, 20 ticks of 20 x 48 bytes each (400 blocks,
 * 19200 bytes) that are never freed, then quiet: growth that stops.
 */
static volatile sig_atomic_t burst_go;

static void on_usr1(int sig)
{
	burst_go = 1;
}

__attribute__((noinline)) void burst_encode(void)
{
	static void *kept[400];
	static int n;

	for (int i = 0; i < 20 && n < 400; i++) {
		kept[n] = malloc(48);
		memset(kept[n++], 1, 48);
	}
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	bool burst = argc > 1 && !strcmp(argv[1], "burst");
	unsigned long n, bursts = 0;

	for (int i = 0; i < CACHE_SLOTS; i++)
		cache_put(i);
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (n = 0;; n++) {
		cache_put(n % CACHE_SLOTS);
		churn();
		if (!burst && n % 10 == 0)
			leak_record();
		if (burst_go && bursts < 20 && n % 10 == 0) {
			burst_encode();
			bursts++;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}
