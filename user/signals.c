// SPDX-License-Identifier: GPL-2.0
/* The signals that end a trace run, read as events. */
#include <signal.h>
#include <stddef.h>
#include <sys/signalfd.h>

#include "signals.h"

int end_signals_fd(bool sigchld)
{
	sigset_t mask;

	/* a shell starts background jobs with SIGINT ignored, and an
	 * ignored signal never reaches a signalfd; SIGHUP keeps an ignore
	 * (nohup) */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigchld)
		sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}
