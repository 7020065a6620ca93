// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel symbols from /proc/kallsyms: "ADDRESS TYPE NAME [MODULE]" per
 * line. Only text symbols are kept (a stack holds code addresses), in one
 * sorted array searched by binary search.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "util.h"

/* Append s (and its NUL) to the name blob: its offset, or -ENOMEM. */
static long add_name(struct ksyms *k, const char *s, size_t len)
{
	size_t off = k->nlen;

	while (k->nlen + len + 1 > k->ncap) {
		size_t cap = k->ncap ? k->ncap * 2 : 1 << 20;
		char *v = realloc(k->names, cap);

		if (!v)
			return -ENOMEM;
		k->names = v;
		k->ncap = cap;
	}
	memcpy(k->names + off, s, len);
	k->names[off + len] = '\0';
	k->nlen += len + 1;
	return off;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The module of the line before: modules' lines come together. */
struct prev_mod {
	char name[64];
	long off;	/* -1: none yet */
};

static int parse_line(struct ksyms *k, char *line, struct prev_mod *pm)
{
	char *type, *name, *mod, *end;
	uint64_t addr;
	long off;

	addr = strtoull(line, &end, 16);
	if (end == line || *end != ' ')
		return 0;
	type = end + 1;
	if (!*type || !strchr("tTwW", *type) || type[1] != ' ')
		return 0;
	name = type + 2;
	name[strcspn(name, "\n")] = '\0';
	mod = strchr(name, '\t');
	if (mod) {
		*mod++ = '\0';
		mod += strspn(mod, "[");
		mod[strcspn(mod, "]")] = '\0';
	}
	if (!mod || !*mod)
		mod = "kernel";
	if (pm->off < 0 || strcmp(pm->name, mod)) {
		pm->off = add_name(k, mod, strlen(mod));
		if (pm->off < 0)
			return pm->off;
		snprintf(pm->name, sizeof(pm->name), "%s", mod);
	}
	off = add_name(k, name, strlen(name));
	if (off < 0)
		return off;
	if (grow(&k->v, k->n, &k->cap, sizeof(*k->v)))
		return -ENOMEM;
	k->v[k->n++] = (struct ksym){ addr, off, pm->off };
	return 0;
}

int ksyms_load(struct ksyms *k, const char *path)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "re");
	struct prev_mod pm = { .off = -1 };
	char line[512];
	size_t nonzero = 0, i;
	int err = 0;

	memset(k, 0, sizeof(*k));
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f))
		err = parse_line(k, line, &pm);
	fclose(f);
	if (err) {
		ksyms_free(k);
		return err;
	}
	for (i = 0; i < k->n; i++)
		nonzero += k->v[i].addr != 0;
	/* kptr_restrict shows every address as 0 to those it hides them from */
	if (!nonzero) {
		ksyms_free(k);
		return -EPERM;
	}
	qsort(k->v, k->n, sizeof(*k->v), cmp_addr);
	return 0;
}

#define KSYM_MAX_SIZE (1UL << 20)	/* larger than any kernel function */

const struct ksym *ksyms_find(const struct ksyms *k, uint64_t pc)
{
	size_t lo = 0, hi = k->n;

	/* the first symbol above pc; the one before it holds pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->v[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* kallsyms gives no sizes: an address far past the last symbol
	 * below it (a BPF program loaded since, in the module area above
	 * _einittext) is in none of them */
	if (!lo || !k->v[lo - 1].addr || pc - k->v[lo - 1].addr > KSYM_MAX_SIZE)
		return NULL;
	return &k->v[lo - 1];
}

int ksyms_range(const struct ksyms *k, const char *name, uint64_t *lo,
		uint64_t *hi)
{
	size_t i;

	for (i = 0; i + 1 < k->n; i++)
		if (k->v[i].addr && !strcmp(ksym_name(k, &k->v[i]), name) &&
		    !strcmp(ksym_module(k, &k->v[i]), "kernel")) {
			*lo = k->v[i].addr;
			*hi = k->v[i + 1].addr;
			return 0;
		}
	return -ENOENT;
}

void ksyms_free(struct ksyms *k)
{
	free(k->v);
	free(k->names);
	memset(k, 0, sizeof(*k));
}
