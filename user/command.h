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
/*
 * Let the command exec; it stops at the start gate before main (or sets
 * s->gate_waiting when slower than 2 s, or s->gone). Negative errno when
 * the exec failed (reaped).
 */
int command_start(struct session *s, int gate_fd, int errfd);
/* At the gate: probe what the new program maps, resume it. -ENOENT when
 * an --alloc-syms function is missing (told; the command stays stopped). */
int command_release(struct session *s);
/* SIGCHLD: resume it at a gate stop; true once it is gone (reaped). */
bool command_changed(struct session *s);

#endif
