// SPDX-License-Identifier: GPL-2.0
/*
 * A long-running target that never stops making new call stacks, for the
 * soak test (tests/cases/soak.sh) and the hand-run 10-minute soak.
 *
 *   soak THREADS RATE KEEP_EVERY [CYCLE]
 *
 * THREADS threads together make RATE allocations a second, each from a
 * call stack of its own: a counter picks one of four functions at each of
 * 11 levels (4^11 distinct paths). Most are churn (48 bytes, freed a few
 * allocations later); every KEEP_EVERY-th is kept for good, through
 * keep_block(), 64 to 112 bytes. With CYCLE, paths repeat every CYCLE
 * allocations: a stack comes back after it held nothing for a while, as
 * heaptrail may be reclaiming it. After "go" main() first keeps 10 x 1000
 * bytes through hold_fixed(). SIGUSR2 stops the threads, which free their
 * churn, and main prints "quiet KEPT BYTES": the allocations kept through
 * keep_block() and their bytes. Then SIGTERM/SIGINT ends it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handshake.h"

#define NOINLINE __attribute__((noinline))
#define LEVELS 11
#define RING 4
#define HOLD_N 10
#define HOLD_SIZE 1000

struct worker {
	pthread_t tid;
	void *ring[RING];	/* churn, freed a few allocations later */
	void **kept;		/* made before attach: no allocation of ours */
	size_t nkept, cap;
	size_t kept_bytes;
	long per_tick;		/* allocations every 10 ms */
};

static void *volatile sink;
static atomic_ulong counter;
static atomic_int go, stop, parked;
static unsigned long keep_every, cycle;
static void *held[HOLD_N];

static NOINLINE void *keep_block(unsigned long c, struct worker *w)
{
	size_t size = 64 + (c % 7) * 8;
	void *p = malloc(size);

	memset(p, 1, size);
	w->kept_bytes += size;
	return p;
}

static NOINLINE void churn_block(unsigned long c, struct worker *w)
{
	void **slot = &w->ring[c % RING];

	free(*slot);
	*slot = malloc(48);
	memset(*slot, 2, 48);
}

static NOINLINE void *leaf(unsigned long c, struct worker *w)
{
	void *p = NULL;

	if (c % keep_every == 0)
		p = keep_block(c, w);
	else
		churn_block(c, w);
	sink = p;	/* no tail call: every frame stays */
	return p;
}

static void *step(unsigned long c, int d, unsigned long path, struct worker *w);

/* Four functions per level: which one is called is the counter's digit. */
#define STEP(n)                                                             \
	static NOINLINE void *step##n(unsigned long c, int d,               \
				      unsigned long path, struct worker *w) \
	{                                                                   \
		void *p = step(c, d + 1, path >> 2, w);                     \
		sink = (void *)(long)(n);                                   \
		return p;                                                   \
	}
STEP(0)
STEP(1)
STEP(2)
STEP(3)

static void *(*const steps[4])(unsigned long, int, unsigned long,
			       struct worker *) = { step0, step1, step2, step3 };

static NOINLINE void *step(unsigned long c, int d, unsigned long path,
			   struct worker *w)
{
	void *p;

	if (d == LEVELS)
		return leaf(c, w);
	p = steps[path & 3](c, d, path, w);
	sink = p;
	return p;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct timespec next, pause = { 0, 1000000 };

	while (!go)
		nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		for (long i = 0; i < w->per_tick; i++) {
			unsigned long c = atomic_fetch_add(&counter, 1);
			void *p = step(c, 0, cycle ? c % cycle : c, w);

			if (p && w->nkept < w->cap)
				w->kept[w->nkept++] = p;
		}
		next.tv_nsec += 10000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	for (int i = 0; i < RING; i++) {
		free(w->ring[i]);
		w->ring[i] = NULL;
	}
	atomic_fetch_add(&parked, 1);
	return NULL;
}

static NOINLINE void hold_fixed(void)
{
	for (int i = 0; i < HOLD_N; i++) {
		held[i] = malloc(HOLD_SIZE);
		memset(held[i], 3, HOLD_SIZE);
	}
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	long rate = argc > 2 ? atol(argv[2]) : 2000;
	struct timespec pause = { 0, 1000000 };
	size_t kept = 0, bytes = 0;
	struct worker *w;
	sigset_t set;
	int sig;

	keep_every = argc > 3 ? strtoul(argv[3], NULL, 10) : 400;
	cycle = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
	if (nthreads < 1 || rate < 100 || !keep_every)
		return 2;
	w = calloc(nthreads, sizeof(*w));
	if (!w)
		return 2;
	/* everything a thread keeps its pointers in, and the threads'
	 * arenas, exist before heaptrail attaches */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < nthreads; i++) {
		w[i].per_tick = rate / 100 / nthreads;
		w[i].cap = (size_t)rate * 86400 / keep_every / nthreads + 16;
		w[i].kept = calloc(w[i].cap, sizeof(void *));
		for (int j = 0; j < RING; j++)
			w[i].ring[j] = malloc(48);
		if (!w[i].kept || pthread_create(&w[i].tid, NULL, work, &w[i]))
			return 2;
	}
	if (!handshake_ready())
		return 0;
	hold_fixed();
	go = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) || sig != SIGUSR2)
		return 0;
	stop = 1;
	while (parked < nthreads)
		nanosleep(&pause, NULL);
	for (int i = 0; i < nthreads; i++) {
		kept += w[i].nkept;
		bytes += w[i].kept_bytes;
	}
	printf("quiet %zu %zu\n", kept, bytes);
	fflush(stdout);
	sigdelset(&set, SIGUSR2);
	sigwait(&set, &sig);
	return 0;
}
