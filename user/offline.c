// SPDX-License-Identifier: GPL-2.0
/*
 * Offline symbolization of a saved report. A frame left as NAME+0xOFF holds
 * the file offset of a return address in module NAME; the report's trailer
 * names NAME's build ID and path. With the debug file found later (a
 * --debug-dir, /usr/lib/debug/.build-id, or the module again), the offset
 * becomes function+offset and file:line, inlined calls included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debugfind.h"
#include "demangle.h"
#include "dwarfsrc.h"
#include "safeopen.h"
#include "elfimg.h"
#include "offline.h"

#define MAX_MODS 64
#define MAX_DIRS 16

struct omod {
	char name[256], build_id[64], path[4096];
	bool tried;
	size_t named, left;	/* frames named now, frames still bare */
	struct elf_img *img;	/* symbols of the debug file (or module) */
	struct elf_img *mod;	/* the module itself, if still the same build */
	struct dbg_info *dbg;
};

struct offline {
	struct omod mods[MAX_MODS];
	int nmods;
	char *dirs[MAX_DIRS];
	size_t ndirs;
	struct demangler dm;
};

/*
 * A build ID becomes a path under the debug directories: anything but hex
 * ("../..") would lead outside them, to files the report's author chose.
 */
static bool build_id_ok(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return !strcmp(id, "none") || (!id[n] && n >= 4 && n <= 40 && !(n & 1));
}

static void add_module(struct offline *o, const char *line, size_t lineno)
{
	struct omod *m = &o->mods[o->nmods];

	if (o->nmods == MAX_MODS ||
	    sscanf(line, "unsymbolized module: %255s build-id %63s path %4095s",
		   m->name, m->build_id, m->path) != 3)
		return;
	if (!build_id_ok(m->build_id)) {
		fprintf(stderr, "heaptrail: line %zu: build ID '%s' is not hex: %s left as is\n",
			lineno, m->build_id, m->name);
		return;
	}
	o->nmods++;
}

/* A report is text: gzip or other binary data is refused, not echoed. */
static const char *binary(const char *line, size_t len)
{
	size_t i;

	if (len >= 2 && (unsigned char)line[0] == 0x1f &&
	    (unsigned char)line[1] == 0x8b)
		return "gzip data";
	for (i = 0; i < len; i++) {
		unsigned char c = line[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f)
			return "binary data";
	}
	return NULL;
}

/* The debug file by build ID, else the module itself if it is the same build. */
static void load(struct offline *o, struct omod *m)
{
	struct debug_req r = { -1, m->path, 0, m->build_id, o->dirs, o->ndirs };
	struct elf_img *same = NULL;
	char path[4096];
	int fd = -1;

	m->tried = true;
	if (!strcmp(m->build_id, "none"))
		m->build_id[0] = '\0';
	if (!elf_img_open(m->path, &same) && m->build_id[0] &&
	    !strcmp(same->build_id, m->build_id))
		r.fd = safe_open(m->path, 0, SAFE_MAX_ELF);
	fd = debug_find(&r, path, sizeof(path));
	if (r.fd >= 0) {
		close(r.fd);
		m->mod = same;	/* its load segments map offsets */
	} else {
		elf_img_free(same);
	}
	if (fd < 0) {
		m->img = m->mod;	/* .dynsym is better than nothing */
		m->mod = NULL;
		return;
	}
	if (elf_img_open(path, &m->img))
		m->img = NULL;
	if (dbg_open(fd, &m->dbg))
		m->dbg = NULL;
}

static struct omod *find(struct offline *o, const char *name, size_t len)
{
	int i;

	for (i = 0; i < o->nmods; i++)
		if (strlen(o->mods[i].name) == len &&
		    !strncmp(o->mods[i].name, name, len))
			return &o->mods[i];
	return NULL;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Print the frame line for NAME+0xOFF if it can be named; false if not. */
static bool rewrite(struct offline *o, const char *line)
{
	const char *p = line + 8, *plus;
	struct src_frame sf[16];
	const struct elf_sym *sym;
	uint64_t off, vaddr;
	struct omod *m;
	int n, i;

	/* only bare NAME+0xOFF frames: named ones carry a space */
	if (strncmp(line, "        ", 8))
		return false;
	plus = strstr(p, "+0x");
	if (!plus || strchr(p, ' ') ||
	    sscanf(plus + 3, "%" SCNx64, &off) != 1 || !off)
		return false;
	m = find(o, p, plus - p);
	if (!m)
		return false;
	if (!m->tried)
		load(o, m);
	/* a return address: name the call, at off - 1. A debug file's load
	 * segments keep no file offsets: map through the module if it is
	 * still around, else assume the usual layout, offset == address */
	if (!m->img) {
		m->left++;
		return false;
	}
	if (elf_img_off_to_vaddr(m->mod ? m->mod : m->img, off - 1, &vaddr))
		vaddr = off - 1;
	sym = elf_img_sym_at(m->img, vaddr);
	n = m->dbg ? dbg_frames(m->dbg, vaddr, sf, 16) : 0;
	for (i = 0; i + 1 < n; i++)
		printf("        %s (inlined) %s:%d\n",
		       demangle(&o->dm, sf[i].func ? sf[i].func : "?"),
		       sf[i].file ? base(sf[i].file) : "?", sf[i].line);
	if (!sym) {
		printf("        %s+0x%" PRIx64 "%s\n", m->name, off,
		       n ? "" : " (no symbol)");
		m->left++;
		return true;
	}
	m->named++;
	printf("        %s+0x%" PRIx64 " (%s)", demangle(&o->dm, sym->name),
	       vaddr + 1 - sym->addr, m->name);
	if (n && sf[n - 1].file)
		printf(" %s:%d", base(sf[n - 1].file), sf[n - 1].line);
	putchar('\n');
	return true;
}

/*
 * The trailer names a module for a later symbolization: once every frame
 * of it is named, the line is stale and goes. A module none of whose
 * frames was seen (or one that could not be parsed) stays listed.
 */
static bool resolved(struct offline *o, const char *line)
{
	char name[256];
	int i;

	if (strncmp(line, "unsymbolized module: ", 21) ||
	    sscanf(line + 21, "%255s", name) != 1)
		return false;
	for (i = 0; i < o->nmods; i++)
		if (!strcmp(o->mods[i].name, name))
			return o->mods[i].named && !o->mods[i].left;
	return false;
}

static int symbolize_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "heaptrail: symbolize: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see heaptrail symbolize --help)\n");
	return 2;
}

int symbolize_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "debug-dir", required_argument, NULL, 'D' },
		{ "no-demangle", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct offline *o = calloc(1, sizeof(*o));
	char **lines = NULL, *line = NULL;
	const char *name = "standard input", *bad = NULL;
	size_t n = 0, cap = 0, len = 0, i;
	FILE *in = stdin;
	ssize_t got;
	int c, rc = 0;

	if (!o)
		return 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'D' && o->ndirs < MAX_DIRS) {
			o->dirs[o->ndirs++] = optarg;
		} else if (c == 'D') {
			free(o);
			return symbolize_usage("more than %s --debug-dir options",
					       "16");
		} else if (c == 'N') {
			o->dm.off = true;
		} else if (c == 'h') {
			printf("Usage: heaptrail symbolize [--debug-dir DIR]... [--no-demangle] [REPORT]\n"
			       "Names the frames a saved text report left as module+offset (standard\n"
			       "input without REPORT or with -), by the build IDs in its trailer.\n\n"
			       "      --debug-dir DIR  look for debug files in DIR too (DIR/.build-id/...)\n"
			       "      --no-demangle    keep C++ names as the binary spells them\n");
			free(o);
			return 0;
		} else {
			free(o);
			return symbolize_usage(c == ':' ? "option '%s' needs a value" :
						"unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind > 1) {
		free(o);
		return symbolize_usage("one report at a time, not '%s'",
				       argv[optind + 1]);
	}
	if (optind < argc && strcmp(argv[optind], "-")) {
		name = argv[optind];
		in = fopen(argv[optind], "re");
		if (!in) {
			fprintf(stderr, "heaptrail: cannot read %s: %s\n",
				argv[optind], strerror(errno));
			free(o);
			return 1;
		}
	}
	/* the module list comes after the stacks: read everything first */
	while ((got = getline(&line, &len, in)) > 0) {
		bad = binary(line, got);
		if (bad) {
			fprintf(stderr, "heaptrail: %s: %s at line %zu, not a heaptrail report\n",
				name, bad, n + 1);
			rc = 1;
			break;
		}
		if (n == cap) {
			char **v = realloc(lines, (cap = cap ? cap * 2 : 256) *
							  sizeof(*v));

			if (!v) {
				rc = 1;
				break;
			}
			lines = v;
		}
		lines[n++] = line;
		line = NULL;
		if (!strncmp(lines[n - 1], "unsymbolized module: ", 21))
			add_module(o, lines[n - 1], n);
	}
	free(line);
	for (i = 0; i < n; i++) {
		lines[i][strcspn(lines[i], "\n")] = '\0';
		if (!rc && !rewrite(o, lines[i]) && !resolved(o, lines[i]))
			puts(lines[i]);
		free(lines[i]);
	}
	free(lines);
	for (c = 0; c < o->nmods; c++) {
		elf_img_free(o->mods[c].img);
		elf_img_free(o->mods[c].mod);
		if (o->mods[c].dbg)
			dbg_free(o->mods[c].dbg);
	}
	demangler_free(&o->dm);
	if (in != stdin)
		fclose(in);
	free(o);
	return rc;
}
