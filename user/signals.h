/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SIGNALS_H
#define HT_SIGNALS_H

#include <stdbool.h>

/*
 * SIGINT, SIGTERM and SIGHUP (and SIGCHLD if asked) as a signalfd, the
 * signals blocked: they end a run with its final report, never midway.
 * Returns the fd or -1.
 */
int end_signals_fd(bool sigchld);

#endif
