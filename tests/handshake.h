/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test targets' handshake with tests/lib.sh: print "ready PID", wait
 * for SIGUSR1 (go) or SIGTERM/SIGINT (stop); after the work print "done"
 * and wait for SIGTERM/SIGINT. The signals stay blocked: sigwait takes them.
 */
#ifndef HT_TEST_HANDSHAKE_H
#define HT_TEST_HANDSHAKE_H

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* 1 when told to go, 0 when told to stop first. */
static inline int handshake_ready(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	return !sigwait(&set, &sig) && sig == SIGUSR1;
}

static inline void handshake_done(void)
{
	sigset_t set;
	int sig;

	printf("done\n");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
}

#endif
