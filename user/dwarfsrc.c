// SPDX-License-Identifier: GPL-2.0
/*
 * Source lines and inline chains from DWARF, through libdw. libdw also
 * decompresses SHF_COMPRESSED (zlib) debug sections on its own.
 *
 * The address to CU map is built here from each CU's ranges rather than
 * taken from .debug_aranges, which recent compilers no longer emit.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarfsrc.h"
#include "util.h"

struct cu_range {
	uint64_t lo, hi;
	Dwarf_Die cu;
};

struct dbg_info {
	int fd;
	Dwarf *dw;
	struct cu_range *r;	/* sorted by lo */
	size_t nr;
};

static int cmp_range(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static int add_cu_ranges(struct dbg_info *d, Dwarf_Die *cu, size_t *cap)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (d->nr == *cap) {
			size_t n = *cap ? *cap * 2 : 64;
			struct cu_range *v = realloc(d->r, n * sizeof(*v));

			if (!v)
				return -ENOMEM;
			d->r = v;
			*cap = n;
		}
		d->r[d->nr++] = (struct cu_range){ lo, hi, *cu };
	}
	return 0;
}

int dbg_open(int fd, struct dbg_info **out)
{
	Dwarf_CU *cu = NULL, *next;
	struct dbg_info *d;
	size_t cap = 0;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	d->fd = fd;
	d->dw = dwarf_begin(fd, DWARF_C_READ);
	if (!d->dw) {
		dbg_free(d);
		return -ENODATA;
	}
	for (;;) {
		Dwarf_Die cudie, sub;
		Dwarf_Half ver;
		uint8_t type;

		if (dwarf_get_units(d->dw, cu, &next, &ver, &type, &cudie, &sub))
			break;
		cu = next;
		if (dwarf_tag(&cudie) != DW_TAG_compile_unit &&
		    dwarf_tag(&cudie) != DW_TAG_partial_unit)
			continue;
		err = add_cu_ranges(d, &cudie, &cap);
		if (err) {
			dbg_free(d);
			return err;
		}
	}
	sort_array(d->r, d->nr, sizeof(*d->r), cmp_range);
	*out = d;
	return 0;
}

static const char *die_name(Dwarf_Die *die)
{
	static const int attrs[] = { DW_AT_linkage_name,
				     DW_AT_MIPS_linkage_name, DW_AT_name };
	Dwarf_Attribute a;
	size_t i;

	/* _integrate follows abstract_origin and specification: an inlined
	 * instance names nothing itself */
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		const char *s;

		if (dwarf_attr_integrate(die, attrs[i], &a) &&
		    (s = dwarf_formstring(&a)))
			return s;
	}
	return NULL;
}

static Dwarf_Die *find_cu(struct dbg_info *d, uint64_t addr)
{
	size_t lo = count_le(d->r, d->nr, sizeof(*d->r),
			     offsetof(struct cu_range, lo), addr), i;
	/* ranges of different CUs may nest (e.g. a stray zero-based one):
	 * look back a little for one that covers addr */
	for (i = lo; i > 0 && lo - i < 8; i--)
		if (addr < d->r[i - 1].hi)
			return &d->r[i - 1].cu;
	return NULL;
}

#define MAX_SCOPE_DEPTH 64
#define MAX_SCOPE_DIES (1 << 20)

/*
 * The innermost function, inlined instance or block whose code holds
 * vaddr, below parent. Not dwarf_getscopes(): on a corrupt inlined
 * instance it fails after allocating its result and leaks it. Depth and
 * DIE count are bounded: a corrupt file may nest or loop without end.
 */
static bool innermost(Dwarf_Die *parent, uint64_t vaddr, Dwarf_Die *out,
		      int depth, size_t *budget)
{
	Dwarf_Die c;

	if (depth >= MAX_SCOPE_DEPTH || dwarf_child(parent, &c))
		return false;
	do {
		if (!(*budget)--)
			return false;
		switch (dwarf_tag(&c)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
		case DW_TAG_entry_point:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_with_stmt:
			if (dwarf_haspc(&c, vaddr) <= 0)
				break;
			*out = c;
			innermost(&c, vaddr, out, depth + 1, budget);
			return true;
		/* C++ and Fortran nest functions in these */
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			if (innermost(&c, vaddr, out, depth + 1, budget))
				return true;
			break;
		}
	} while (!dwarf_siblingof(&c, &c));
	return false;
}

/* The call site an inlined instance was expanded at. */
static void call_site(Dwarf_Die *inl, Dwarf_Files *files, size_t nfiles,
		      const char **file, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(inl, DW_AT_call_file, &a) && !dwarf_formudata(&a, &w) &&
	    files && w < nfiles)
		*file = dwarf_filesrc(files, w, NULL, NULL);
	if (dwarf_attr(inl, DW_AT_call_line, &a) && !dwarf_formudata(&a, &w))
		*line = w;
}

int dbg_frames(struct dbg_info *d, uint64_t vaddr, struct src_frame *out,
	       int max)
{
	Dwarf_Die *cu = find_cu(d, vaddr), *scopes = NULL, inner;
	size_t nfiles = 0, budget = MAX_SCOPE_DIES;
	Dwarf_Files *files = NULL;
	const char *file = NULL;
	Dwarf_Line *l;
	int n, i, k = 0, line = 0;

	if (!cu || max < 1)
		return 0;
	l = dwarf_getsrc_die(cu, vaddr);
	if (l) {
		file = dwarf_linesrc(l, NULL, NULL);
		dwarf_lineno(l, &line);
	}
	dwarf_getsrcfiles(cu, &files, &nfiles);
	/* the concrete chain up to the function an instance was inlined
	 * into: the innermost DIE's own parents */
	n = innermost(cu, vaddr, &inner, 0, &budget) ?
		    dwarf_getscopes_die(&inner, &scopes) : 0;
	/* innermost scope first; each inlined instance moves the location
	 * to where it was called from */
	for (i = 0; i < n && k < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		Dwarf_Addr lowpc;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		out[k] = (struct src_frame){ die_name(&scopes[i]), file, line,
					     0, tag == DW_TAG_inlined_subroutine };
		/* a function inlined into itself (glibc has some) is one
		 * frame: keep the inner, more precise line */
		if (k && out[k - 1].func && out[k].func &&
		    !strcmp(out[k - 1].func, out[k].func)) {
			out[k].file = out[k - 1].file;
			out[k].line = out[k - 1].line;
			out[k - 1] = out[k];
			k--;
		}
		if (tag == DW_TAG_subprogram) {
			if (!dwarf_lowpc(&scopes[i], &lowpc) ||
			    !dwarf_entrypc(&scopes[i], &lowpc))
				out[k].entry = lowpc;
			k++;
			break;
		}
		k++;
		call_site(&scopes[i], files, nfiles, &file, &line);
	}
	free(scopes);
	if (!k && file) {	/* lines, but no function DIE for them */
		out[0] = (struct src_frame){ NULL, file, line, 0, false };
		k = 1;
	}
	return k;
}

void dbg_free(struct dbg_info *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	free(d->r);
	close(d->fd);
	free(d);
}
