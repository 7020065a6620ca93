// SPDX-License-Identifier: GPL-2.0
/*
 * Reclaim of stacks that hold nothing. Why no byte is lost or put on the
 * wrong stack, although the probes keep running:
 *
 * A probe takes a stack id (capture_stack) and then a pointer to one of
 * its aggregates, and writes through it later. A write through a pointer
 * to a deleted aggregate would be lost. So a pass lists the ids it means
 * to delete in the BPF map doomed, sets reclaim_phase and waits for an
 * RCU grace period: every probe that ran without seeing the phase has
 * ended, its writes are in the aggregates. From then on a probe that
 * meets a listed id marks it used and writes into the ledger, never into
 * the aggregates. A second read of what changed (aggsync) then tells
 * which listed ids changed before the phase; the others, unless marked
 * used, are deleted: aggregates and frames. Then the phase ends and a
 * second grace period passes: nothing writes the ledger any more. An id
 * used meanwhile gets its frames back (the id is a hash of them: the
 * same id names the same frames), and the ledger is added into the
 * aggregates by a BPF program the loader runs (atomic adds, as the probes
 * make). A free that finds its aggregate deleted makes it afresh, so a
 * ledger entry added later still sums right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heaptrail.skel.h"
#include "reclaim.h"
#include "util.h"

#define BATCH_MAX 16384	/* stacks listed per pass, at most */

void reclaim_size(struct heaptrail_bpf *skel, unsigned long max_stacks)
{
	unsigned long batch = max_stacks < BATCH_MAX ? max_stacks : BATCH_MAX;

	bpf_map__set_max_entries(skel->maps.doomed, batch);
	/* one entry per listed stack and kind: it cannot fill */
	bpf_map__set_max_entries(skel->maps.ledger, batch * HT_NKINDS);
}

int reclaim_init(struct reclaim *r, struct heaptrail_bpf *skel)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	const char *hold;
	__u32 zero = 0;

	memset(r, 0, sizeof(*r));
	r->skel = skel;
	r->batch = bpf_map__max_entries(skel->maps.doomed);
	r->fill.max[HT_F_STACKS] = bpf_map__max_entries(skel->maps.stacks);
	r->fill.max[HT_F_AGGS] = bpf_map__max_entries(skel->maps.aggs);
	r->fill.max[HT_F_ALLOCS] = bpf_map__max_entries(skel->maps.allocs);
	r->fill.max[HT_F_MAPPINGS] = bpf_map__max_entries(skel->maps.mappings);
	r->sync_fd = r->inner_fd = -1;
	hold = getenv("HEAPTRAIL_RECLAIM_HOLD_MS");
	r->hold_ms = hold ? strtoul(hold, NULL, 10) : 0;
	r->inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ht_rcu_inner", 4, 4,
				     1, NULL);
	if (r->inner_fd < 0)
		return -errno;
	o.inner_map_fd = r->inner_fd;
	r->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "ht_rcu_sync",
				    4, 4, 1, &o);
	if (r->sync_fd < 0)
		return -errno;
	if (bpf_map_update_elem(r->sync_fd, &zero, &r->inner_fd, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Wait until every BPF program running now has ended: the kernel waits
 * for an RCU grace period after each update of an array of maps, so that
 * no program still sees the old inner map.
 */
static int grace_period(struct reclaim *r)
{
	__u32 zero = 0;

	return bpf_map_update_elem(r->sync_fd, &zero, &r->inner_fd, BPF_ANY) ?
		       -errno : 0;
}

static int run_prog(struct bpf_program *p, void *ctx, size_t len, int *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = len);

	if (bpf_prog_test_run_opts(bpf_program__fd(p), &o))
		return -errno;
	*ret = o.retval;
	return 0;
}

int reclaim_read_fill(struct reclaim *r)
{
	int err, ret = 1, i;

	err = run_prog(r->skel->progs.fill_levels, NULL, 0, &ret);
	r->fill.known = !err && !ret;
	for (i = 0; i < HT_NFILLS; i++)
		r->fill.n[i] = r->fill.known ? r->skel->bss->map_fill[i] : 0;
	return err;
}

bool reclaim_due(struct reclaim *r)
{
	const struct map_fill *f = &r->fill;

	if (!r->skel)
		return false;
	if (reclaim_read_fill(r) || !f->known)
		return true;	/* blind: a pass finds what it finds */
	return 2 * f->n[HT_F_STACKS] >= f->max[HT_F_STACKS] ||
	       2 * f->n[HT_F_AGGS] >= f->max[HT_F_AGGS];
}

/* An aggregate of the copy, and whether it bars its stack's reclaim. */
struct cand {
	struct ht_agg_key key;
	bool busy;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->key.stack != y->key.stack)
		return x->key.stack < y->key.stack ? -1 : 1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool in_set(const uint64_t *v, size_t n, uint64_t x)
{
	return n && bsearch(&x, v, n, sizeof(*v), cmp_u64);
}

bool reclaim_gone(void *ctx, uint64_t stack)
{
	const struct reclaim *r = ctx;

	return in_set(r->gone, r->ngone, stack);
}

static bool deleted(void *ctx, uint64_t stack)
{
	const struct reclaim *r = ctx;

	return in_set(r->deleted, r->ndel, stack);
}

/* A listed stack: its aggregates in c[first..first+n), its frames. */
struct doom {
	uint64_t stack;
	size_t first, n;
	bool touched;		/* changed before the phase: kept */
	bool del;		/* deleted in the phase */
	struct ht_stack frames;
	bool had_frames;
};

static int cmp_doom(const void *a, const void *b)
{
	return cmp_u64(&((const struct doom *)a)->stack,
		       &((const struct doom *)b)->stack);
}

/*
 * The copy's stacks whose every aggregate holds nothing and has not
 * changed for two whole sample intervals (one that allocates and frees
 * now and then keeps its history): in *d, sorted by stack.
 */
static int pick(struct reclaim *r, const struct aggsync *agg,
		struct cand **cv, struct doom **dv, size_t *nd)
{
	uint32_t gen = *agg->gen;
	struct cand *c = malloc((agg->n + 1) * sizeof(*c));
	struct doom *d = NULL;
	size_t i, j, n = 0, cap = 0;

	*cv = c;
	*nd = 0;
	if (!c)
		return -ENOMEM;
	for (i = 0; i < agg->n; i++) {
		const struct ht_agg *a = &agg->v[i];

		c[i].key = a->key;
		c[i].busy = !a->key.stack || a->live_bytes || a->live_count ||
			    (uint32_t)(gen - a->gen) < 3;
	}
	qsort(c, agg->n, sizeof(*c), cmp_cand);
	for (i = 0; i < agg->n && n < r->batch; i = j) {
		bool busy = false;

		for (j = i; j < agg->n && c[j].key.stack == c[i].key.stack; j++)
			busy |= c[j].busy;
		if (busy)
			continue;
		if (grow(&d, n, &cap, sizeof(*d))) {
			free(d);
			return -ENOMEM;
		}
		memset(&d[n], 0, sizeof(d[n]));
		d[n].stack = c[i].key.stack;
		d[n].first = i;
		d[n++].n = j - i;
	}
	*dv = d;
	*nd = n;
	return 0;
}

static struct doom *find_doom(struct doom *d, size_t n, uint64_t stack)
{
	struct doom k = { .stack = stack };

	return n ? bsearch(&k, d, n, sizeof(*d), cmp_doom) : NULL;
}

/* Add every ledger entry into the aggregates (after the phase). */
static int fold_ledger(struct reclaim *r)
{
	int fd = bpf_map__fd(r->skel->maps.ledger), ret, err = 0;
	struct ht_agg_key *keys = NULL, k, *prev = NULL;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		if (grow(&keys, n, &cap, sizeof(*keys))) {
			free(keys);
			return -ENOMEM;
		}
		keys[n++] = k;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n && !err; i++)
		err = run_prog(r->skel->progs.ledger_fold, &keys[i],
			       sizeof(keys[i]), &ret);
	free(keys);
	return err;
}

int reclaim_pass(struct reclaim *r, struct aggsync *agg)
{
	int doomed_fd = bpf_map__fd(r->skel->maps.doomed);
	int aggs_fd = bpf_map__fd(r->skel->maps.aggs);
	int stacks_fd = bpf_map__fd(r->skel->maps.stacks);
	struct cand *c = NULL;
	struct doom *d = NULL;
	size_t nd, i, j;
	__u32 zero = 0, used;
	int err, gp_err = 0;

	r->ngone = r->ndel = 0;
	err = pick(r, agg, &c, &d, &nd);
	if (err || !nd)
		goto out;
	r->fill.passes++;
	for (i = 0; i < nd; i++)
		if (bpf_map_update_elem(doomed_fd, &d[i].stack, &zero, BPF_ANY)) {
			err = -errno;
			goto clear;
		}
	__atomic_store_n(&r->skel->bss->reclaim_phase, 1, __ATOMIC_SEQ_CST);
	err = grace_period(r);
	if (err)
		goto end_phase;
	/* what changed before the phase is in the aggregates now */
	err = aggsync_update(agg);
	if (err)
		goto end_phase;
	for (i = 0; i < agg->nchg; i++) {
		struct doom *x = find_doom(d, nd, agg->chg[i].key.stack);

		if (x)
			x->touched = true;
	}
	for (i = 0; i < nd; i++) {
		struct doom *x = &d[i];

		if (x->touched ||
		    bpf_map_lookup_elem(doomed_fd, &x->stack, &used) || used)
			continue;
		for (j = 0; j < x->n; j++)
			bpf_map_delete_elem(aggs_fd, &c[x->first + j].key);
		x->del = true;
		x->had_frames = !bpf_map_lookup_and_delete_elem(
			stacks_fd, &x->stack, &x->frames);
	}
	if (r->hold_ms)
		usleep(r->hold_ms * 1000);
end_phase:
	__atomic_store_n(&r->skel->bss->reclaim_phase, 0, __ATOMIC_SEQ_CST);
	gp_err = grace_period(r);
	if (!err)
		err = gp_err;
	/* nothing writes the ledger or marks doomed now */
	for (i = 0; i < nd; i++) {
		struct doom *x = &d[i];

		if (!x->del)
			continue;
		if (grow(&r->deleted, r->ndel, &r->dcap, sizeof(*r->deleted))) {
			err = -ENOMEM;
			break;
		}
		r->deleted[r->ndel++] = x->stack;
		if (!bpf_map_lookup_elem(doomed_fd, &x->stack, &used) && used) {
			/* taken while it went: the same frames again */
			if (x->had_frames)
				bpf_map_update_elem(stacks_fd, &x->stack,
						    &x->frames, BPF_NOEXIST);
			r->fill.kept++;
			continue;
		}
		if (grow(&r->gone, r->ngone, &r->gcap, sizeof(*r->gone))) {
			err = -ENOMEM;
			break;
		}
		r->gone[r->ngone++] = x->stack;
		r->fill.reclaimed++;
	}
	/* whatever failed before, what the phase wrote there must count */
	if (!gp_err) {
		int ferr = fold_ledger(r);

		if (!err)
			err = ferr;
	}
	/* d is sorted by stack: so are both lists */
	if (!err)
		err = aggsync_forget(agg, deleted, r);
clear:
	for (i = 0; i < nd; i++)
		bpf_map_delete_elem(doomed_fd, &d[i].stack);
out:
	free(c);
	free(d);
	return err;
}

void reclaim_free(struct reclaim *r)
{
	if (r->sync_fd >= 0)
		close(r->sync_fd);
	if (r->inner_fd >= 0)
		close(r->inner_fd);
	free(r->gone);
	free(r->deleted);
	memset(r, 0, sizeof(*r));
	r->sync_fd = r->inner_fd = -1;
}
