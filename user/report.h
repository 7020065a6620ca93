/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_REPORT_H
#define HT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "profile.h"
#include "symbolize.h"

struct report_opts {
	pid_t pid;
	const char *comm;
	int top;
	double elapsed;		/* seconds since attach */
	bool final;
};

void report_print(FILE *out, const struct profile *p, struct symbolizer *s,
		  const struct report_opts *o);
/* "1.50 MiB" */
const char *fmt_bytes(double bytes, char *buf, size_t len);

#endif
