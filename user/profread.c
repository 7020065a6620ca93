// SPDX-License-Identifier: GPL-2.0
/*
 * Readers of saved profiles: folded text and gzip'd pprof profile.proto,
 * both brought down to "root;...;leaf" names with outstanding bytes. The
 * files may come from anywhere: every length and count is checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "profread.h"

#define MAX_DATA (1UL << 30)	/* file or inflated size: no zip bombs */
/* byte counts stay well inside int64_t, so sums and deltas cannot wrap */
#define MAX_BYTES (1LL << 61)

/* Say why input is malformed, in the buffer of the profile being read. */
static int bad(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, PROF_WHY_LEN, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int add_bytes(char *why, int64_t *acc, int64_t v)
{
	/* each bounded first, so that the sum cannot wrap */
	if (v > MAX_BYTES || v < -MAX_BYTES || *acc > MAX_BYTES ||
	    *acc < -MAX_BYTES || *acc + v > MAX_BYTES || *acc + v < -MAX_BYTES)
		return bad(why, "byte count out of range");
	*acc += v;
	return 0;
}

/*
 * Make room for one more element of size sz in the array at *vp, whatever
 * its pointer type (hence memcpy: no aliasing through void **).
 */
static int grow(void *vp, size_t *cap, size_t n, size_t sz)
{
	size_t nc = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	memcpy(&p, vp, sizeof(p));
	p = reallocarray(p, nc, sz);
	if (!p)
		return -ENOMEM;
	memcpy(vp, &p, sizeof(p));
	*cap = nc;
	return 0;
}

static int stacks_add(struct prof_stacks *s, char *name, int64_t bytes)
{
	if (grow(&s->v, &s->cap, s->n, sizeof(*s->v))) {
		free(name);
		return -ENOMEM;
	}
	s->v[s->n].name = name;
	s->v[s->n++].bytes = bytes;
	return 0;
}

void prof_stacks_free(struct prof_stacks *s)
{
	while (s->n)
		free(s->v[--s->n].name);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct prof_stack *)a)->name,
		      ((const struct prof_stack *)b)->name);
}

int profread_merge(struct prof_stacks *s)
{
	size_t i, n = 0;
	int err = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_name);
	for (i = 0; i < s->n; i++) {
		if (n && !strcmp(s->v[n - 1].name, s->v[i].name)) {
			if (!err)
				err = add_bytes(s->why, &s->v[n - 1].bytes,
						s->v[i].bytes);
			free(s->v[i].name);
		} else {
			s->v[n++] = s->v[i];
		}
	}
	s->n = n;
	return err;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int profread_folded(const char *buf, size_t len, struct prof_stacks *s)
{
	const char *p = buf, *end = buf + len, *nl, *eol, *sp, *q;
	size_t line = 0;
	int64_t v;
	bool neg;
	char *name;

	for (; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', end - p);
		eol = nl ? nl : end;
		line++;
		while (eol > p && blank(eol[-1]))
			eol--;
		if (eol == p || *p == '#')	/* blank, or heaptrail's header */
			continue;
		if (memchr(p, 0, eol - p))
			return bad(s->why, "line %zu: binary data", line);
		/* the count is the last word: frame names may hold spaces */
		for (sp = eol; sp > p && !blank(sp[-1]);)
			sp--;
		q = sp;
		neg = *q == '-';
		q += neg;
		if (q == eol)
			return bad(s->why, "line %zu: no byte count", line);
		for (v = 0; q < eol; q++) {
			if (*q < '0' || *q > '9')
				return bad(s->why, "line %zu: no byte count", line);
			if (v > (MAX_BYTES - (*q - '0')) / 10)
				return bad(s->why, "line %zu: byte count out of range", line);
			v = v * 10 + (*q - '0');
		}
		while (sp > p && blank(sp[-1]))
			sp--;
		if (sp == p)
			return bad(s->why, "line %zu: no stack", line);
		name = strndup(p, sp - p);
		if (!name || stacks_add(s, name, neg ? -v : v))
			return -ENOMEM;
	}
	return 0;
}

/* --- pprof: just enough of a protobuf reader for profile.proto --- */

struct pb {
	const uint8_t *p, *end;
	char *why;		/* the profile's error message buffer */
};

struct field {
	uint32_t num;
	int wt;			/* wire type: 0 varint, 2 bytes, 1/5 fixed */
	uint64_t v;		/* a varint's value */
	struct pb body;		/* a length-delimited field's bytes */
};

static int pb_varint(struct pb *r, uint64_t *v)
{
	int shift;

	*v = 0;
	for (shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		*v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return 0;
	}
	return bad(r->why, "truncated or overlong varint");
}

/* 1 and the next field of r, 0 at its end, or an error. */
static int pb_next(struct pb *r, struct field *f)
{
	uint64_t tag, n;

	if (r->p == r->end)
		return 0;
	if (pb_varint(r, &tag))
		return -EBADMSG;
	f->num = tag >> 3;
	f->wt = tag & 7;
	/* a varint has no body, but errors about it go to its buffer */
	f->body = (struct pb){ r->p, r->p, r->why };
	if (!f->num || tag >> 32)
		return bad(r->why, "bad protobuf field number");
	if (f->wt == 0)
		return pb_varint(r, &f->v) ? -EBADMSG : 1;
	if (f->wt == 1 || f->wt == 5)
		n = f->wt == 1 ? 8 : 4;
	else if (f->wt != 2 || pb_varint(r, &n))
		return bad(r->why, "bad protobuf wire type");
	if (n > (size_t)(r->end - r->p))
		return bad(r->why, "protobuf field runs past its message");
	f->body.p = r->p;
	f->body.end = r->p + n;
	f->body.why = r->why;
	r->p += n;
	return 1;
}

struct ints {
	uint64_t *v;
	size_t n, cap;
};

/* Append a repeated integer field, packed or not. */
static int ints_add(struct ints *a, const struct field *f)
{
	struct pb r = f->body;
	uint64_t v = f->v;

	if (f->wt != 0 && f->wt != 2)
		return bad(r.why, "bad protobuf wire type");
	while (f->wt == 0 || r.p < r.end) {
		if (f->wt == 2 && pb_varint(&r, &v))
			return -EBADMSG;
		if (grow(&a->v, &a->cap, a->n, sizeof(*a->v)))
			return -ENOMEM;
		a->v[a->n++] = v;
		if (f->wt == 0)
			break;
	}
	return 0;
}

/* A function (name), mapping (file) or location (mapping, address). */
struct ent {
	uint64_t id, a, b;
	struct pb body;
};

struct ents {
	struct ent *v;
	size_t n, cap;
};

struct pprof_in {
	char *why;
	struct pb *strs;
	size_t nstrs, strcap;
	struct ents funcs, maps, locs;
	struct ints types, locids, vals, lines;
};

static int cmp_ent(const void *a, const void *b)
{
	uint64_t x = ((const struct ent *)a)->id, y = ((const struct ent *)b)->id;

	return x < y ? -1 : x > y;
}

static const struct ent *ent_find(const struct ents *t, uint64_t id)
{
	struct ent key = { .id = id };

	return t->n ? bsearch(&key, t->v, t->n, sizeof(key), cmp_ent) : NULL;
}

/* Fields fa and fb of message f into a new entry of t, its id field 1. */
static int ent_add(struct ents *t, const struct field *f, uint32_t fa,
		   uint32_t fb)
{
	struct pb r = f->body;
	struct field g;
	struct ent *e;
	int rc;

	if (f->wt != 2)
		return bad(r.why, "bad protobuf wire type");
	if (grow(&t->v, &t->cap, t->n, sizeof(*t->v)))
		return -ENOMEM;
	e = memset(&t->v[t->n++], 0, sizeof(*e));
	e->body = f->body;
	while ((rc = pb_next(&r, &g)) > 0) {
		if (g.wt != 0)
			continue;
		if (g.num == 1)
			e->id = g.v;
		else if (g.num == fa)
			e->a = g.v;
		else if (g.num == fb)
			e->b = g.v;
	}
	return rc;
}

static int str_at(const struct pprof_in *pp, uint64_t i, struct pb *s)
{
	if (i >= pp->nstrs)
		return bad(pp->why, "string index %" PRIu64 " out of range", i);
	*s = pp->strs[i];
	return 0;
}

/* Like folded output: ';' and newlines would break the stack apart. */
static void put_name(FILE *f, struct pb s)
{
	for (; s.p < s.end; s.p++)
		fputc(*s.p == ';' ? ':' : *s.p == '\n' || !*s.p ? ' ' : *s.p, f);
}

/* A location's frames root-first: its lines are innermost first. */
static int put_loc(struct pprof_in *pp, uint64_t id, FILE *f)
{
	const struct ent *l = ent_find(&pp->locs, id), *e;
	struct pb r, s = { 0 };
	struct field g, h;
	size_t i;
	int rc;

	if (!l)
		return bad(pp->why, "sample refers to missing location %" PRIu64,
			   id);
	pp->lines.n = 0;
	for (r = l->body; (rc = pb_next(&r, &g)) > 0;) {
		if (g.num != 4 || g.wt != 2)
			continue;
		while ((rc = pb_next(&g.body, &h)) > 0)
			if (h.num == 1 && (rc = ints_add(&pp->lines, &h)))
				return rc;
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	for (i = pp->lines.n; i--;) {
		e = ent_find(&pp->funcs, pp->lines.v[i]);
		if (e && (rc = str_at(pp, e->a, &s)))
			return rc;
		if (e && s.p < s.end)
			put_name(f, s);
		else
			fprintf(f, "0x%" PRIx64, l->b);
		fputc(';', f);
	}
	if (pp->lines.n)
		return 0;
	/* not symbolized: "[module]" as folded output has it */
	e = ent_find(&pp->maps, l->a);
	if (e && (rc = str_at(pp, e->a, &s)))
		return rc;
	if (e && s.p < s.end) {
		for (r = s; r.p < r.end; r.p++)
			if (*r.p == '/')
				s.p = r.p + 1;
		fputc('[', f);
		put_name(f, s);
		fputc(']', f);
	} else {
		fprintf(f, "0x%" PRIx64, l->b);
	}
	fputc(';', f);
	return 0;
}

static int put_sample(struct pprof_in *pp, const struct field *f,
		      size_t vi, struct prof_stacks *out)
{
	struct pb r = f->body;
	struct field g;
	char *name = NULL;
	size_t len = 0, i;
	FILE *m;
	int rc;

	pp->locids.n = pp->vals.n = 0;
	while ((rc = pb_next(&r, &g)) > 0) {
		if (g.num == 1 && (rc = ints_add(&pp->locids, &g)))
			return rc;
		if (g.num == 2 && (rc = ints_add(&pp->vals, &g)))
			return rc;
	}
	if (rc)
		return rc;
	if (vi >= pp->vals.n)
		return bad(pp->why, "sample has %zu values, expected %zu", pp->vals.n,
			   vi + 1);
	m = open_memstream(&name, &len);
	if (!m)
		return -ENOMEM;
	/* location_id[0] is the leaf */
	for (i = pp->locids.n; i-- && !rc;)
		rc = put_loc(pp, pp->locids.v[i], m);
	if (!pp->locids.n)
		fputs("[empty stack];", m);
	if (fclose(m)) {
		free(name);
		return -ENOMEM;
	}
	if (rc) {
		free(name);
		return rc;
	}
	name[len - 1] = 0;	/* the last ';' */
	/* out-of-range counts are caught by add_bytes() in load() */
	return stacks_add(out, name, pp->vals.v[vi]);
}

static int parse_pprof(const uint8_t *buf, size_t len, struct prof_stacks *out)
{
	struct pprof_in pp = { .why = out->why };
	struct pb r = { buf, buf + len, out->why }, s;
	struct field f, g;
	struct ents *tabs[] = { &pp.funcs, &pp.maps, &pp.locs };
	size_t i, vi = 0;
	int rc;

	/* samples last: strings, functions and locations may follow them */
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1 && f.wt == 2) {
			for (s = f.body; (rc = pb_next(&s, &g)) > 0;)
				if (g.num == 1 && (rc = ints_add(&pp.types, &g)))
					break;
		} else if (f.num == 3) {
			rc = ent_add(&pp.maps, &f, 5, 0);
		} else if (f.num == 4) {
			rc = ent_add(&pp.locs, &f, 2, 3);
		} else if (f.num == 5) {
			rc = ent_add(&pp.funcs, &f, 2, 0);
		} else if (f.num == 6 && f.wt == 2) {
			rc = grow(&pp.strs, &pp.strcap, pp.nstrs, sizeof(s));
			if (!rc)
				pp.strs[pp.nstrs++] = f.body;
		}
		if (rc < 0)
			goto out;
	}
	if (rc)
		goto out;
	for (i = 0; i < 3; i++)
		if (tabs[i]->n)
			qsort(tabs[i]->v, tabs[i]->n, sizeof(struct ent), cmp_ent);
	for (i = 0; i < pp.types.n; i++)
		if (!str_at(&pp, pp.types.v[i], &s) && s.end - s.p == 11 &&
		    !memcmp(s.p, "inuse_space", 11))
			vi = i;
	for (r.p = buf; (rc = pb_next(&r, &f)) > 0;)
		if (f.num == 2 && (f.wt != 2 ||
				   (rc = put_sample(&pp, &f, vi, out))))
			break;
	if (rc > 0)
		rc = bad(out->why, "bad protobuf wire type");
out:
	free(pp.strs);
	free(pp.funcs.v);
	free(pp.maps.v);
	free(pp.locs.v);
	free(pp.types.v);
	free(pp.locids.v);
	free(pp.vals.v);
	free(pp.lines.v);
	return rc;
}

static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *n,
		  char *why)
{
	z_stream z = { .next_in = (Bytef *)in, .avail_in = len };
	size_t cap = 0;
	int rc, err = 0;

	*out = NULL;
	*n = 0;
	/* windowBits 15 + 32: a gzip or zlib header, detected */
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return -ENOMEM;
	do {
		if (*n == cap &&
		    (err = cap >= MAX_DATA ? -EFBIG : grow(out, &cap, *n, 1)))
			break;
		z.next_out = *out + *n;
		z.avail_out = cap - *n;
		rc = inflate(&z, Z_NO_FLUSH);
		*n = cap - z.avail_out;
		if (rc == Z_MEM_ERROR)
			err = -ENOMEM;
		else if (rc == Z_BUF_ERROR && z.avail_out)
			err = bad(why, "truncated gzip data");
		else if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
			err = bad(why, "corrupt gzip data");
	} while (!err && rc != Z_STREAM_END);
	inflateEnd(&z);
	return err;
}

static int read_all(const char *path, uint8_t **buf, size_t *n)
{
	size_t cap = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	*buf = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (*n == cap && (err = grow(buf, &cap, *n, 1)))
			break;
		r = read(fd, *buf + *n, cap - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		*n += r;
		if (*n > MAX_DATA) {
			err = -EFBIG;
			break;
		}
	}
	close(fd);
	return err;
}

int profread_load(const char *path, struct prof_stacks *s)
{
	uint8_t *buf, *raw = NULL;
	size_t n, rawn, i;
	int64_t total = 0;
	int err;

	s->why[0] = 0;
	err = read_all(path, &buf, &n);
	if (!err && n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		err = gunzip(buf, n, &raw, &rawn, s->why);
		if (!err)
			err = parse_pprof(raw, rawn, s);
		free(raw);
	} else if (!err) {
		err = profread_folded((const char *)buf, n, s);
	}
	free(buf);
	if (!err)
		err = profread_merge(s);
	/* bounded partial sums: the totals of diff_main() cannot wrap */
	for (i = 0; !err && i < s->n; i++)
		err = add_bytes(s->why, &total, s->v[i].bytes);
	return err;
}
