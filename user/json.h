/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_JSON_H
#define HT_JSON_H

#include <stdio.h>

#include "report.h"

/*
 * The report as one JSON object on one line (JSON Lines: one object per
 * interval). Schema: user/report.schema.json.
 */
void report_json(FILE *out, const struct profile *p, struct symbolizer *s,
		 const struct report_opts *o);

#endif
