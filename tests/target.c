// SPDX-License-Identifier: GPL-2.0
/*
 * Leaking programs for heaptrail's tests. Each mode leaks an exact number
 * of bytes from a known function. The program waits for SIGUSR1 (so the
 * test can attach first), does its work, prints "done" and then waits for
 * SIGTERM. With --now it works at once and exits after the given seconds.
 *
 *   target MODE [--now SECONDS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"

#define NOINLINE __attribute__((noinline))

static void *volatile sink;	/* keeps the compiler from dropping work */

/* The library's Encode(): the buffer it returns must be freed by the caller. */
NOINLINE char *encode(const char *msg, size_t len)
{
	char *buf = malloc(len);

	memset(buf, 0, len);
	memcpy(buf, msg, strlen(msg) < len ? strlen(msg) : len);
	return buf;
}

/* The caller forgets to free encode()'s buffer: 1000 bytes per request. */
NOINLINE int handle_request(int i)
{
	char *out = encode("request", 1000);

	sink = out;
	return out[0] + i;
}

NOINLINE void balanced_loop(int n)
{
	for (int i = 0; i < n; i++) {
		void *p = malloc(512 + i % 64);

		sink = p;
		free(p);
	}
}

NOINLINE void leak_calloc(void) { sink = calloc(10, 123); }		/* 1230 */
NOINLINE void leak_realloc(void)
{
	char *p = malloc(100);

	sink = p;
	p = realloc(p, 5000);						/* 5000 */
	sink = p;
}
NOINLINE void leak_reallocarray(void) { sink = reallocarray(NULL, 7, 300); } /* 2100 */
NOINLINE void leak_posix_memalign(void)
{
	void *p = NULL;

	if (!posix_memalign(&p, 64, 3072))				/* 3072 */
		sink = p;
}
NOINLINE void leak_aligned_alloc(void) { sink = aligned_alloc(256, 4096); } /* 4096 */
NOINLINE void leak_valloc(void) { sink = valloc(700); }		/* 700 */
NOINLINE void free_realloc_zero(void)
{
	void *p = malloc(777);

	sink = p;
	sink = realloc(p, 0);	/* frees p: nothing outstanding */
}
NOINLINE void failed_alloc(void) { sink = malloc((size_t)1 << 62); }	/* NULL */

NOINLINE void leak_big(void) { sink = malloc(1 << 20); }		/* 1 MiB */

NOINLINE void leak_strdup(void)
{
	sink = strdup("heaptrail strdup leak, exactly forty-four b");	/* 44 */
}

NOINLINE void leak_asprintf(void)
{
	char *s = NULL;

	if (asprintf(&s, "%0199d", 42) > 0)				/* 200 */
		sink = s;
}

NOINLINE void leak_mmap(void)
{
	sink = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);		/* 20480 */
}

/* 16 pages, a 4-page hole punched in the middle: 12 pages in 2 pieces. */
NOINLINE void map_partial(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p + 4 * 4096, 4 * 4096);
	sink = p;
}

/*
 * mremap of part of a mapping: of 16 pages, the 4 from page 4 move and
 * grow to 8 (pages 8.. are in the way). Left: 12 pages in 2 pieces where
 * they were and 8 elsewhere, 81920 bytes in 3 mappings.
 */
NOINLINE void remap_part(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	if (p == MAP_FAILED)
		exit(3);
	q = mremap(p + 4 * 4096, 4 * 4096, 8 * 4096, MREMAP_MAYMOVE);
	if (q == MAP_FAILED || q == p + 4 * 4096)
		exit(3);
	sink = q;
}

/*
 * MREMAP_DONTUNMAP moves the 8 pages and leaves the old range mapped,
 * empty: both are the program's, 65536 bytes in 2 mappings.
 */
NOINLINE void remap_keep(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	if (p == MAP_FAILED)
		exit(3);
	p[0] = 1;
	/* glibc reads a new address for MREMAP_DONTUNMAP too: none */
	q = mremap(p, 8 * 4096, 8 * 4096, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
		   NULL);
	if (q == MAP_FAILED || q == p)
		exit(3);
	sink = q;
}

/* Grow the break by 64 KiB twice, give 16 KiB back: 112 KiB. */
NOINLINE void grow_brk(void)
{
	sbrk(65536);
	sbrk(65536);
	sbrk(-16384);
}

#define THREADS 4
#define THREAD_LEAKS 25

NOINLINE void thread_leak(void) { sink = malloc(333); }

static void *thread_main(void *arg)
{
	for (int i = 0; i < THREAD_LEAKS; i++)
		thread_leak();
	return NULL;
}

static void threads(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* --sample: 200 short-lived threads, one 64-byte leak each */
#define ONCE_THREADS 200

NOINLINE void thread_once(void) { sink = malloc(64); }

static void *thread_once_main(void *arg)
{
	thread_once();
	return NULL;
}

static void many_threads(void)
{
	pthread_t t;

	for (int i = 0; i < ONCE_THREADS; i++) {
		pthread_create(&t, NULL, thread_once_main, NULL);
		pthread_join(t, NULL);
	}
}

/* A leak that runs from the start: 100 bytes a tick, and a ring of
 * 200-byte objects freed 50 ticks later. */
NOINLINE void slow_leak(void) { sink = malloc(100); }

static void forever_leaking(void)
{
	static void *ring[50];
	unsigned long tick = 0;

	for (;;) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		slow_leak();
		free(ring[tick % 50]);
		ring[tick % 50] = malloc(200);
		tick++;
		nanosleep(&ts, NULL);
	}
}

/* 1000 free(NULL) and 100 malloc+free pairs: free(NULL) must cost no trap */
NOINLINE void free_null_loop(void)
{
	for (int i = 0; i < 1000; i++)
		free(sink == (void *)1 ? (void *)sink : NULL);
	for (int i = 0; i < 100; i++) {
		void *p = malloc(64);

		sink = p;
		free(p);
	}
}

/* --faults: 64 pages mapped, all written here; then 16 unmapped and 8
 * given back with MADV_DONTNEED: 40 pages (163840 bytes) stay */
NOINLINE void touch_pages(char *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i * 4096] = 1;
}

NOINLINE void pages(void)
{
	char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	touch_pages(p, 64);
	munmap(p + 48 * 4096, 16 * 4096);
	madvise(p, 8 * 4096, MADV_DONTNEED);
	sink = p;
}

/* --faults and mremap: pages from..to-1 of p written, each function its
 * own byte so that the compiler cannot fold them into one */
NOINLINE void remap_touch(char *p, int from, int to)
{
	for (int i = from; i < to; i++)
		p[i * 4096] = 1;
}

NOINLINE void remap_grow_touch(char *p, int from, int to)
{
	for (int i = from; i < to; i++)
		p[i * 4096] = 2;
}

/* The kernel writes these 8 pages first: read(2) from /dev/zero. */
NOINLINE void kernel_fill(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);

	if (p == MAP_FAILED || fd < 0 || read(fd, p, 8 * 4096) != 8 * 4096)
		exit(3);
	close(fd);
	sink = p;
}

NOINLINE void file_touch(char *p, int from, int to)
{
	for (int i = from; i < to; i++)
		p[i * 4096] = 3;
}

/* file_touch writes 8 anonymous pages, then this program's own file is
 * mapped over 4 of them (MAP_FIXED) and those are written too: copies of
 * file pages, not counted. file_touch keeps 4 pages. */
NOINLINE void file_over(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/proc/self/exe", O_RDONLY);

	if (p == MAP_FAILED || fd < 0)
		exit(3);
	file_touch(p, 0, 8);
	if (mmap(p, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		 fd, 0) != p)
		exit(3);
	close(fd);
	file_touch(p, 0, 4);
	sink = p;
}

/*
 * 16 pages written by remap_touch, then moved (to a range reserved first,
 * so that it surely moves) and grown to 32 pages; remap_grow_touch writes
 * 8 of the new ones; 4 of the moved pages are given back at their new
 * address (found only if they moved), and a shrink in place to 20 pages
 * leaves remap_grow_touch 4: remap_touch 12 pages, remap_grow_touch 4,
 * kernel_fill 8, file_touch 4 (file_over).
 */
NOINLINE void remap(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *to = mmap(NULL, 32 * 4096, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || to == MAP_FAILED)
		exit(3);
	file_over();
	remap_touch(p, 0, 16);
	p = mremap(p, 16 * 4096, 32 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (p != to)
		exit(3);
	remap_grow_touch(p, 16, 24);
	madvise(p, 4 * 4096, MADV_DONTNEED);	/* moved pages, given back */
	if (mremap(p, 32 * 4096, 20 * 4096, 0) != p)
		exit(3);
	kernel_fill();
	sink = p;
}

/* --faults across exec: 64 pages written, then this program runs again
 * as "target pages --now 2" in the same process: the pages are gone. */
NOINLINE void exec_pages(char *self)
{
	char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	touch_pages(p, 64);
	execl(self, self, "pages", "--now", "2", (char *)NULL);
	exit(3);
}

static void wait_signal(int sig)
{
	sigset_t set;
	int got;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &got);
}

/* Kept by the program that runs exec: 5 x 1000 bytes. */
NOINLINE void old_leak(void) { sink = malloc(1000); }

/*
 * execleak: leaks 5 x 1000 bytes from old_leak, says "leaked", and at
 * SIGUSR1 runs this program again as "target encode" in the same
 * process (which says "ready" again and waits for SIGUSR1).
 */
NOINLINE void exec_leak(char *self)
{
	for (int i = 0; i < 5; i++)
		old_leak();
	printf("leaked\n");
	fflush(stdout);
	wait_signal(SIGUSR1);
	execl(self, self, "encode", (char *)NULL);
	exit(3);
}

/* --sample: 100 MiB in 25600 blocks of 4 KiB, all kept */
NOINLINE void leak_bulk(void)
{
	static void *keep[25600];

	for (int i = 0; i < 25600; i++)
		keep[i] = malloc(4096);
	sink = keep;
}

/*
 * A thread whose first allocator call is free(): glibc gives it an arena
 * there, mmapping a heap reservation inside free(). The 300 bytes kept by
 * keep_after_free() are the only thing left.
 */
static void *free_first(void *p)
{
	free(p);
	return NULL;
}

NOINLINE void keep_after_free(void)
{
	sink = malloc(300);
}

NOINLINE void arena_in_free(void)
{
	pthread_t t;

	pthread_create(&t, NULL, free_first, malloc(100));
	pthread_join(t, NULL);
	keep_after_free();
}

/*
 * extents: 64 x 64 KiB kept through malloc (a replacement allocator maps
 * new extents for them, inside malloc) and 3 pages the program maps
 * itself: heap 4194304 in 64, mmap 12288 in 1.
 */
NOINLINE void keep_blocks(void)
{
	static void *keep[64];

	for (int i = 0; i < 64; i++)
		keep[i] = malloc(65536);
	sink = keep;
}

NOINLINE void map_three(void)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	p[0] = 1;
	sink = p;
}

/* A child process's own leak, 1000 bytes a call. */
NOINLINE void child_leak(void) { sink = malloc(1000); }

NOINLINE void churn(int n)
{
	for (int i = 0; i < n; i++) {
		void *p = malloc(64);

		sink = p;
		free(p);
	}
}

/* Until child pid exits; SIGTERM (a test ending early) ends both. */
static void wait_child(pid_t pid)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		sigwait(&set, &sig);
		if (sig == SIGTERM) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			exit(1);
		}
	}
}

/*
 * fork: the child calls malloc and free once, says "child PID ready",
 * and at SIGUSR1 times 100,000 calls of each ("child churn NS ns"),
 * leaks 3 x 1000 bytes from child_leak, says "child done" and exits 7 at
 * SIGTERM. The parent waits for it, then leaks as encode does.
 */
static void fork_child(void)
{
	pid_t pid = fork();

	if (pid < 0)
		exit(3);
	if (!pid) {
		struct timespec t0, t1;

		churn(1);
		printf("child %d ready\n", getpid());
		fflush(stdout);
		wait_signal(SIGUSR1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		churn(100000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (int i = 0; i < 3; i++)
			child_leak();
		printf("child churn %lld ns\nchild done\n",
		       (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec -
			       t0.tv_nsec);
		fflush(stdout);
		wait_signal(SIGTERM);
		_exit(7);
	}
	wait_child(pid);
	for (int i = 0; i < 50; i++)
		handle_request(i);
}

NOINLINE void leak_in_a(void) { sink = malloc(700); }
NOINLINE void leak_in_b(void) { sink = malloc(1300); }
NOINLINE void leak_in_grandchild(void) { sink = malloc(900); }

/*
 * A child of forktree: leaks n times from leak, says "child NAME PID
 * done", tells the parent through fd and exits code at SIGTERM.
 */
static void tree_child(const char *name, void (*leak)(void), int n, int fd,
		       int code)
{
	for (int i = 0; i < n; i++)
		leak();
	printf("child %s %d done\n", name, getpid());
	fflush(stdout);
	if (write(fd, "x", 1) != 1)
		_exit(3);
	wait_signal(SIGTERM);
	_exit(code);
}

/*
 * forktree: child a leaks 5 x 700 bytes from leak_in_a; child b forks
 * a grandchild that leaks 2 x 900 from leak_in_grandchild, then leaks
 * 3 x 1300 from leak_in_b; each exits at SIGTERM (a: 7, b: 8, the
 * grandchild: 9). Once all three are done the parent leaks as encode
 * does (50 x 1000).
 */
static void fork_tree(void)
{
	int fd[2];
	char c;

	if (pipe(fd))
		exit(3);
	if (!fork())
		tree_child("a", leak_in_a, 5, fd[1], 7);
	if (!fork()) {
		if (!fork())
			tree_child("grandchild", leak_in_grandchild, 2, fd[1], 9);
		tree_child("b", leak_in_b, 3, fd[1], 8);
	}
	for (int i = 0; i < 3; i++)
		if (read(fd[0], &c, 1) != 1)
			exit(3);
	for (int i = 0; i < 50; i++)
		handle_request(i);
}

/*
 * forkexec: a child leaks 5 x 1000 bytes from old_leak, then runs exec
 * of "target big --now 60" (3 x 1 MiB from leak_big, "done", 60 s; its
 * signals unblocked: SIGTERM ends it); the parent leaks as encode does.
 */
static void fork_exec(const char *self)
{
	sigset_t all;

	if (!fork()) {
		for (int i = 0; i < 5; i++)
			old_leak();
		printf("child %d leaked\n", getpid());
		fflush(stdout);
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		execl(self, self, "big", "--now", "60", (char *)NULL);
		_exit(3);
	}
	for (int i = 0; i < 50; i++)
		handle_request(i);
}

/*
 * spawn: five posix_spawn children (sharing this process's memory until
 * they exec: CLONE_VM), then the encode leak.
 */
static void spawn_children(void)
{
	extern char **environ;
	char *argv[] = { "true", NULL };

	for (int i = 0; i < 5; i++) {
		pid_t pid;

		if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ))
			exit(3);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 50; i++)
		handle_request(i);
}

static void run(const char *mode)
{
	if (!strcmp(mode, "extents")) {
		keep_blocks();
		map_three();
	} else if (!strcmp(mode, "encode")) {
		for (int i = 0; i < 50; i++)
			handle_request(i);
	} else if (!strcmp(mode, "balanced")) {
		balanced_loop(2000);
		leak_calloc();
	} else if (!strcmp(mode, "kinds")) {
		leak_calloc();
		leak_realloc();
		leak_reallocarray();
		leak_posix_memalign();
		leak_aligned_alloc();
		leak_valloc();
		free_realloc_zero();
		failed_alloc();
		free(NULL);
	} else if (!strcmp(mode, "big")) {
		for (int i = 0; i < 3; i++)
			leak_big();
	} else if (!strcmp(mode, "libc")) {
		leak_strdup();
		leak_asprintf();
	} else if (!strcmp(mode, "maps")) {
		leak_mmap();
		map_partial();
		grow_brk();
	} else if (!strcmp(mode, "remappart")) {
		remap_part();
	} else if (!strcmp(mode, "remapkeep")) {
		remap_keep();
	} else if (!strcmp(mode, "bulk")) {
		leak_bulk();
	} else if (!strcmp(mode, "pages")) {
		pages();
	} else if (!strcmp(mode, "remap")) {
		remap();
	} else if (!strcmp(mode, "freenull")) {
		free_null_loop();
	} else if (!strcmp(mode, "freearena")) {
		arena_in_free();
	} else if (!strcmp(mode, "threads")) {
		threads();
	} else if (!strcmp(mode, "fork")) {
		fork_child();
	} else if (!strcmp(mode, "forktree")) {
		fork_tree();
	} else if (!strcmp(mode, "spawn")) {
		spawn_children();
	} else if (!strcmp(mode, "manythreads")) {
		many_threads();
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: target MODE [--now SECONDS]\n");
		return 2;
	}
	if (!strcmp(argv[1], "running"))
		forever_leaking();
	if (argc >= 4 && !strcmp(argv[2], "--now")) {
		run(argv[1]);
		printf("done\n");
		fflush(stdout);
		sleep(atoi(argv[3]));
		return 0;
	}
	if (!handshake_ready())
		return 0;
	if (!strcmp(argv[1], "exec"))
		exec_pages(argv[0]);
	if (!strcmp(argv[1], "execleak"))
		exec_leak(argv[0]);
	if (!strcmp(argv[1], "forkexec")) {
		fork_exec(argv[0]);
		handshake_done();
		return 0;
	}
	run(argv[1]);
	handshake_done();
	return 0;
}
