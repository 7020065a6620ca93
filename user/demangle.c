// SPDX-License-Identifier: GPL-2.0
/* C++ demangling through libstdc++'s own demangler. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"

/* from libstdc++ (cxxabi.h is a C++ header) */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
			    int *status);

struct dm_slot {
	const char *raw;	/* NULL: free */
	char *out;		/* NULL: not a mangled name */
};

static size_t slot_of(const struct demangler *d, const char *raw)
{
	return ((uintptr_t)raw * 0x9e3779b97f4a7c15ULL >> 32) & (d->cap - 1);
}

static struct dm_slot *lookup(struct demangler *d, const char *raw)
{
	size_t i;

	for (i = slot_of(d, raw); d->v[i].raw; i = (i + 1) & (d->cap - 1))
		if (d->v[i].raw == raw)
			break;
	return &d->v[i];
}

/* Keep the load under half so probes stay short. */
static int grow(struct demangler *d)
{
	struct demangler n = { .cap = d->cap ? d->cap * 2 : 256, .n = d->n };
	size_t i;

	if (2 * (d->n + 1) <= d->cap)
		return 0;
	n.v = calloc(n.cap, sizeof(*n.v));
	if (!n.v)
		return -1;
	for (i = 0; i < d->cap; i++)
		if (d->v[i].raw)
			*lookup(&n, d->v[i].raw) = d->v[i];
	free(d->v);
	d->v = n.v;
	d->cap = n.cap;
	return 0;
}

const char *demangle(struct demangler *d, const char *name)
{
	struct dm_slot *s;
	int status;

	if (d->off || !name || name[0] != '_' || name[1] != 'Z' || grow(d))
		return name;
	s = lookup(d, name);
	if (!s->raw) {
		s->raw = name;
		s->out = __cxa_demangle(name, NULL, NULL, &status);
		d->n++;
	}
	return s->out ? s->out : name;
}

void demangler_free(struct demangler *d)
{
	size_t i;

	for (i = 0; i < d->cap; i++)
		free(d->v[i].out);
	free(d->v);
	d->v = NULL;
	d->cap = d->n = 0;
}

bool cxx_allocator(const char *m)
{
	/* _Znwm operator new, _Znam new[], _ZdlPv delete, _ZdaPv delete[];
	 * the sized, aligned and nothrow forms only add parameters */
	return m && (!strncmp(m, "_Znw", 4) || !strncmp(m, "_Zna", 4) ||
		     !strncmp(m, "_Zdl", 4) || !strncmp(m, "_Zda", 4));
}
