// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolized once: a report's writers share one table of return address
 * to frames, filled as they ask, so that a frame common to many stacks
 * (main, the allocator's callers) is named once per report, and every
 * writer names it alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procs.h"
#include "profile.h"
#include "stacksyms.h"
#include "symbolize.h"

struct pc_slot {
	uint64_t pc;
	struct frame *v;	/* NULL: empty slot */
	int n;
};

struct pc_syms {
	struct symbolizer *s;
	struct pc_slot *slot;
	size_t cap, n;		/* cap: a power of two, at most half full */
	struct frame unknown;	/* when memory runs out: the address alone */
};

static size_t hash(uint64_t pc, size_t cap)
{
	return (pc * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

static struct pc_slot *find(struct pc_syms *t, uint64_t pc)
{
	size_t i = hash(pc, t->cap);

	while (t->slot[i].v && t->slot[i].pc != pc)
		i = (i + 1) & (t->cap - 1);
	return &t->slot[i];
}

static int rehash(struct pc_syms *t)
{
	struct pc_slot *old = t->slot;
	size_t ocap = t->cap, i;

	t->cap = ocap ? ocap * 2 : 1024;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		t->cap = ocap;
		return -ENOMEM;
	}
	for (i = 0; i < ocap; i++)
		if (old[i].v)
			*find(t, old[i].pc) = old[i];
	free(old);
	return 0;
}

int profile_symbolize(struct profile *p, struct symbolizer *s)
{
	struct pc_syms *t = calloc(1, sizeof(*t));

	if (!t || rehash(t)) {
		free(t);
		return -ENOMEM;
	}
	t->s = s;
	pc_syms_free(p->syms);
	p->syms = t;
	/* names from a JIT's perf map stay valid until its next reload */
	symbolizer_reload_jit(s);
	return 0;
}

int profile_frames(const struct profile *p, uint32_t slot, uint64_t pc,
		   const struct frame **v)
{
	struct pc_syms *t = p->syms;
	struct frame f[SYM_MAX_INLINE];
	struct symbolizer *s = procs_sym(p->procs, slot, t->s);
	uint64_t key = pc;
	struct pc_slot *sl;
	int n;

	/* another program's address: its own entry (slot above the 47
	 * address bits) */
	if (s != t->s)
		key |= (uint64_t)slot << HT_SLOT_SHIFT;
	sl = find(t, key);
	if (sl->v) {
		*v = sl->v;
		return sl->n;
	}
	n = symbolizer_frames(s, pc, true, f, SYM_MAX_INLINE);
	if ((t->n + 1) * 2 > t->cap && rehash(t) == 0)
		sl = find(t, key);
	if ((t->n + 1) * 2 > t->cap ||
	    !(sl->v = malloc(n * sizeof(*f)))) {
		t->unknown = f[n - 1];	/* unnamed inlines, but a frame */
		*v = &t->unknown;
		return 1;
	}
	memcpy(sl->v, f, n * sizeof(*f));
	sl->pc = key;
	sl->n = n;
	t->n++;
	*v = sl->v;
	return n;
}

void pc_syms_free(struct pc_syms *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->slot[i].v);
	free(t->slot);
	free(t);
}
