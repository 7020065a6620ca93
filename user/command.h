/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_COMMAND_H
#define HT_COMMAND_H

#include <stdbool.h>

struct session;

/*
 * Fork the command, held until command_start(): sets s->child and
 * s->o.pid. Returns the fd that tells whether its exec worked, or a
 * negative errno; *gate_fd releases it.
 */
int command_spawn(struct session *s, int *gate_fd);
/* Release the command; it stops again at the start gate before main. */
int command_start(struct session *s, int gate_fd, int errfd);
/* SIGCHLD: resume it at a gate stop; true once it is gone (reaped). */
bool command_changed(struct session *s);

#endif
