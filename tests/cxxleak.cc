// SPDX-License-Identifier: GPL-2.0
/*
 * C++ allocation through operator new and delete, for heaptrail's tests:
 * on SIGUSR1 (or at once with --now), leaks exactly
 *   leak_array   1000 x new char[100]            100000 bytes
 *   leak_objects 10 x new Rec (48 bytes)            480 bytes
 *   leak_aligned 5 x new Line (alignas 64, 128)     640 bytes
 *   leak_nothrow 3 x new (nothrow) char[50]         150 bytes
 * and frees, through plain, sized and aligned delete, as many again
 * (churn); with --jemalloc (jemalloc preloaded), also
 *   leak_mallocx 7 x mallocx(200)                  1400 bytes
 *   leak_rallocx mallocx(100) grown by rallocx to   300 bytes
 * with 50 x mallocx(64) freed by sdallocx and 50 by dallocx; then prints
 * "done" and waits for SIGTERM.
 */
#include <csignal>
#include <dlfcn.h>
#include <cstdio>
#include <cstring>
#include <new>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

struct Rec {
	char b[48];
};

struct alignas(64) Line {
	char b[128];
};

static void *volatile keep[2000];
static int nkeep;

static void hold(void *p)
{
	keep[nkeep++] = p;
}

NOINLINE void leak_array()
{
	for (int i = 0; i < 1000; i++) {
		char *p = new char[100];
		memset(p, 1, 100);
		hold(p);
	}
}

NOINLINE void leak_objects()
{
	for (int i = 0; i < 10; i++)
		hold(new Rec());
}

NOINLINE void leak_aligned()
{
	for (int i = 0; i < 5; i++)
		hold(new Line());
}

NOINLINE void leak_nothrow()
{
	for (int i = 0; i < 3; i++) {
		char *p = new (std::nothrow) char[50];
		memset(p, 2, 50);
		hold(p);
	}
}

NOINLINE void churn()
{
	for (int i = 0; i < 100; i++) {
		Rec *r = new Rec();
		Line *l = new Line();
		char *a = new char[64];
		keep[1999] = r;
		keep[1998] = l;
		keep[1997] = a;
		delete r;	/* sized delete */
		delete l;	/* aligned (sized) delete */
		delete[] a;
	}
}

/* jemalloc's API, looked up: the test binary links no allocator */
typedef void *(*mallocx_fn)(size_t, int);
typedef void *(*rallocx_fn)(void *, size_t, int);
typedef void (*sdallocx_fn)(void *, size_t, int);
typedef void (*dallocx_fn)(void *, int);

NOINLINE void leak_mallocx(mallocx_fn mx)
{
	for (int i = 0; i < 7; i++) {
		char *p = (char *)mx(200, 0);
		memset(p, 3, 200);
		hold(p);
	}
}

NOINLINE void leak_rallocx(mallocx_fn mx, rallocx_fn rx)
{
	char *p = (char *)mx(100, 0);

	memset(p, 4, 100);
	p = (char *)rx(p, 300, 0);
	memset(p, 4, 300);
	hold(p);
}

NOINLINE void churn_x(mallocx_fn mx, sdallocx_fn sdx, dallocx_fn dx)
{
	for (int i = 0; i < 50; i++) {
		void *a = mx(64, 0), *b = mx(64, 0);

		keep[1996] = a;
		keep[1995] = b;
		sdx(a, 64, 0);
		dx(b, 0);
	}
}

static void jemalloc_api(void)
{
	mallocx_fn mx = (mallocx_fn)dlsym(RTLD_DEFAULT, "mallocx");
	rallocx_fn rx = (rallocx_fn)dlsym(RTLD_DEFAULT, "rallocx");
	sdallocx_fn sdx = (sdallocx_fn)dlsym(RTLD_DEFAULT, "sdallocx");
	dallocx_fn dx = (dallocx_fn)dlsym(RTLD_DEFAULT, "dallocx");

	if (!mx || !rx || !sdx || !dx)
		return;
	churn_x(mx, sdx, dx);
	leak_mallocx(mx);
	leak_rallocx(mx, rx);
}

int main(int argc, char **argv)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, nullptr);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (argc < 2 || strcmp(argv[1], "--now"))
		sigwait(&set, &sig);
	/* a failed dlsym allocates its error: look only where it is found */
	bool x = argc > 1 && !strcmp(argv[argc - 1], "--jemalloc");
	churn();
	leak_array();
	leak_objects();
	leak_aligned();
	leak_nothrow();
	if (x)
		jemalloc_api();
	printf("done\n");
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
