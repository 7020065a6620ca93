// SPDX-License-Identifier: GPL-2.0
/*
 * Address to function+offset for a live process. Correct under ASLR and
 * for PIE: an address is turned into a file offset through the mapping
 * that covers it, then into an ELF virtual address through the file's
 * load segments. Modules are cached by device and inode, so a report
 * after the first costs only lookups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

void symbolizer_init(struct symbolizer *s, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
}

static struct sym_mod *find_mod(struct symbolizer *s, const struct pmap *p)
{
	size_t i;

	for (i = 0; i < s->nmods; i++) {
		struct sym_mod *m = &s->mods[i];

		if (m->inode == p->inode && m->maj == p->dev_major &&
		    m->min == p->dev_minor)
			return m;
	}
	return NULL;
}

const struct sym_mod *symbolizer_module(struct symbolizer *s,
					const struct pmap *p)
{
	struct sym_mod *m;
	const char *base;
	char path[128];

	if (!p->inode || p->path[0] != '/')
		return NULL;
	m = find_mod(s, p);
	if (m)
		return m;
	if (s->nmods == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct sym_mod *v = realloc(s->mods, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->mods = v;
		s->cap = cap;
	}
	m = &s->mods[s->nmods++];
	memset(m, 0, sizeof(*m));
	m->maj = p->dev_major;
	m->min = p->dev_minor;
	m->inode = p->inode;
	base = strrchr(p->path, '/');
	m->name = strdup(base ? base + 1 : p->path);
	pmap_file_path(s->pid, p, path, sizeof(path));
	m->err = elf_img_open(path, &m->img);
	if (m->err)	/* e.g. the process is gone: try the path itself */
		m->err = elf_img_open(p->path, &m->img);
	return m;
}

int symbolizer_refresh(struct symbolizer *s)
{
	struct pmaps fresh;
	size_t i;
	int err;

	err = pmaps_read(s->pid, &fresh);
	if (err)
		return err;
	if (!fresh.n) {	/* a zombie has no mappings: keep the old ones */
		pmaps_free(&fresh);
		return -ESRCH;
	}
	pmaps_free(&s->maps);
	s->maps = fresh;
	for (i = 0; i < s->maps.n; i++)
		if (s->maps.v[i].exec)
			symbolizer_module(s, &s->maps.v[i]);
	return 0;
}

void symbolizer_resolve(struct symbolizer *s, uint64_t pc, bool ret,
			struct frame *f)
{
	uint64_t look = ret ? pc - 1 : pc, vaddr;
	const struct pmap *p = pmaps_find(&s->maps, look);
	const struct elf_sym *sym;
	const struct sym_mod *m;

	memset(f, 0, sizeof(*f));
	f->off = pc;
	if (!p)
		return;
	f->off = pc - p->start + p->pgoff;
	m = symbolizer_module(s, p);
	if (!m) {
		f->module = p->path[0] ? p->path : "[anon]";
		return;
	}
	f->module = m->name;
	f->mod = m;
	if (!m->img ||
	    elf_img_off_to_vaddr(m->img, look - p->start + p->pgoff, &vaddr))
		return;
	sym = elf_img_sym_at(m->img, vaddr);
	if (!sym)
		return;
	f->func = sym->name;
	f->off = vaddr + (pc - look) - sym->addr;
}

void symbolizer_free(struct symbolizer *s)
{
	size_t i;

	for (i = 0; i < s->nmods; i++) {
		free(s->mods[i].name);
		elf_img_free(s->mods[i].img);
	}
	free(s->mods);
	pmaps_free(&s->maps);
	memset(s, 0, sizeof(*s));
}
