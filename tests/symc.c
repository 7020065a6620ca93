// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolization target in C, built -O2 -g with frame pointers and then
 * stripped or split in several ways (see the Makefile). The allocation
 * happens in a helper that is always inlined, so the report must show the
 * helper as an inlined frame with its own line. Lines are found by the
 * tests through the @markers, never hardcoded.
 *
 *   symc MODE      MODE: records (12 x 96 bytes) or jit (3 x 40 bytes)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "handshake.h"

#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

static void *volatile sink[64];

/* each Makefile variant is a build of its own, with its own build ID */
#ifndef VARIANT
#define VARIANT 0
#endif
__attribute__((used)) static const int variant = VARIANT;
#ifdef STALE
int stale_build = 1;	/* not the build the stripped binary came from */
#endif

ALWAYS_INLINE char *make_record(size_t n)
{
	char *p = malloc(n);	/* @record-alloc */

	if (p)
		memset(p, 'r', n);
	return p;
}

NOINLINE void store_record(int i)
{
	sink[i % 64] = make_record(96);	/* @record-call */
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

/*
 * A JIT: code written at run time into an anonymous mapping and named in
 * /tmp/perf-PID.map, as JITs do for perf. It sets up a frame and calls
 * malloc(40):
 *   push %rbp; mov %rsp,%rbp; mov $40,%edi; movabs $malloc,%rax;
 *   call *%rax; pop %rbp; ret
 */
static void *(*jit_fn)(void);

static int make_jit(void)
{
	static const unsigned char head[] = { 0x55, 0x48, 0x89, 0xe5, 0xbf,
					      40, 0, 0, 0, 0x48, 0xb8 };
	static const unsigned char tail[] = { 0xff, 0xd0, 0x5d, 0xc3 };
	void *(*m)(size_t) = malloc;
	unsigned char *code;
	char fn[64];
	FILE *f;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return -1;
	memcpy(code, head, sizeof(head));
	memcpy(code + sizeof(head), &m, sizeof(m));
	memcpy(code + sizeof(head) + sizeof(m), tail, sizeof(tail));
	jit_fn = (void *(*)(void))code;
	snprintf(fn, sizeof(fn), "/tmp/perf-%d.map", getpid());
	f = fopen(fn, "w");
	if (!f)
		return -1;
	fprintf(f, "%lx %zx jit_alloc_forty\n", (unsigned long)code,
		sizeof(head) + sizeof(m) + sizeof(tail));
	return fclose(f);
}

NOINLINE void call_jit(void)
{
	sink[0] = jit_fn();
	__asm__ volatile("" ::: "memory");
}

static void run(const char *mode)
{
	int i;

	if (!strcmp(mode, "records")) {
		for (i = 0; i < 12; i++)
			store_record(i);
	} else if (!strcmp(mode, "jit")) {
		static volatile int calls = 3;	/* one call site, not unrolled */

		for (i = 0; i < calls; i++)
			call_jit();
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "records";

	if (!strcmp(mode, "jit") && make_jit())
		return 1;
	if (handshake_ready()) {
		run(mode);
		handshake_done();
	}
	if (!strcmp(mode, "jit")) {
		char fn[64];

		snprintf(fn, sizeof(fn), "/tmp/perf-%d.map", getpid());
		unlink(fn);
	}
	return 0;
}
