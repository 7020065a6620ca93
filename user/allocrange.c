// SPDX-License-Identifier: GPL-2.0
/*
 * The allocator's own code in the target: what it maps from there
 * (jemalloc's extents, tcmalloc's spans, glibc's arenas) is reserved by
 * the allocator, not mapped by the program (bpf: walked_in_alloc).
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "allocrange.h"
#include "attach.h"

static void add(struct alloc_ranges *r, uint64_t lo, uint64_t hi)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].lo <= lo && hi <= r->v[i].hi)
			return;
	if (r->n < HT_ALLOC_RANGES && lo < hi) {
		r->v[r->n].lo = lo;
		r->v[r->n].hi = hi;
		r->n++;
	}
}

void alloc_ranges_add_func(struct alloc_ranges *r, const struct pmap *p,
			   const struct pmaps *maps, const struct elf_img *img,
			   uint64_t vaddr)
{
	const struct elf_sym *sym = elf_img_sym_at(img, vaddr);
	uint64_t off;
	size_t i;

	if (!sym || sym->addr != vaddr || !sym->size ||
	    elf_img_vaddr_to_off(img, vaddr, &off))
		return;
	for (i = 0; i < maps->n; i++) {
		const struct pmap *pm = &maps->v[i];

		if (pm->inode != p->inode || pm->dev_major != p->dev_major ||
		    pm->dev_minor != p->dev_minor || !pm->exec ||
		    off < pm->pgoff || off >= pm->pgoff + (pm->end - pm->start))
			continue;
		add(r, pm->start + off - pm->pgoff,
		    pm->start + off - pm->pgoff + sym->size);
		return;
	}
}

void alloc_ranges_find(struct symbolizer *sym, struct alloc_ranges *out)
{
	const struct pmap *lp = find_allocator(&sym->maps);
	const struct sym_mod *m = lp ? symbolizer_module(sym, lp) : NULL;
	uint64_t vaddr;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!lp)
		return;
	if (lp != find_libc(&sym->maps)) {
		for (i = 0; i < sym->maps.n; i++) {
			const struct pmap *pm = &sym->maps.v[i];

			if (pm->inode == lp->inode &&
			    pm->dev_major == lp->dev_major &&
			    pm->dev_minor == lp->dev_minor && pm->exec)
				add(out, pm->start, pm->end);
		}
		return;
	}
	if (m && m->img && !elf_img_sym_addr(m->img, "free", &vaddr))
		alloc_ranges_add_func(out, lp, &sym->maps, m->img, vaddr);
}

int alloc_ranges_write(int map_fd, volatile uint32_t *bpf_n,
		       struct alloc_ranges *cur, const struct alloc_ranges *now)
{
	uint32_t i, keep = 0;

	while (keep < cur->n && keep < now->n &&
	       !memcmp(&cur->v[keep], &now->v[keep], sizeof(now->v[0])))
		keep++;
	if (keep == now->n && keep == cur->n)
		return 0;
	/* ranges BPF may be reading are changed only out of its sight */
	__atomic_store_n(bpf_n, keep, __ATOMIC_SEQ_CST);
	for (i = keep; i < now->n; i++)
		if (bpf_map_update_elem(map_fd, &i, &now->v[i], BPF_ANY))
			return -errno;
	__atomic_store_n(bpf_n, now->n, __ATOMIC_SEQ_CST);
	*cur = *now;
	return 0;
}

static bool in_ranges(const struct alloc_ranges *r, uint64_t pc)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (pc > r->v[i].lo && pc <= r->v[i].hi)
			return true;
	return false;
}

/* Add sign x the mapping v to the aggregate of key k (made if missing). */
static int agg_move(int aggs_fd, const struct ht_agg_key *k,
		    const struct ht_alloc *v, int sign)
{
	struct ht_agg a = { .key = *k };

	if (bpf_map_lookup_elem(aggs_fd, k, &a) && sign < 0)
		return -ENOENT;
	a.live_bytes += sign * (int64_t)v->size;
	a.live_count += sign;
	a.alloc_bytes += sign * (int64_t)v->size;
	a.alloc_count += sign;
	a.ts_sum_ms += sign * (int64_t)(v->ts / 1000000);
	return bpf_map_update_elem(aggs_fd, k, &a, BPF_ANY) ? -errno : 0;
}

int alloc_ranges_reclaim_early(int early_fd, int mappings_fd, int aggs_fd,
			       uint32_t image, const struct alloc_ranges *r)
{
	uint64_t key, next, ra, *prev = NULL;
	struct ht_agg_key from, to = { .stack = 0, .kind = HT_ARENA,
				       .image = image };
	struct ht_alloc v;
	int moved = 0, err = 0;

	while (!err && !bpf_map_get_next_key(early_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(early_fd, &key, &ra) ||
		    !in_ranges(r, ra) ||
		    bpf_map_lookup_elem(mappings_fd, &key, &v) ||
		    v.kind != HT_MMAP)
			continue;
		from = (struct ht_agg_key){ .stack = v.stack, .kind = HT_MMAP,
					    .image = image };
		err = agg_move(aggs_fd, &from, &v, -1);
		if (err)
			break;
		err = agg_move(aggs_fd, &to, &v, 1);
		v.kind = HT_ARENA;
		v.stack = 0;
		if (!err && bpf_map_update_elem(mappings_fd, &key, &v, BPF_EXIST))
			err = -errno;
		moved += !err;
	}
	/* the notes served their one gate: a later mapping may reuse an
	 * address */
	prev = NULL;
	while (!bpf_map_get_next_key(early_fd, NULL, &next))
		if (bpf_map_delete_elem(early_fd, &next))
			break;
	return err ? err : moved;
}
