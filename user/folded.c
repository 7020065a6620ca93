// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "stacksyms.h"
#include "outfile.h"
#include "util.h"

struct line {
	char *stack;
	int64_t bytes;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack,
		      ((const struct line *)b)->stack);
}

/* ';' separates frames and a newline ends the record: keep them out */
static void put_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s == '\n' ? ' ' : *s, f);
}

static char *stack_text(const struct profile *p, const struct prof_entry *e)
{
	char *buf = NULL, name[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	if (!f)
		return NULL;
	/* --follow-forks: the process is the root, a name no function has */
	if (p->procs) {
		put_name(f, proc_frame(p->procs, e->key.proc, name, sizeof(name)));
		fputc(';', f);
	}
	if (!e->nips)
		fputs("[unrecorded stacks];", f);
	for (i = e->nips - 1; i >= 0; i--) {
		const struct frame *v;
		int n = profile_frames(p, e->key.proc, e->ips[i], &v);

		/* root first: the function, then what was inlined into it */
		while (n--) {
			if (v[n].func) {
				put_name(f, v[n].func);
			} else {
				fputc('[', f);
				put_name(f, v[n].module ? v[n].module : "unknown");
				fputc(']', f);
			}
			fputc(';', f);
		}
	}
	fputs(kind_frame(e->key.kind), f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int folded_fill(FILE *f, const struct profile *p)
{
	struct line *v = calloc(p->n ? p->n : 1, sizeof(*v));
	size_t i, n = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		if (p->v[i].agg.live_bytes <= 0)
			continue;
		v[n].bytes = p->v[i].agg.live_bytes;
		v[n].stack = stack_text(p, &p->v[i]);
		if (!v[n++].stack) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* stacks that differ only in offsets fold into one line */
	sort_array(v, n, sizeof(*v), cmp_line);
	for (i = 0; i < n; i++) {
		int64_t bytes = v[i].bytes;

		while (i + 1 < n && !strcmp(v[i].stack, v[i + 1].stack))
			bytes += v[++i].bytes;
		if (fprintf(f, "%s %" PRId64 "\n", v[i].stack, bytes) < 0) {
			err = errno ? -errno : -EIO;	/* ENOSPC says more */
			goto out;
		}
	}
out:
	for (i = 0; i < n; i++)
		free(v[i].stack);
	free(v);
	return err;
}

/*
 * The folded format has no comments, and flamegraph.pl and difffolded.pl
 * warn about any line that is not a stack: the file holds stacks alone.
 * Who and when are in the file name, the pprof file and the JSON.
 */
static int fill(FILE *f, void *p)
{
	return folded_fill(f, p);
}

int folded_write(const char *target, bool dir, pid_t pid,
		 const struct timespec *when, const struct profile *p, char *out,
		 size_t outlen)
{
	if (dir)
		stamped_path(out, outlen, target, pid, when, "folded");
	else
		snprintf(out, outlen, "%s", target);
	return atomic_write(out, fill, (void *)p);
}
