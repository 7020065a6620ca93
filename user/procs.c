// SPDX-License-Identifier: GPL-2.0
/* --follow-forks: the traced processes as the reports name them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "heaptrail.h"
#include "procs.h"

static void add_live(struct prof_totals *t, const struct ht_agg *a)
{
	t->live_bytes += a->live_bytes;
	t->live_count += a->live_count;
	t->alloc_bytes += a->alloc_bytes;
	t->alloc_count += a->alloc_count;
	t->free_bytes += a->free_bytes;
	t->free_count += a->free_count;
}

int procs_sync(struct proc_table *t, int procs_fd, uint32_t nslots,
	       uint64_t untracked, pid_t pid, const char *comm,
	       uint64_t attach_ns)
{
	struct proc_info *v;
	struct ht_proc bp;
	uint32_t i;

	if (nslots > HT_MAX_PROCS)
		nslots = HT_MAX_PROCS;
	if (nslots < 1)
		nslots = 1;
	if (nslots > t->n) {
		v = realloc(t->v, nslots * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + t->n, 0, (nslots - t->n) * sizeof(*v));
		t->v = v;
		t->n = nslots;
	}
	t->untracked = untracked;
	t->v[0].pid = pid;
	snprintf(t->v[0].comm, sizeof(t->v[0].comm), "%s", comm);
	for (i = 1; i < nslots; i++) {
		struct proc_info *p = &t->v[i];

		/* an ended slot is not written again: keep what we have */
		if (p->ended || bpf_map_lookup_elem(procs_fd, &i, &bp))
			continue;
		p->pid = bp.pid;
		p->parent = bp.parent;
		p->foreign = bp.foreign;
		p->joined = bp.joined;
		memcpy(p->comm, bp.comm, sizeof(p->comm));
		p->comm[sizeof(p->comm) - 1] = 0;
		p->begin_s = bp.begin_ns > attach_ns ?
				     (bp.begin_ns - attach_ns) / 1e9 : 0;
		if (bp.end_ns) {
			p->gone = true;
			p->execd = bp.execd;
			p->wstatus = bp.exit_code;
			p->end_s = bp.end_ns > attach_ns ?
					   (bp.end_ns - attach_ns) / 1e9 : 0;
		}
	}
	return 0;
}

void procs_ended(struct proc_table *t, uint32_t slot,
		 const struct prof_totals *held)
{
	if (slot >= t->n)
		return;
	t->v[slot].ended = true;
	t->v[slot].held = *held;
	/* its stacks went with it */
	if (t->v[slot].sym) {
		symbolizer_free(t->v[slot].sym);
		free(t->v[slot].sym);
		t->v[slot].sym = NULL;
	}
}

void procs_tally(struct proc_table *t, const struct profile *p)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		memset(&t->v[i].live, 0, sizeof(t->v[i].live));
	for (i = 0; i < p->n; i++)
		if (p->v[i].key.proc < t->n)
			add_live(&t->v[p->v[i].key.proc].live, &p->v[i].agg);
}

pid_t proc_pid(const struct proc_table *t, uint32_t slot)
{
	return slot < t->n ? t->v[slot].pid : -1;
}

const char *proc_frame(const struct proc_table *t, uint32_t slot, char *buf,
		       size_t len)
{
	if (slot < t->n && t->v[slot].pid)
		snprintf(buf, len, "[pid %d %s]", t->v[slot].pid,
			 t->v[slot].comm);
	else
		snprintf(buf, len, "[process %u]", slot);
	return buf;
}

struct symbolizer *procs_sym(const struct proc_table *t, uint32_t slot,
			     struct symbolizer *dflt)
{
	if (!t || slot >= t->n || !t->v[slot].sym)
		return dflt;
	return t->v[slot].sym;
}

void procs_free(struct proc_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].sym)
			symbolizer_free(t->v[i].sym);
		free(t->v[i].sym);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
