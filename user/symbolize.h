/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SYMBOLIZE_H
#define HT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "demangle.h"
#include "elfimg.h"
#include "ksyms.h"
#include "perfmap.h"
#include "procmaps.h"

struct sym_obj;

/* A loaded module, cached by device and inode for the whole run. */
struct sym_mod {
	unsigned int maj, min;
	uint64_t inode;
	char *name;		/* basename of the mapped path */
	char *path;		/* the mapped path, as the process sees it */
	struct elf_img *img;	/* NULL if the file could not be read */
	struct sym_obj *obj;	/* its contents, shared by build ID */
	int err;
};

/* What symbolization cost so far. */
struct sym_stats {
	uint64_t frames;	/* frames produced */
	uint64_t lookup_ns;	/* spent producing them, loads included */
	uint64_t load_ns;	/* spent reading symbol tables and DWARF */
	unsigned int objs;	/* distinct files (by build ID) read */
	unsigned int dwarf;	/* of them, with DWARF found */
};

struct symbolizer {
	pid_t pid;
	struct pmaps maps;	/* last snapshot of the target's maps */
	struct sym_mod *mods;
	size_t nmods, cap;
	struct sym_obj **objs;
	size_t nobjs;
	struct symbolizer *objs_from;	/* the files are its (it outlives s) */
	struct demangler dm;
	struct perfmap perf;
	struct sym_stats st;	/* sharers' costs too (objs_from) */
	char **debug_dirs;	/* --debug-dir, searched first */
	size_t ndebug_dirs;
	const struct ksyms *ksyms;	/* --kernel: names kernel pcs */
};

struct frame {
	const char *func;	/* NULL when no symbol covers the address */
	uint64_t off;		/* from func, or from module start */
	const char *module;	/* NULL when no mapping covers it */
	const struct sym_mod *mod;
	const char *file;	/* source file, NULL without DWARF lines */
	int line;
	bool inlined;		/* expanded into the frame that follows */
	bool alloc;		/* C++ operator new/delete: an allocator */
	bool synthetic;		/* no code: func is a bracketed marker */
};

/* Most frames one pc can expand to (inlined calls plus the function). */
#define SYM_MAX_INLINE 16

void symbolizer_init(struct symbolizer *s, pid_t pid);
/*
 * Read files through owner's cache: another process's symbolizer, which
 * outlives s (a library many processes map is read once).
 */
void symbolizer_share_objs(struct symbolizer *s, struct symbolizer *owner);
/* Settings from the command line: C++ demangling, extra debug dirs. */
void symbolizer_set_demangle(struct symbolizer *s, bool on);
int symbolizer_add_debug_dir(struct symbolizer *s, const char *dir);
/* --kernel: name kernel addresses from k (kept by the caller). */
void symbolizer_set_ksyms(struct symbolizer *s, const struct ksyms *k);
/*
 * Re-read the target's maps and load every new executable module now,
 * while its files can still be reached; returns -ESRCH once it is gone
 * (the previous snapshot is kept).
 */
int symbolizer_refresh(struct symbolizer *s);
/* ret: pc is a return address, so look up the call instruction. */
void symbolizer_resolve(struct symbolizer *s, uint64_t pc, bool ret,
			struct frame *f);
/*
 * All source-level frames at pc: inlined callees first, the function that
 * holds pc last (as symbolizer_resolve gives it, plus file and line).
 * Returns how many were written, at least 1 when max >= 1.
 */
int symbolizer_frames(struct symbolizer *s, uint64_t pc, bool ret,
		      struct frame *out, int max);
/* The module mapped at pmap p (loading it if new), or NULL. */
const struct sym_mod *symbolizer_module(struct symbolizer *s,
					const struct pmap *p);
/* The source file's last path component, "" for NULL. */
/*
 * Read the target's JIT map (/tmp/perf-PID.map) again if it changed: the
 * names of the last reading go.
 */
void symbolizer_reload_jit(struct symbolizer *s);
const char *src_basename(const char *file);
void symbolizer_free(struct symbolizer *s);

#endif
