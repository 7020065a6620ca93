// SPDX-License-Identifier: GPL-2.0
/*
 * pprof output: the profile.proto message encoded by hand (a handful of
 * varint and length-delimited fields do not justify a protobuf library),
 * then gzip'd with zlib as `go tool pprof` expects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "outfile.h"
#include "pprof.h"
#include "stacksyms.h"

/* profile.proto field numbers */
enum {
	P_SAMPLE_TYPE = 1, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION,
	P_STRING, P_DROP, P_KEEP, P_TIME, P_DURATION, P_PERIOD_TYPE,
	P_PERIOD, P_COMMENT, P_DEFAULT_TYPE,
};
enum { WT_VARINT = 0, WT_LEN = 2 };

/* A growable output buffer; the first failure sticks in err. */
struct pbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static bool pb_room(struct pbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->err)
		return false;
	if (b->len + n <= b->cap)
		return true;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static int varint(uint8_t *out, uint64_t v)
{
	int n = 0;

	do {
		out[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	return n;
}

static void pb_varint(struct pbuf *b, uint64_t v)
{
	if (pb_room(b, 10))
		b->len += varint(b->p + b->len, v);
}

/* A varint field; zero is the default and is left out. */
static void pb_uint(struct pbuf *b, int field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | WT_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pbuf *b, int field, const char *s, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | WT_LEN);
	pb_varint(b, n);
	if (pb_room(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

/*
 * A nested message or packed field: its length is only known at the end,
 * so the body is written first and then moved up past the length.
 */
static size_t pb_begin(struct pbuf *b, int field)
{
	pb_varint(b, (uint64_t)field << 3 | WT_LEN);
	return b->len;
}

static void pb_end(struct pbuf *b, size_t start)
{
	uint8_t len[10];
	int n;

	if (b->err)
		return;
	n = varint(len, b->len - start);
	if (!pb_room(b, n))
		return;
	memmove(b->p + start + n, b->p + start, b->len - start);
	memcpy(b->p + start, len, n);
	b->len += n;
}

/* Open-addressing map of 64-bit keys to ids; id 0 marks a free slot. */
struct slot {
	uint64_t key;
	uint32_t id;
};

struct tab {
	struct slot *v;
	size_t cap, n;
};

static size_t slot_of(const struct tab *t, uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ULL >> 32) & (t->cap - 1);
}

/* Grow to keep the load under half, so probes stay short. */
static int tab_reserve(struct tab *t)
{
	struct tab nt = { .cap = t->cap ? t->cap * 2 : 256, .n = t->n };
	size_t i, j;

	if (2 * (t->n + 1) <= t->cap)
		return 0;
	nt.v = calloc(nt.cap, sizeof(*nt.v));
	if (!nt.v)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!t->v[i].id)
			continue;
		for (j = slot_of(&nt, t->v[i].key); nt.v[j].id;)
			j = (j + 1) & (nt.cap - 1);
		nt.v[j] = t->v[i];
	}
	free(t->v);
	*t = nt;
	return 0;
}

struct pp {
	struct pbuf out;
	struct symbolizer *s;		/* the mappings */
	const struct profile *p;	/* its frames */
	const char **strs;		/* the string table; strs[0] = "" */
	size_t nstrs, strcap;
	struct tab str_ids;		/* FNV-1a hash -> string index */
	struct tab func_ids;		/* string index of name -> function */
	struct tab loc_ids;		/* address (or LEAF|function) -> location */
	uint32_t nfuncs, nlocs, nmaps;
	uint32_t *map_ids;		/* by index in s->maps, 0 if unused */
	uint8_t *map_funcs;		/* MF_* that some location had */
	char *own[8];			/* strings made here, freed at the end */
	int nown;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

/* The entry under key, or the free slot for it; NULL if out of memory. */
static struct slot *tab_find(struct pp *pp, struct tab *t, uint64_t key,
			     const char *str)
{
	size_t i;

	if (tab_reserve(t)) {
		pp->out.err = -ENOMEM;
		return NULL;
	}
	for (i = slot_of(t, key); t->v[i].id; i = (i + 1) & (t->cap - 1))
		if (t->v[i].key == key &&
		    (!str || !strcmp(pp->strs[t->v[i].id], str)))
			break;
	return &t->v[i];
}

/* Index of s in the string table, adding it if new; 0 for NULL or "". */
static uint32_t str_id(struct pp *pp, const char *s)
{
	uint64_t h = s ? fnv1a(s) : 0;
	struct slot *sl;
	const char **v;

	if (!s || !*s)
		return 0;
	sl = tab_find(pp, &pp->str_ids, h, s);
	if (!sl || sl->id)
		return sl ? sl->id : 0;
	if (pp->nstrs == pp->strcap) {
		v = realloc(pp->strs, 2 * pp->strcap * sizeof(*v));
		if (!v) {
			pp->out.err = -ENOMEM;
			return 0;
		}
		pp->strs = v;
		pp->strcap *= 2;
	}
	pp->strs[pp->nstrs] = s;
	sl->key = h;
	sl->id = pp->nstrs++;
	pp->str_ids.n++;
	return sl->id;
}

/* The id under key, or a new one from *next (then *fresh is set). */
static uint32_t tab_id(struct pp *pp, struct tab *t, uint64_t key,
		       uint32_t *next, bool *fresh)
{
	struct slot *sl = tab_find(pp, t, key, NULL);

	*fresh = sl && !sl->id;
	if (*fresh) {
		sl->key = key;
		sl->id = ++*next;
		t->n++;
	}
	return sl ? sl->id : 0;
}

/* A function is its name and source file: two statics may share a name. */
static uint32_t func_id(struct pp *pp, const char *name, const char *file)
{
	struct pbuf *b = &pp->out;
	uint32_t name_id = str_id(pp, name), file_id = str_id(pp, file), id;
	bool fresh;
	size_t at;

	id = tab_id(pp, &pp->func_ids, (uint64_t)file_id << 32 | name_id,
		    &pp->nfuncs, &fresh);
	if (fresh) {
		at = pb_begin(b, P_FUNCTION);
		pb_uint(b, 1, id);
		pb_uint(b, 2, name_id);
		pb_uint(b, 3, name_id);
		pb_uint(b, 4, file_id);
		pb_end(b, at);
	}
	return id;
}

/* One Line per function at the address: inlined callees first. */
static void put_location(struct pp *pp, uint32_t id, uint32_t map,
			 uint64_t addr, const uint32_t *func,
			 const int *lineno, int n)
{
	struct pbuf *b = &pp->out;
	size_t at = pb_begin(b, P_LOCATION), line;
	int i;

	pb_uint(b, 1, id);
	pb_uint(b, 2, map);
	pb_uint(b, 3, addr);
	for (i = 0; i < n; i++) {
		line = pb_begin(b, 4);
		pb_uint(b, 1, func[i]);
		pb_uint(b, 2, lineno[i] > 0 ? lineno[i] : 0);
		pb_end(b, line);
	}
	pb_end(b, at);
}

/*
 * A frame that is no code address: the allocator, an unknown stack. Its
 * key cannot be an address: bit 63 is never set in a user address.
 */
#define LEAF (1ULL << 63)

/* What a mapping's locations carry: pprof's Mapping.has_* fields. */
enum {
	MF_FUNCTIONS = 1,
	MF_FILENAMES = 2,
	MF_LINES = 4,
	MF_INLINE = 8,	/* from DWARF, which resolves inlined calls */
};

static uint32_t leaf_loc(struct pp *pp, const char *name)
{
	uint32_t func = func_id(pp, name, NULL), id;
	int line = 0;
	bool fresh;

	id = tab_id(pp, &pp->loc_ids, LEAF | func, &pp->nlocs, &fresh);
	if (fresh)
		put_location(pp, id, 0, 0, &func, &line, 1);
	return id;
}

/*
 * ip is a return address: the location is the call before it, which is
 * also what pprof would look up if it symbolized the address itself.
 */
static uint32_t ip_loc(struct pp *pp, uint64_t ip)
{
	struct symbolizer *s = pp->s;
	const struct pmap *pm = pmaps_find(&s->maps, ip - 1);
	uint32_t id, map = 0, func[SYM_MAX_INLINE];
	int line[SYM_MAX_INLINE], n, i, k = 0;
	const struct frame *f;
	bool fresh;

	id = tab_id(pp, &pp->loc_ids, ip - 1, &pp->nlocs, &fresh);
	if (!fresh)
		return id;
	/* one process: --follow-forks refuses --pprof */
	n = profile_frames(pp->p, 0, ip, &f);
	if (pm) {
		size_t mi = pm - s->maps.v;

		if (!pp->map_ids[mi])
			pp->map_ids[mi] = ++pp->nmaps;
		map = pp->map_ids[mi];
		if (f[n - 1].func)
			pp->map_funcs[mi] |= MF_FUNCTIONS;
		if (f[n - 1].file)
			pp->map_funcs[mi] |= MF_FILENAMES | MF_INLINE;
		if (f[n - 1].line > 0)
			pp->map_funcs[mi] |= MF_LINES;
	}
	/* unresolved: mapping and address only, pprof shows module+addr */
	for (i = 0; i < n; i++) {
		if (!f[i].func)
			continue;
		func[k] = func_id(pp, f[i].func, f[i].file);
		line[k++] = f[i].line;
	}
	put_location(pp, id, map, ip - 1, func, line, k);
	return id;
}

static void put_mappings(struct pp *pp)
{
	struct symbolizer *s = pp->s;
	struct pbuf *b = &pp->out;
	size_t i, at;

	for (i = 0; i < s->maps.n; i++) {
		const struct pmap *pm = &s->maps.v[i];
		const struct sym_mod *mod;

		if (!pp->map_ids[i])
			continue;
		mod = symbolizer_module(s, pm);
		at = pb_begin(b, P_MAPPING);
		pb_uint(b, 1, pp->map_ids[i]);
		pb_uint(b, 2, pm->start);
		pb_uint(b, 3, pm->end);
		pb_uint(b, 4, pm->pgoff);
		/* pprof takes "[...]" for a region it cannot symbolize */
		pb_uint(b, 5, str_id(pp, pm->path[0] ? pm->path : "[anon]"));
		if (mod && mod->img)
			pb_uint(b, 6, str_id(pp, mod->img->build_id));
		pb_uint(b, 7, !!(pp->map_funcs[i] & MF_FUNCTIONS));
		pb_uint(b, 8, !!(pp->map_funcs[i] & MF_FILENAMES));
		pb_uint(b, 9, !!(pp->map_funcs[i] & MF_LINES));
		pb_uint(b, 10, !!(pp->map_funcs[i] & MF_INLINE));
		pb_end(b, at);
	}
}

static void put_sample(struct pp *pp, const struct prof_entry *e)
{
	const char *kind = kind_frame(e->key.kind);
	uint64_t locs[HT_MAX_FRAMES + 2], vals[4] = {
		e->agg.live_bytes, e->agg.live_count,
		e->agg.alloc_bytes, e->agg.alloc_count,
	};
	struct pbuf *b = &pp->out;
	size_t at, sub;
	int i, n = 0;

	/* locations first: each is a message of its own in the output */
	locs[n++] = leaf_loc(pp, kind);
	for (i = 0; i < e->nips && i < HT_MAX_FRAMES; i++)
		locs[n++] = e->ips[i] == HT_FRAME_NO_ROWS ?
				    leaf_loc(pp, "[no unwind rows]") :
				    ip_loc(pp, e->ips[i]);
	if (!e->nips)
		locs[n++] = leaf_loc(pp, "[unrecorded stacks]");
	at = pb_begin(b, P_SAMPLE);
	sub = pb_begin(b, 1);
	for (i = 0; i < n; i++)
		pb_varint(b, locs[i]);
	pb_end(b, sub);
	sub = pb_begin(b, 2);
	for (i = 0; i < 4; i++)
		pb_varint(b, vals[i]);
	pb_end(b, sub);
	sub = pb_begin(b, 3);
	pb_uint(b, 1, str_id(pp, "kind"));
	pb_uint(b, 2, str_id(pp, kind_name(e->key.kind)));
	pb_end(b, sub);
	pb_end(b, at);
}

static void put_type(struct pp *pp, int field, const char *type,
		     const char *unit)
{
	size_t at = pb_begin(&pp->out, field);

	pb_uint(&pp->out, 1, str_id(pp, type));
	pb_uint(&pp->out, 2, str_id(pp, unit));
	pb_end(&pp->out, at);
}

/* Comments are "key: value" texts kept in own[] until the end. */
static void put_comment(struct pp *pp, const char *key, const char *val)
{
	size_t len;
	char *text;

	if (!val || pp->nown == sizeof(pp->own) / sizeof(pp->own[0]))
		return;
	len = strlen(key) + strlen(val) + 3;
	text = malloc(len);
	if (!text) {
		pp->out.err = -ENOMEM;
		return;
	}
	snprintf(text, len, "%s: %s", key, val);
	pp->own[pp->nown++] = text;
	pb_uint(&pp->out, P_COMMENT, str_id(pp, text));
}

static int gzip_to(FILE *f, const uint8_t *data, size_t len)
{
	z_stream z = { .next_in = (Bytef *)data, .avail_in = len };
	uint8_t buf[16384];
	size_t have;
	int rc, err = 0;

	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		have = sizeof(buf) - z.avail_out;
		if (fwrite(buf, 1, have, f) != have) {
			err = errno ? -errno : -EIO;	/* ENOSPC says more */
			break;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return err;
}

int pprof_fill(FILE *f, const struct profile *p, struct symbolizer *s,
	       const struct pprof_meta *m)
{
	struct pp pp = { .s = s, .p = p, .strcap = 64 };
	struct pbuf *b = &pp.out;
	char num[96];
	size_t i;
	int err;

	pp.strs = malloc(pp.strcap * sizeof(*pp.strs));
	pp.map_ids = calloc(s->maps.n + 1, sizeof(*pp.map_ids));
	pp.map_funcs = calloc(s->maps.n + 1, sizeof(*pp.map_funcs));
	if (!pp.strs || !pp.map_ids || !pp.map_funcs) {
		err = -ENOMEM;
		goto out;
	}
	pp.strs[pp.nstrs++] = "";
	put_type(&pp, P_SAMPLE_TYPE, "inuse_space", "bytes");
	put_type(&pp, P_SAMPLE_TYPE, "inuse_objects", "count");
	put_type(&pp, P_SAMPLE_TYPE, "alloc_space", "bytes");
	put_type(&pp, P_SAMPLE_TYPE, "alloc_objects", "count");
	put_type(&pp, P_PERIOD_TYPE, "space", "bytes");
	pb_uint(b, P_PERIOD, 1);
	pb_uint(b, P_DEFAULT_TYPE, str_id(&pp, "inuse_space"));
	if (m) {
		pb_uint(b, P_TIME, m->time_ns);
		pb_uint(b, P_DURATION, m->duration_ns);
		snprintf(num, sizeof(num), "%d", (int)m->pid);
		put_comment(&pp, "pid", num);
		put_comment(&pp, "comm", m->comm);
		put_comment(&pp, "cmdline", m->cmdline);
		snprintf(num, sizeof(num), "%g s", m->interval_s);
		if (m->interval_s > 0)
			put_comment(&pp, "interval", num);
		snprintf(num, sizeof(num),
			 "one per %" PRIu64 " bytes on average; values are estimates",
			 m->sample_bytes);
		if (m->sample_bytes)
			put_comment(&pp, "sampled", num);
		/* excludes --sample: still at most five comments */
		if (m->faults)
			put_comment(&pp, "mode",
				    "page faults: objects are anonymous pages first written, 4096 bytes each");
		else if (m->kernel)
			put_comment(&pp, "mode",
				    "kernel: kmalloc, kmem_cache and page allocations by kernel stack, bytes as allocated");
	}
	/* every stack with activity: one that freed all it allocated has
	 * inuse 0 and its alloc_space and alloc_objects, as in Go's */
	for (i = 0; i < p->n; i++)
		put_sample(&pp, &p->v[i]);
	put_mappings(&pp);
	/* last, when every string is in: the table is its order in the file */
	for (i = 0; i < pp.nstrs; i++)
		pb_bytes(b, P_STRING, pp.strs[i], strlen(pp.strs[i]));
	err = b->err ? b->err : gzip_to(f, b->p, b->len);
out:
	while (pp.nown)
		free(pp.own[--pp.nown]);
	free(pp.str_ids.v);
	free(pp.func_ids.v);
	free(pp.loc_ids.v);
	free(pp.map_ids);
	free(pp.map_funcs);
	free(pp.strs);
	free(b->p);
	return err;
}

struct fill_arg {
	const struct profile *p;
	struct symbolizer *s;
	const struct pprof_meta *m;
};

static int fill(FILE *f, void *arg)
{
	struct fill_arg *a = arg;

	return pprof_fill(f, a->p, a->s, a->m);
}

int pprof_write(const char *path, const struct profile *p,
		struct symbolizer *s, const struct pprof_meta *m)
{
	struct fill_arg a = { p, s, m };

	return atomic_write(path, fill, &a);
}
