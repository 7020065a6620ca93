/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_KMODE_H
#define HT_KMODE_H

#include <stdio.h>

#include "options.h"

/*
 * heaptrail --kernel: the kernel's outstanding allocations by kernel
 * stack, reported as a process's are, to out (closed at the end unless
 * stdout). Returns the exit code.
 */
int kmode_main(const struct opts *o, FILE *out);

#endif
