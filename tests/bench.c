// SPDX-License-Identifier: GPL-2.0
/*
 * Allocator-heavy workload for tests/bench.sh: N rounds of malloc(64..4096)
 * and free, each 9 frames below main. Prints the loop's wall-clock time.
 *
 *   bench N [--now|--wait] [EXTRA]
 *
 * EXTRA more frames (recursion) below main make the deep-stack variant.
 * Without --now it prints "ready" and starts on SIGUSR1, so that a tracer
 * can attach first, and after the loop waits for SIGTERM, so that the
 * tracer's counters can be read.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static void *volatile sink;

static NOINLINE void leaf(size_t n)
{
	void *p = malloc(n);

	sink = p;
	free(p);
	KEEP_FRAME();
}

#define LEVEL(name, next)				\
	static NOINLINE void name(size_t n)		\
	{						\
		next(n);				\
		KEEP_FRAME();				\
	}
LEVEL(f8, leaf)
LEVEL(f7, f8)
LEVEL(f6, f7)
LEVEL(f5, f6)
LEVEL(f4, f5)
LEVEL(f3, f4)
LEVEL(f2, f3)
LEVEL(f1, f2)

static NOINLINE void deeper(int d, size_t n)
{
	if (d > 0)
		deeper(d - 1, n);
	else
		f1(n);
	KEEP_FRAME();
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int wait = argc < 3 || strcmp(argv[2], "--now");
	int extra = argc > 3 ? atoi(argv[3]) : 0;
	unsigned long long t0;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	if (wait) {
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		fflush(stdout);
		if (sigwait(&set, &sig) || sig != SIGUSR1)
			return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		deeper(extra, 64 + (i * 97) % 4033);
	printf("ns %llu\n", now_ns() - t0);
	fflush(stdout);
	if (wait)
		sigwait(&set, &sig);
	return 0;
}
