// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel-side "leak" that needs no module: hold N pipes open (each one
 * a pipe_inode_info, its buffer array, two files, an inode and a dentry
 * in the kernel), then close them all on SIGUSR1.
 *   kpipes N: "held N" once open, "closed" once closed; ends on SIGTERM
 *   kpipes -b N: the benchmark loop, N pipe()+close() pairs, then "done
 *   SECONDS"
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(long n)
{
	double t0 = now_s();
	int fds[2];
	long i;

	for (i = 0; i < n; i++) {
		if (pipe(fds))
			return perror("pipe"), 1;
		close(fds[0]);
		close(fds[1]);
	}
	printf("done %.6f\n", now_s() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	sigset_t mask, old;
	int (*fds)[2];
	long n, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "-b"))
		return bench(atol(argv[2]));
	n = argc > 1 ? atol(argv[1]) : 2000;
	/* two descriptors a pipe, past the usual soft limit of 1024 */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < n; i++)
		if (pipe(fds[i]))
			return perror("pipe"), 1;
	printf("held %ld\n", n);
	while (!go)
		sigsuspend(&old);
	for (i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	printf("closed\n");
	for (;;)
		pause();
}
