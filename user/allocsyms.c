// SPDX-License-Identifier: GPL-2.0
/*
 * Allocator functions found by symbol in any module of the target: an
 * in-house allocator named by --alloc-syms, and an allocator linked into
 * the executable (exported, it interposes libc's malloc as a preloaded
 * one does; in .symtab only, it serves the program's own calls) or into
 * any library, whatever its file is called. They are probed as the table's
 * functions of the same kind, so nesting stays as it is: an in-house
 * my_alloc() that calls malloc is counted once, at my_alloc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "allocsyms.h"
#include "procmaps.h"

void alloc_syms_free(struct alloc_syms *as)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		free(as->names[i]);
	memset(as, 0, sizeof(*as));
}

int alloc_syms_parse(const char *spec, struct alloc_syms *as, char *why,
		     size_t len)
{
	char *copy = strdup(spec), *item, *save = NULL, *eq;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item && !err;
	     item = strtok_r(NULL, ",", &save)) {
		uint32_t kind;

		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			snprintf(why, len, "'%s' is not NAME=KIND", item);
			err = -EINVAL;
		} else if (*eq = '\0', alloc_kind_by_name(eq + 1, &kind)) {
			snprintf(why, len, "unknown kind '%.64s' for %.128s (known: %s)",
				 eq + 1, item, alloc_kind_names());
			err = -EINVAL;
		} else if (as->n == ALLOC_SYMS_MAX) {
			snprintf(why, len, "more than %d functions",
				 ALLOC_SYMS_MAX);
			err = -EINVAL;
		} else if (!(as->names[as->n] = strdup(item))) {
			err = -ENOMEM;
		} else {
			as->kinds[as->n++] = kind;
		}
	}
	if (!err && !as->n) {
		snprintf(why, len, "no NAME=KIND in '%s'", spec);
		err = -EINVAL;
	}
	free(copy);
	return err;
}

static bool done(struct alloc_syms *as, const struct pmap *p, bool mark)
{
	uint64_t dev = makedev(p->dev_major, p->dev_minor);
	size_t i;

	for (i = 0; i < as->ndone; i++)
		if (as->done[i].dev == dev && as->done[i].ino == p->inode)
			return true;
	if (mark && as->ndone < ALLOC_SYMS_MAX_FILES) {
		as->done[as->ndone].dev = dev;
		as->done[as->ndone++].ino = p->inode;
	}
	return false;
}

/*
 * Does the module at p carry an allocator of its own, besides libc's: an
 * executable with one linked in (jemalloc's static library leaves malloc
 * in .symtab alone: the program's calls bind to it, libc's own calls to
 * libc's), or a library that defines malloc and free under any file name?
 */
static bool own_allocator(const struct pmaps *maps, const struct pmap *p,
			  const struct elf_img *img)
{
	const struct pmap *libc = find_libc(maps);
	uint64_t a, b;

	return (!libc || libc->inode != p->inode ||
		libc->dev_major != p->dev_major ||
		libc->dev_minor != p->dev_minor) &&
	       !elf_img_sym_addr(img, "malloc", &a) &&
	       !elf_img_sym_addr(img, "free", &b);
}

int alloc_syms_attach(struct alloc_syms *as, struct heaptrail_bpf *skel,
		      struct symbolizer *sym, pid_t pid, struct attach *a,
		      bool verbose, const char **missing)
{
	const char *names[ALLOC_SYMS_MAX];
	uint32_t kinds[ALLOC_SYMS_MAX];
	size_t i, k, n;
	int err;

	for (i = 0; i < sym->maps.n; i++) {
		const struct pmap *p = &sym->maps.v[i];
		const struct sym_mod *m;
		char path[128];
		uint64_t v;

		if (!p->exec || !p->inode || done(as, p, false))
			continue;
		m = symbolizer_module(sym, p);
		if (!m || !m->img)
			continue;
		pmap_file_path(pid, p, path, sizeof(path));
		for (k = n = 0; k < as->n; k++) {
			if (elf_img_sym_addr(m->img, as->names[k], &v))
				continue;
			names[n] = as->names[k];
			kinds[n++] = as->kinds[k];
			as->found[k] = true;
		}
		if (n) {
			done(as, p, true);
			err = attach_named(skel, pid, path, m->img, names,
					   kinds, n, a);
			if (err < 0)
				return err;
			if (verbose)
				fprintf(stderr, "heaptrail: --alloc-syms: %d functions in %s\n",
					err, p->path);
		} else if (own_allocator(&sym->maps, p, m->img) &&
			   !attach_probes_file(a, makedev(p->dev_major,
							  p->dev_minor),
					       p->inode)) {
			int keep = a->nfuncs;

			done(as, p, true);
			err = attach_allocators(skel, pid, path, m->img, a);
			if (err)
				return err;
			fprintf(stderr, "heaptrail: %s has an allocator of its own: %d allocator functions probed there\n",
				p->path, a->nfuncs);
			a->nfuncs = keep;	/* it counts the main one's */
		}
	}
	for (k = 0; k < as->n; k++)
		if (!as->found[k]) {
			*missing = as->names[k];
			return -ENOENT;
		}
	return 0;
}

void alloc_syms_ranges(const struct alloc_syms *as, struct symbolizer *sym,
		       struct alloc_ranges *r)
{
	size_t i, j, k;

	for (i = 0; i < sym->maps.n; i++) {
		const struct pmap *p = &sym->maps.v[i];
		uint64_t dev = makedev(p->dev_major, p->dev_minor), v;
		const struct sym_mod *m;

		for (j = 0; j < as->ndone; j++)
			if (as->done[j].dev == dev && as->done[j].ino == p->inode)
				break;
		if (j == as->ndone || !p->exec)
			continue;
		m = symbolizer_module(sym, p);
		if (!m || !m->img)
			continue;
		/* what an allocator frees has no return probe: its free */
		if (!elf_img_sym_addr(m->img, "free", &v))
			alloc_ranges_add_func(r, p, &sym->maps, m->img, v);
		for (k = 0; k < as->n; k++)
			if (as->kinds[k] == HT_FREE &&
			    !elf_img_sym_addr(m->img, as->names[k], &v))
				alloc_ranges_add_func(r, p, &sym->maps, m->img,
						      v);
	}
}
