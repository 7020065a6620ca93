// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail diff OLD NEW: which stacks grew between two saved profiles,
 * each either folded text or a gzip'd pprof profile.proto. Both come down
 * to "root;...;leaf" names with bytes, so the two formats can be mixed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "profread.h"
#include "report.h"

struct change {
	const char *name;
	int64_t old, new;
};

/* Growth first, the largest on top; then shrinkage, the largest first. */
static int cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int64_t dx = x->new - x->old, dy = y->new - y->old;

	if ((dx > 0) != (dy > 0))
		return dx > 0 ? -1 : 1;
	if (dx != dy)
		return (dx > 0 ? dx > dy : dx < dy) ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void print_change(const struct change *c)
{
	int64_t d = c->new - c->old;
	char b[32];

	printf("%+" PRId64 " bytes (%s%s)  %" PRId64 " -> %" PRId64 "  %s\n", d,
	       d > 0 ? "+" : "", fmt_bytes(d, b, sizeof(b)), c->old, c->new,
	       c->name);
}

static int diff_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "heaptrail: diff: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see heaptrail diff --help)\n");
	return 2;
}

int diff_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "top", required_argument, NULL, 'n' },
		{ "grown-only", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct prof_stacks st[2] = { 0 };
	struct change *v = NULL;
	int64_t tot[2] = { 0, 0 };
	size_t i = 0, j = 0, n = 0, shown[2] = { 0, 0 };
	long top = LONG_MAX;
	bool grown_only = false;
	char *end;
	int c, k, rc = 1, err = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:h", lo, NULL)) != -1) {
		if (c == 'n') {
			errno = 0;
			top = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || top < 1)
				return diff_usage("invalid top count '%s'", optarg);
		} else if (c == 'g') {
			grown_only = true;
		} else if (c == 'h') {
			printf("Usage: heaptrail diff [-n N] [--grown-only] OLD NEW\n"
			       "Which stacks grew between two saved profiles, folded or pprof.\n\n"
			       "  -n, --top N        the N largest growths (and shrinks)\n"
			       "      --grown-only   leave out stacks that shrank\n");
			return 0;
		} else if (c == ':') {
			return diff_usage("option '%s' needs a value",
					  argv[optind - 1]);
		} else {
			return diff_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return diff_usage("expected two profiles, OLD and NEW%s", "");
	for (k = 0; k < 2; k++) {
		err = profread_load(argv[optind + k], &st[k]);
		if (err) {
			fprintf(stderr, "heaptrail: cannot read %s: %s\n",
				argv[optind + k],
				err == -EBADMSG && st[k].why[0] ? st[k].why :
							      strerror(-err));
			goto out;
		}
	}
	v = calloc(st[0].n + st[1].n + 1, sizeof(*v));
	if (!v) {
		fprintf(stderr, "heaptrail: diff: %s\n", strerror(ENOMEM));
		goto out;
	}
	/* both sorted by name: walk them side by side */
	while (i < st[0].n || j < st[1].n) {
		c = i == st[0].n ? 1 : j == st[1].n ? -1 :
		    strcmp(st[0].v[i].name, st[1].v[j].name);
		v[n].name = c <= 0 ? st[0].v[i].name : st[1].v[j].name;
		v[n].old = c <= 0 ? st[0].v[i++].bytes : 0;
		v[n].new = c >= 0 ? st[1].v[j++].bytes : 0;
		tot[0] += v[n].old;
		tot[1] += v[n].new;
		n += v[n].old != v[n].new;
	}
	qsort(v, n, sizeof(*v), cmp_change);
	for (i = 0; i < n; i++) {
		k = v[i].new < v[i].old;
		if ((k && grown_only) || (long)shown[k]++ >= top)
			continue;
		print_change(&v[i]);
	}
	printf("total: %" PRId64 " -> %" PRId64 " bytes (%+" PRId64 ")\n",
	       tot[0], tot[1], tot[1] - tot[0]);
	rc = 0;
out:
	free(v);
	prof_stacks_free(&st[0]);
	prof_stacks_free(&st[1]);
	return rc;
}
