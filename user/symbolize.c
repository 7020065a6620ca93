// SPDX-License-Identifier: GPL-2.0
/*
 * Address to function+offset, and to source file:line with inlined calls,
 * for a live process. Correct under ASLR and for PIE: an address is turned
 * into a file offset through the mapping that covers it, then into an ELF
 * virtual address through the file's load segments.
 *
 * Modules are cached by device and inode, their contents by build ID (the
 * same library reached through two paths is read once). Symbol tables are
 * read when a module is first mapped, since its file may be deleted or the
 * process gone later; DWARF only on the first lookup that needs it, from
 * an fd kept open from that first moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debugfind.h"
#include "heaptrail.h"
#include "dwarfsrc.h"
#include "safeopen.h"
#include "symbolize.h"

/* One ELF file's contents, shared by every mapping of the same build. */
struct sym_obj {
	char build_id[41];
	uint64_t inode;		/* identity when there is no build ID */
	unsigned int maj, min;
	struct elf_img *img;
	int fd;			/* the module, kept for the lazy DWARF load */
	char *path;		/* as mapped: where a debuglink is looked for */
	bool dbg_tried;
	struct dbg_info *dbg;
	struct elf_img *dbg_img;	/* .symtab of a separate debug file */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Whose files s reads, and where its costs are counted. */
static struct symbolizer *owner(struct symbolizer *s)
{
	return s->objs_from ? s->objs_from : s;
}

static struct sym_stats *stats(struct symbolizer *s)
{
	return &owner(s)->st;
}

void symbolizer_init(struct symbolizer *s, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
}

void symbolizer_share_objs(struct symbolizer *s, struct symbolizer *owner)
{
	s->objs_from = owner;
}

void symbolizer_set_ksyms(struct symbolizer *s, const struct ksyms *k)
{
	s->ksyms = k;
}

void symbolizer_set_demangle(struct symbolizer *s, bool on)
{
	s->dm.off = !on;
}

int symbolizer_add_debug_dir(struct symbolizer *s, const char *dir)
{
	char **v = realloc(s->debug_dirs, (s->ndebug_dirs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->debug_dirs = v;
	v[s->ndebug_dirs] = strdup(dir);
	if (!v[s->ndebug_dirs])
		return -ENOMEM;
	s->ndebug_dirs++;
	return 0;
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

static struct sym_obj *find_obj(struct symbolizer *s, const char *build_id,
				const struct pmap *p)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++) {
		struct sym_obj *o = s->objs[i];

		if (build_id[0] ? !strcmp(o->build_id, build_id) :
				  !o->build_id[0] && o->inode == p->inode &&
					  o->maj == p->dev_major &&
					  o->min == p->dev_minor)
			return o;
	}
	return NULL;
}

static void obj_free(struct sym_obj *o)
{
	if (!o)
		return;
	elf_img_free(o->img);
	elf_img_free(o->dbg_img);
	dbg_free(o->dbg);
	if (o->fd >= 0)
		close(o->fd);
	free(o->path);
	free(o);
}

/* The contents of the file open on fd at path, read once per build. */
static struct sym_obj *get_obj(struct symbolizer *s, const struct pmap *p,
			       int fd, const char *path, int *err)
{
	struct sym_obj *o, **v;
	char id[41];

	*err = elf_build_id(fd, id);
	if (*err)
		return NULL;
	o = find_obj(s, id, p);
	if (o)
		return o;
	v = realloc(s->objs, (s->nobjs + 1) * sizeof(*v));
	o = calloc(1, sizeof(*o));
	if (v)
		s->objs = v;
	if (!v || !o) {
		free(o);
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(o->build_id, id, sizeof(id));
	o->inode = p->inode;
	o->maj = p->dev_major;
	o->min = p->dev_minor;
	o->fd = -1;
	o->path = strdup(p->path);
	*err = elf_img_open(path, &o->img);
	if (*err || !o->path) {
		*err = *err ? *err : -ENOMEM;
		obj_free(o);
		return NULL;
	}
	o->fd = dup(fd);
	s->objs[s->nobjs++] = o;
	stats(s)->objs++;
	return o;
}

static int open_module(struct symbolizer *s, const struct pmap *p,
		       struct sym_mod *m)
{
	const char *path;
	char mf[128];
	int fd, err;

	/* map_files reaches the inode mapped even if deleted, replaced or in
	 * another mount namespace; the path itself once the process is gone */
	pmap_file_path(s->pid, p, mf, sizeof(mf));
	path = mf;
	fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (fd < 0) {
		path = p->path;
		fd = safe_open(path, 0, SAFE_MAX_ELF);
	}
	if (fd < 0)
		return fd;
	/* files are read once per run, whichever process maps them */
	m->obj = get_obj(owner(s), p, fd, path, &err);
	close(fd);
	if (m->obj)
		m->img = m->obj->img;
	return err;
}

const struct sym_mod *symbolizer_module(struct symbolizer *s,
					const struct pmap *p)
{
	struct sym_mod *m;
	const char *base;
	uint64_t t0;

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
	m->path = strdup(p->path);
	t0 = now_ns();
	m->err = open_module(s, p, m);
	stats(s)->load_ns += now_ns() - t0;
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

/* First lookup in a module: find and open its DWARF. */
static void load_debug(struct symbolizer *s, struct sym_obj *o)
{
	struct debug_req r = { o->fd, o->path, s->pid, o->build_id,
			       s->debug_dirs, s->ndebug_dirs };
	uint64_t t0 = now_ns();
	char path[4096];
	int fd;

	o->dbg_tried = true;
	fd = debug_find(&r, path, sizeof(path));
	if (fd < 0)
		goto out;
	if (dbg_open(fd, &o->dbg))
		goto out;
	stats(s)->dwarf++;
	/* a stripped module keeps only .dynsym; its debug file has .symtab */
	if (!o->img->has_symtab && strcmp(path, o->path))
		elf_img_open(path, &o->dbg_img);
out:
	stats(s)->load_ns += now_ns() - t0;
}

/* JIT code: an anonymous executable mapping named by /tmp/perf-PID.map. */
static bool jit_frame(struct symbolizer *s, uint64_t pc, uint64_t look,
		      struct frame *f)
{
	const struct perf_sym *ps;

	ps = perfmap_find(&s->perf, look);
	if (!ps)
		return false;
	f->func = ps->name;
	f->off = pc - ps->start;
	f->module = "[jit]";
	return true;
}

/* A kernel pc: function+offset and module from kallsyms, no lines. */
static int kernel_frame(struct symbolizer *s, uint64_t pc, bool ret,
			struct frame *out)
{
	const struct ksym *k = ksyms_find(s->ksyms, ret ? pc - 1 : pc);

	*out = (struct frame){ .off = pc };
	if (k) {
		out->func = ksym_name(s->ksyms, k);
		out->module = ksym_module(s->ksyms, k);
		out->off = pc - k->addr;
	}
	return 1;
}

static int frames(struct symbolizer *s, uint64_t pc, bool ret,
		  struct frame *out, int max)
{
	uint64_t look = ret ? pc - 1 : pc, vaddr;
	const struct pmap *p = pmaps_find(&s->maps, look);
	struct src_frame sf[SYM_MAX_INLINE];
	const struct elf_sym *sym = NULL;
	const struct sym_mod *m;
	struct sym_obj *o;
	struct frame f = { .off = pc };
	int i, k = 0, n = 0;

	if (s->ksyms && pc >= KSYM_KERNEL_START)
		return kernel_frame(s, pc, ret, out);
	if (!p) {
		jit_frame(s, pc, look, &f);
		goto out;
	}
	f.off = pc - p->start + p->pgoff;
	m = symbolizer_module(s, p);
	if (!m) {
		if (!(p->exec && !p->inode && jit_frame(s, pc, look, &f)))
			f.module = p->path[0] ? p->path : "[anon]";
		goto out;
	}
	f.module = m->name;
	f.mod = m;
	o = m->obj;
	if (!o || elf_img_off_to_vaddr(o->img, look - p->start + p->pgoff,
				       &vaddr))
		goto out;
	if (!o->dbg_tried)
		load_debug(s, o);
	sym = elf_img_sym_at(o->img, vaddr);
	if (o->dbg_img) {	/* .symtab also names the static functions */
		const struct elf_sym *d = elf_img_sym_at(o->dbg_img, vaddr);

		if (d && (!sym || d->addr > sym->addr))
			sym = d;
	}
	if (sym) {
		f.func = demangle(&s->dm, sym->name);
		f.alloc = cxx_allocator(sym->name);
		f.off = vaddr + (pc - look) - sym->addr;
	}
	if (o->dbg)
		k = dbg_frames(o->dbg, vaddr, sf, SYM_MAX_INLINE);
	/* inlined callees, innermost first, as frames of their own */
	for (i = 0; i < k && sf[i].inlined && n < max - 1; i++) {
		out[n++] = (struct frame){
			.func = sf[i].func ? demangle(&s->dm, sf[i].func) : "??",
			.module = m->name, .mod = m, .file = sf[i].file,
			.line = sf[i].line, .inlined = true,
			.alloc = cxx_allocator(sf[i].func),
		};
	}
	while (i < k && sf[i].inlined)	/* more than max: cut the middle */
		i++;
	if (i < k) {
		f.file = sf[i].file;
		f.line = sf[i].line;
		if (!f.func && sf[i].func) {	/* DWARF names what ELF did not */
			f.func = demangle(&s->dm, sf[i].func);
			f.alloc = cxx_allocator(sf[i].func);
			f.off = vaddr + (pc - look) - sf[i].entry;
		}
	}
out:
	out[n++] = f;
	return n;
}

int symbolizer_frames(struct symbolizer *s, uint64_t pc, bool ret,
		      struct frame *out, int max)
{
	uint64_t t0 = now_ns();
	int n;

	if (max < 1)
		return 0;
	if (pc == HT_FRAME_NO_ROWS) {	/* the walk was cut there */
		out[0] = (struct frame){ .func = "[no unwind rows]",
					 .synthetic = true };
		return 1;
	}
	n = frames(s, pc, ret, out, max);
	stats(s)->frames += n;
	stats(s)->lookup_ns += now_ns() - t0;
	return n;
}

void symbolizer_reload_jit(struct symbolizer *s)
{
	perfmap_load(&s->perf, s->pid);	/* cheap when unchanged */
}

void symbolizer_resolve(struct symbolizer *s, uint64_t pc, bool ret,
			struct frame *f)
{
	struct frame v[SYM_MAX_INLINE];
	int n = symbolizer_frames(s, pc, ret, v, SYM_MAX_INLINE);

	*f = v[n - 1];
}

const char *src_basename(const char *file)
{
	const char *b;

	if (!file)
		return "";
	b = strrchr(file, '/');
	return b ? b + 1 : file;
}

void symbolizer_free(struct symbolizer *s)
{
	size_t i;

	for (i = 0; i < s->nmods; i++) {
		free(s->mods[i].name);
		free(s->mods[i].path);
	}
	for (i = 0; i < s->nobjs; i++)	/* none when shared */
		obj_free(s->objs[i]);
	free(s->objs);
	free(s->mods);
	for (i = 0; i < s->ndebug_dirs; i++)
		free(s->debug_dirs[i]);
	free(s->debug_dirs);
	demangler_free(&s->dm);
	perfmap_free(&s->perf);
	pmaps_free(&s->maps);
	memset(s, 0, sizeof(*s));
}
