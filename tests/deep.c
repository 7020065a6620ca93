// SPDX-License-Identifier: GPL-2.0
/*
 * Unwinding target, built -O2 -fomit-frame-pointer: its stacks (and those
 * through libdeep.so, built the same way) can only be walked with CFI.
 *
 *   deep [--now]
 *
 * Leaks 3 x DEEP_SIZE bytes from main -> deep_a -> deep_b -> deep_c ->
 * malloc and 2 x LIB_SIZE bytes from main -> lib_outer -> lib_mid ->
 * lib_leaf -> malloc (in libdeep.so). Without --now it prints "ready",
 * works on SIGUSR1, prints "done" and waits for SIGTERM; with --now it
 * works at once and exits (for gdb).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")
#define DEEP_SIZE 12345
#define LIB_SIZE 23456

void lib_outer(size_t n, int times);

static void *volatile sink;
static volatile unsigned long mixer = 7;

NOINLINE void *deep_c(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

/* keeps several values live across the call: callee-saved registers,
 * rbp among them, are pushed and reused, so no frame pointer chain */
NOINLINE void *deep_b(size_t n, unsigned long a, unsigned long b)
{
	unsigned long x = a * mixer, y = b ^ mixer, z = a + b, w = x ^ y;
	unsigned long v = z * 3 + w, u = x - z;
	void *p = deep_c(n);

	mixer = x + y + z + w + v + u;
	return p;
}

/* a large frame: rsp-relative CFA with a big offset */
NOINLINE void deep_a(size_t n, int times)
{
	volatile char buf[1000];

	for (int i = 0; i < times; i++) {
		buf[i % sizeof(buf)] = (char)i;
		sink = deep_b(n, i, buf[i]);
		KEEP_FRAME();
	}
}

/* Without --now: "ready", wait for SIGUSR1 (want) or "done", wait for
 * SIGTERM. A function of its own, so that main() is straight-line code
 * and the leaks come from the same call sites either way: gdb's backtrace
 * must match heaptrail's to the byte. */
static NOINLINE void step(int now, int want)
{
	sigset_t set;
	int sig;

	if (now)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf(want == SIGUSR1 ? "ready\n" : "done\n");
	fflush(stdout);
	do {
		if (sigwait(&set, &sig))
			exit(1);
		if (sig == SIGTERM)
			exit(0);
	} while (sig != want);
}

int main(int argc, char **argv)
{
	int now = argc > 1 && !strcmp(argv[1], "--now");

	step(now, SIGUSR1);
	deep_a(DEEP_SIZE, 3);
	lib_outer(LIB_SIZE, 2);
	step(now, SIGTERM);
	return 0;
}
