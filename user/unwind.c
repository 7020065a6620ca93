// SPDX-License-Identifier: GPL-2.0
/*
 * Flatten a module's call frame information into sorted rows that the BPF
 * walker can binary-search: for each code range, where the CFA is (rsp or
 * rbp plus an offset) and where the caller's rbp was saved. The return
 * address is always at CFA - 8 on x86-64. libdw decodes the CFI.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "safeopen.h"
#include "symbolize.h"
#include "unwind.h"

#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RA 16

static int push_row(struct unwind_table *t, const struct ht_urow *r,
		    size_t first)
{
	if (t->nrows > first) {
		struct ht_urow *last = &t->rows[t->nrows - 1];

		/* identical rule: the previous row already covers it */
		if (last->cfa_reg == r->cfa_reg && last->cfa_off == r->cfa_off &&
		    last->bp_saved == r->bp_saved && last->bp_off == r->bp_off)
			return 0;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct ht_urow *v = realloc(t->rows, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->rows = v;
		t->cap = cap;
	}
	t->rows[t->nrows++] = *r;
	return 0;
}

/*
 * The walker reads the return address at CFA - 8. Anything else (an
 * undefined RA marks the outermost frame, e.g. _start; signal frames use
 * expressions) ends the stack rather than yield a made-up caller.
 */
static bool ra_at_cfa_minus_8(Dwarf_Frame *fr)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(fr, DW_REG_RA, mem, &ops, &nops) || nops != 2)
		return false;
	return ops[0].atom == DW_OP_call_frame_cfa &&
	       (ops[1].atom == DW_OP_consts || ops[1].atom == DW_OP_plus_uconst) &&
	       (int64_t)ops[1].number == -8;
}

static void frame_row(Dwarf_Frame *fr, struct ht_urow *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	uint64_t reg;
	int64_t off;

	r->cfa_reg = HT_CFA_STOP;
	if (!ra_at_cfa_minus_8(fr))
		return;
	if (dwarf_frame_cfa(fr, &ops, &nops) || nops != 1)
		return;
	if (ops[0].atom == DW_OP_bregx) {
		reg = ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return;
	}
	if (off < INT16_MIN || off > INT16_MAX)
		return;
	if (reg == DW_REG_RSP)
		r->cfa_reg = HT_CFA_SP;
	else if (reg == DW_REG_RBP)
		r->cfa_reg = HT_CFA_BP;
	else
		return;
	r->cfa_off = (int16_t)off;

	if (dwarf_frame_register(fr, DW_REG_RBP, mem, &ops, &nops) || !nops)
		return;	/* same value or undefined: rbp stays */
	if (ops[0].atom != DW_OP_call_frame_cfa ||
	    ops[nops - 1].atom == DW_OP_stack_value)
		return;
	r->bp_saved = 1;
	if (nops >= 2 && ops[1].atom == DW_OP_plus_uconst)
		r->bp_off = (int16_t)(int64_t)ops[1].number;
	else if (nops >= 2 && ops[1].atom == DW_OP_consts)
		r->bp_off = (int16_t)(int64_t)ops[1].number;
}

/* The frame at a from .eh_frame, else from .debug_frame. */
static int frame_at(Dwarf_CFI *eh, Dwarf_CFI *dbg, uint64_t a,
		    Dwarf_Frame **fr)
{
	*fr = NULL;
	if (eh && !dwarf_cfi_addrframe(eh, a, fr) && *fr)
		return 0;
	free(*fr);
	*fr = NULL;
	if (dbg && !dwarf_cfi_addrframe(dbg, a, fr) && *fr)
		return 0;
	free(*fr);
	*fr = NULL;
	return -1;
}

static int add_range(struct unwind_table *t, Dwarf_CFI *cfi, Dwarf_CFI *dbg,
		     uint64_t lo, uint64_t hi, size_t first)
{
	uint64_t a = lo;
	int err;

	while (a < hi) {
		struct ht_urow r = { .pc = (uint32_t)a };
		Dwarf_Frame *fr = NULL;
		Dwarf_Addr s, e;

		if (frame_at(cfi, dbg, a, &fr) ||
		    dwarf_frame_info(fr, &s, &e, NULL) < 0 || e <= a) {
			free(fr);
			/* uncovered: stop walking there; probe ahead by 16 */
			r.cfa_reg = HT_CFA_STOP;
			err = push_row(t, &r, first);
			if (err)
				return err;
			a = (a + 16) & ~15ULL;
			if (a >= hi)
				break;
			continue;
		}
		frame_row(fr, &r);
		free(fr);
		err = push_row(t, &r, first);
		if (err)
			return err;
		a = e;
	}
	return 0;
}

static struct unwind_file *find_file(struct unwind_table *t, unsigned int maj,
				     unsigned int min, uint64_t inode)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].inode == inode && t->files[i].maj == maj &&
		    t->files[i].min == min)
			return &t->files[i];
	return NULL;
}

static bool skipped(const struct unwind_table *t, unsigned int maj,
		    unsigned int min, uint64_t inode)
{
	size_t i;

	for (i = 0; i < t->nskipped; i++)
		if (t->skipped[i].inode == inode && t->skipped[i].maj == maj &&
		    t->skipped[i].min == min)
			return true;
	return false;
}

int unwind_add_file(struct unwind_table *t, const char *path, unsigned int maj,
		    unsigned int min, uint64_t inode)
{
	size_t first = t->nrows, nph, i;
	Dwarf_CFI *cfi, *dbg = NULL;
	Dwarf *dw = NULL;
	struct stat st;
	Elf *elf;
	int fd, err = 0;

	if (find_file(t, maj, min, inode) || skipped(t, maj, min, inode))
		return 0;
	if (t->nfiles >= HT_MAX_MODULES)
		return -E2BIG;
	elf_version(EV_CURRENT);
	fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (fd < 0)
		return fd;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	cfi = elf ? dwarf_getcfi_elf(elf) : NULL;
	/* code built without asynchronous unwind tables may describe its
	 * frames only in .debug_frame */
	dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	dbg = dw ? dwarf_getcfi(dw) : NULL;
	if ((!cfi && !dbg) || elf_getphdrnum(elf, &nph)) {
		err = -ENOENT;
		goto out;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < nph && !err; i++) {
		GElf_Phdr ph;
		uint64_t len;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X) || ph.p_offset >= (uint64_t)st.st_size)
			continue;
		/* code is in the file: a segment that claims more (a planted
		 * file's terabyte) would be probed 16 bytes at a time */
		len = ph.p_filesz < st.st_size - ph.p_offset ?
			      ph.p_filesz : st.st_size - ph.p_offset;
		err = add_range(t, cfi, dbg, ph.p_vaddr, ph.p_vaddr + len,
				first);
	}
	if (!err && t->nrows > first)
		t->files[t->nfiles++] = (struct unwind_file){
			maj, min, inode, first, t->nrows - first };
	else
		t->nrows = first;
out:
	if (cfi)
		dwarf_cfi_end(cfi);
	if (dw)
		dwarf_end(dw);	/* ends dbg too */
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

void unwind_place(struct unwind_table *t, const struct pmaps *maps,
		  struct symbolizer *s)
{
	size_t i;

	t->nmods = 0;
	for (i = 0; i < maps->n && t->nmods < HT_MAX_MODULES; i++) {
		const struct pmap *p = &maps->v[i];
		const struct unwind_file *f;
		const struct sym_mod *m;
		uint64_t vaddr;

		if (!p->exec || !p->inode)
			continue;
		f = find_file(t, p->dev_major, p->dev_minor, p->inode);
		m = f ? symbolizer_module(s, p) : NULL;
		if (!m || !m->img ||
		    elf_img_off_to_vaddr(m->img, p->pgoff, &vaddr))
			continue;
		t->mods[t->nmods++] = (struct ht_module){
			.start = p->start,
			.end = p->end,
			.bias = p->start - vaddr,
			.row_off = f->row_off,
			.row_cnt = f->row_cnt,
		};
	}
}

void unwind_scan(struct unwind_table *t, struct symbolizer *s, pid_t pid,
		 enum unwind_mode mode)
{
	size_t i;

	for (i = 0; i < s->maps.n; i++) {
		const struct pmap *p = &s->maps.v[i];
		const struct sym_mod *m;
		char path[128];

		if (!p->exec || !p->inode)
			continue;
		m = symbolizer_module(s, p);
		if (!m || !m->img)
			continue;
		/* distributions build libc without frame pointers: even in fp
		 * mode it is walked by CFI, or every stack through strdup()
		 * or mmap() would lose its caller */
		if (!find_libc(&(struct pmaps){ (struct pmap *)p, 1 }) &&
		    (mode == UNWIND_FP ||
		     (mode == UNWIND_AUTO && m->img->frame_pointers)))
			continue;
		pmap_file_path(pid, p, path, sizeof(path));
		unwind_add_file(t, path, p->dev_major, p->dev_minor, p->inode);
	}
}

/*
 * New rows go to the BPF array in batches: one syscall per row made
 * attaching to a process with libc alone take a second or more, and in
 * command mode the child waits at the gate meanwhile.
 */
static void upload_rows(struct unwind_table *t, int rows_fd)
{
	enum { BATCH = 8192 };
	__u32 *keys = malloc(BATCH * sizeof(*keys));

	while (t->rows_loaded < t->nrows) {
		__u32 i, n = t->nrows - t->rows_loaded;

		if (n > BATCH)
			n = BATCH;
		for (i = 0; keys && i < n; i++)
			keys[i] = t->rows_loaded + i;
		if (!keys ||
		    bpf_map_update_batch(rows_fd, keys, &t->rows[t->rows_loaded],
					 &n, NULL) || !n) {
			/* no batch support: one at a time */
			__u32 k = t->rows_loaded;

			bpf_map_update_elem(rows_fd, &k, &t->rows[k], BPF_ANY);
			n = 1;
		}
		t->rows_loaded += n;
	}
	free(keys);
}

int unwind_sync(struct unwind_table *t, struct symbolizer *s, int rows_fd,
		int mods_fd, size_t rows_cap, bool *moved)
{
	struct ht_module zero = {};
	int dropped = 0;
	__u32 k;

	/* files whose rows would overflow the array are left out, and
	 * remembered so that the next scan does not parse them again */
	while (t->nfiles && t->files[t->nfiles - 1].row_off +
					    t->files[t->nfiles - 1].row_cnt >
				    rows_cap) {
		struct unwind_file *f = &t->files[--t->nfiles];

		t->nrows = f->row_off;
		if (t->nskipped < HT_MAX_MODULES)
			t->skipped[t->nskipped++] = *f;
		dropped++;
	}
	upload_rows(t, rows_fd);
	unwind_place(t, &s->maps, s);
	*moved = false;
	/* called every second: rewrite the placement only when it moved
	 * (the array starts zeroed, as an empty placement) */
	if (t->nmods == t->nloaded &&
	    !memcmp(t->mods, t->loaded, t->nmods * sizeof(t->mods[0])))
		return dropped;
	for (k = 0; k < HT_MAX_MODULES; k++)
		bpf_map_update_elem(mods_fd, &k, k < t->nmods ? &t->mods[k] : &zero,
				    BPF_ANY);
	memcpy(t->loaded, t->mods, t->nmods * sizeof(t->mods[0]));
	t->nloaded = t->nmods;
	*moved = true;
	return dropped;
}

void unwind_pending_read(int pending_fd, const __u64 *full,
			 struct unwind_pending *p)
{
	__u64 key, cur = 0;
	int steps;

	p->n = 0;
	p->full = __atomic_load_n(full, __ATOMIC_SEQ_CST);
	/* bounded: a key deleted under us restarts the walk */
	for (steps = 0; p->n < HT_MAX_PENDING && steps < 2 * HT_MAX_PENDING;
	     steps++) {
		struct ht_pending v;

		if (bpf_map_get_next_key(pending_fd, steps ? &cur : NULL, &key))
			break;
		cur = key;
		if (!bpf_map_lookup_elem(pending_fd, &key, &v)) {
			p->v[p->n].start = key;
			p->v[p->n++].seq = v.seq;
		}
	}
}

bool unwind_pending_drop(int pending_fd, __u64 *full,
			 const struct unwind_pending *p)
{
	__u64 want = p->full;
	bool any = false;
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct ht_pending v;

		/* mapped again since it was read: not looked at yet */
		if (bpf_map_lookup_elem(pending_fd, &p->v[i].start, &v) ||
		    v.seq != p->v[i].seq)
			continue;
		if (!bpf_map_delete_elem(pending_fd, &p->v[i].start))
			any = true;
	}
	/* overflowed mappings are covered only if none came after */
	if (want && __atomic_compare_exchange_n(full, &want, 0, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
		any = true;
	return any;
}

void unwind_free(struct unwind_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
