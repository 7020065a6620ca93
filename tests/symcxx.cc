// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolization target in C++, built -O2 -g with frame pointers: a class
 * template whose member leaks through an inlined function template that
 * calls new[], and one that calls the aligned operator new. Lines are
 * found by the tests through the @markers.
 *
 *   symcxx     waits for SIGUSR1, leaks, prints "done", waits for SIGTERM
 */
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <unistd.h>

#include "handshake.h"

static void *volatile sink[64];

template <typename T>
static inline __attribute__((always_inline)) T *make_block(unsigned long n)
{
	return new T[n];	/* @new-site */
}

namespace store {
template <typename T>
class Cache {
public:
	/* 16 elements of T a call, never deleted; noipa: no ".isra" clone */
	__attribute__((noinline, noipa)) void add(int i)
	{
		sink[i % 64] = make_block<T>(16);	/* @block-call */
		asm volatile("" ::: "memory");
	}
};

struct alignas(64) Line {
	char bytes[192];
};

__attribute__((noinline, noipa)) void add_line(int i)
{
	sink[i % 64] = new Line;	/* @aligned-new */
	asm volatile("" ::: "memory");
}
} // namespace store

static void run()
{
	store::Cache<long> c;

	for (int i = 0; i < 10; i++)
		c.add(i);
	for (int i = 0; i < 4; i++)
		store::add_line(i);
}

int main()
{
	if (!handshake_ready())
		return 0;
	run();
	handshake_done();
	return 0;
}
