// SPDX-License-Identifier: GPL-2.0
/* Attach heaptrail's programs to one process's libc and to syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include <bpf/libbpf.h>

#include "attach.h"
#include "util.h"
#include "heaptrail.h"
#include "heaptrail.skel.h"
#include "jumpto.h"
#include "safeopen.h"
#include "probeplace.h"

const struct pmap *find_libc(const struct pmaps *maps)
{
	size_t i;

	for (i = 0; i < maps->n; i++) {
		const char *b = strrchr(maps->v[i].path, '/');

		if (!b || !maps->v[i].inode)
			continue;
		b++;
		/* libc.so.6, or libc-2.31.so on older systems */
		if ((!strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5)) &&
		    strstr(b, ".so"))
			return &maps->v[i];
	}
	return NULL;
}

const struct pmap *find_allocator(const struct pmaps *maps)
{
	static const char *const known[] = {
		"libjemalloc.so", "libtcmalloc.so", "libtcmalloc_minimal.so",
		"libtcmalloc_and_profiler.so", "libmimalloc.so",
	};
	size_t i, k;

	for (i = 0; i < maps->n; i++) {
		const char *b = strrchr(maps->v[i].path, '/');

		if (!b || !maps->v[i].inode)
			continue;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strncmp(b + 1, known[k], strlen(known[k])))
				return &maps->v[i];
	}
	return find_libc(maps);
}

static int add_link(struct attach *a, struct bpf_link *l)
{
	int err = libbpf_get_error(l);

	if (err)
		return err;
	if (a->n == ATTACH_MAX_LINKS) {
		bpf_link__destroy(l);
		return -E2BIG;
	}
	a->links[a->n++] = l;
	return 0;
}

/* libbpf 1.1 predates uprobe_multi: its few constants, from the UAPI */
#define HT_BPF_TRACE_UPROBE_MULTI 48
#define HT_BPF_F_UPROBE_MULTI_RETURN 1U
#define HT_BPF_TRACE_UPROBE_SESSION 57	/* Linux 6.13 */

/* Does the running kernel's BTF have this type or function? */
static bool kernel_has(const char *name, int kind)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (libbpf_get_error(btf))
		return false;
	ok = btf__find_by_name_kind(btf, name, kind) > 0;
	btf__free(btf);
	return ok;
}

bool uprobe_multi_supported(void)
{
	return kernel_has("bpf_uprobe_multi_link", BTF_KIND_STRUCT);
}

bool uprobe_session_supported(void)
{
	return kernel_has("bpf_session_is_return", BTF_KIND_FUNC);
}

void prepare_uprobe_multi(struct heaptrail_bpf *skel)
{
	bpf_program__set_expected_attach_type(skel->progs.alloc_session,
					      HT_BPF_TRACE_UPROBE_SESSION);
	bpf_program__set_expected_attach_type(skel->progs.alloc_enter,
					      HT_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.alloc_exit,
					      HT_BPF_TRACE_UPROBE_MULTI);
}

/* BPF_LINK_CREATE for a uprobe_multi link, by raw bpf(2). */
static int uprobe_multi_link(int prog_fd, uint32_t type, const char *path,
			     const uint64_t *off, const uint64_t *cookies,
			     uint32_t cnt, bool ret, pid_t pid)
{
	union {
		struct {
			uint32_t prog_fd, target_fd, attach_type, flags;
			uint64_t path, offsets, ref_ctr_offsets, cookies;
			uint32_t cnt, flags2, pid;
		} lc;
		char pad[128];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.lc.prog_fd = prog_fd;
	attr.lc.attach_type = type;
	attr.lc.path = (uintptr_t)path;
	attr.lc.offsets = (uintptr_t)off;
	attr.lc.cookies = (uintptr_t)cookies;
	attr.lc.cnt = cnt;
	attr.lc.flags2 = ret ? HT_BPF_F_UPROBE_MULTI_RETURN : 0;
	attr.lc.pid = pid > 0 ? pid : 0;	/* 0: every process */
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int probe(struct attach *a, struct bpf_program *prog, pid_t pid,
		 const char *path, uint64_t off, uint64_t cookie, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret,
		    .bpf_cookie = cookie);

	return add_link(a, bpf_program__attach_uprobe_opts(prog, pid, path, off,
							   &opts));
}

/*
 * The probe's offset in function name of the file at path: its entry, or
 * the first instruction there the kernel emulates (user/probeplace.c).
 */
/*
 * A C++ or jemalloc entry point that only jumps to another entry point
 * heaptrail probes (jemalloc's delete is `jmp free@plt`) is left to that
 * one: probing both would count one call twice.
 */
#define FWD (1U << 16)

struct alloc_fn {
	const char *name;
	uint32_t kind;
	unsigned args;
};

/*
 * Every allocator function heaptrail probes, and the argument
 * registers alloc_enter reads of it (PP_RET: alloc_exit reads the
 * result), by the kind whose arguments it shares. aligned_alloc and
 * memalign share one address in glibc: the first name listed labels
 * both. A replacement allocator's own operator new and delete (and
 * jemalloc's *allocx) never call its malloc: they are probed where
 * the module exports them, as malloc, realloc and free; glibc has
 * none, and libstdc++'s operator new calls malloc.
 */
static const struct alloc_fn alloc_fns[] = {
	{ "malloc", HT_MALLOC, PP_ARG0 | PP_RET },
	{ "calloc", HT_CALLOC, PP_ARG0 | PP_ARG1 | PP_RET },
	{ "realloc", HT_REALLOC, PP_ARG0 | PP_ARG1 | PP_RET },
	{ "reallocarray", HT_REALLOCARRAY,
	  PP_ARG0 | PP_ARG1 | PP_ARG2 | PP_RET },
	{ "posix_memalign", HT_POSIX_MEMALIGN,
	  PP_ARG0 | PP_ARG1 | PP_ARG2 | PP_RET },
	{ "aligned_alloc", HT_ALIGNED_ALLOC, PP_ARG0 | PP_ARG1 | PP_RET },
	{ "memalign", HT_MEMALIGN, PP_ARG0 | PP_ARG1 | PP_RET },
	{ "valloc", HT_VALLOC, PP_ARG0 | PP_RET },
	{ "pvalloc", HT_PVALLOC, PP_ARG0 | PP_RET },
	/* new, new[]; nothrow; aligned (size first, then alignment) */
	{ "_Znwm", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_Znam", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnwmRKSt9nothrow_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnamRKSt9nothrow_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnwmSt11align_val_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnamSt11align_val_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	/* jemalloc: mallocx(size, flags), rallocx(ptr, size, flags) */
	{ "mallocx", HT_MALLOC, PP_ARG0 | PP_RET | FWD },
	{ "rallocx", HT_REALLOC, PP_ARG0 | PP_ARG1 | PP_RET | FWD },
	/* frees last: only the entry is probed */
	{ "free", HT_FREE, PP_ARG0 },
	{ "_ZdlPv", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPv", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdlPvm", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPvm", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdlPvRKSt9nothrow_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPvRKSt9nothrow_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdlPvSt11align_val_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPvSt11align_val_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdlPvmSt11align_val_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPvmSt11align_val_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdlPvSt11align_val_tRKSt9nothrow_t", HT_FREE, PP_ARG0 | FWD },
	{ "_ZdaPvSt11align_val_tRKSt9nothrow_t", HT_FREE, PP_ARG0 | FWD },
	/* jemalloc: sdallocx(ptr, size, flags), dallocx(ptr, flags) */
	{ "sdallocx", HT_FREE, PP_ARG0 | FWD },
	{ "dallocx", HT_FREE, PP_ARG0 | FWD },
};

/* Does the function at vaddr only jump to another one of fn, in img? */
static bool forwards(const char *path, const struct elf_img *img,
		     uint64_t vaddr, const struct alloc_fn *fn, size_t n)
{
	uint64_t to_addr, v;
	char to[128];
	size_t i;

	/* by address: mimalloc's free is its mi_free under another name */
	if (jump_target(path, img, vaddr, to, sizeof(to)) ||
	    elf_img_sym_addr(img, to, &to_addr))
		return false;
	for (i = 0; i < n; i++)
		if (!elf_img_sym_addr(img, fn[i].name, &v) && v == to_addr)
			return true;
	return false;
}

static uint64_t placed(const char *path, const struct elf_img *img,
		       const char *name, uint64_t vaddr, uint64_t off,
		       unsigned args, bool verbose)
{
	const struct elf_sym *sym = elf_img_sym_at(img, vaddr);
	struct probe_place pp = { .off = 0 };
	uint8_t *code;
	int fd;

	if (!sym || sym->addr != vaddr || !sym->size || sym->size > 65536)
		return off;
	code = malloc(sym->size);
	fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (code && fd >= 0 &&
	    pread(fd, code, sym->size, off) == (ssize_t)sym->size)
		probe_place(code, sym->size, vaddr, args, &pp);
	else
		snprintf(pp.why, sizeof(pp.why), "+0 (cannot read the code)");
	if (fd >= 0)
		close(fd);
	free(code);
	if (verbose)
		fprintf(stderr, "heaptrail: %s: probe at %s\n", name, pp.why);
	return off + pp.off;
}

/*
 * Probe the functions fn[] of the ELF file at path (those it has); the
 * entries with a return come first in fn[]. How many were probed, or
 * -errno.
 */
static int attach_fns(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		      const struct elf_img *libc, const struct alloc_fn *fn,
		      size_t nfn, struct attach *a)
{
	uint64_t entry[ATTACH_MAX_FNS], off[ATTACH_MAX_FNS];
	uint64_t cookie[ATTACH_MAX_FNS], vaddr;
	size_t i, j, n = 0, nret = 0;
	int err = 0, fd;

	for (i = 0; i < nfn && n < ATTACH_MAX_FNS; i++) {
		if (elf_img_sym_addr(libc, fn[i].name, &vaddr) ||
		    elf_img_vaddr_to_off(libc, vaddr, &entry[n]))
			continue;	/* older libcs lack some of them */
		for (j = 0; j < n && entry[j] != entry[n]; j++)
			;
		if (j < n || ((fn[i].args & FWD) &&
			      forwards(path, libc, vaddr, alloc_fns,
				       ARRAY_SIZE(alloc_fns))))
			continue;
		off[n] = a->at_entry ? entry[n] :
			 placed(path, libc, fn[i].name, vaddr, entry[n],
				fn[i].args & ~FWD, a->verbose);
		cookie[n++] = fn[i].kind;
		/* the table lists every function with a return first */
		if (fn[i].args & PP_RET)
			nret = n;
	}
	if (!n)
		return -ENOENT;
	if (a->nraw + 2 > (int)(sizeof(a->raw) / sizeof(a->raw[0])))
		return -E2BIG;
	if (a->session) {
		/* entry and return in one link; free's entry asks no return */
		fd = uprobe_multi_link(bpf_program__fd(skel->progs.alloc_session),
				       HT_BPF_TRACE_UPROBE_SESSION, path, off,
				       cookie, n, false, pid);
		if (fd < 0)
			return fd;
		a->raw[a->nraw++] = fd;
		attach_note_sites(a, path, off, n);
		return n;
	}
	if (a->multi) {
		fd = uprobe_multi_link(bpf_program__fd(skel->progs.alloc_enter),
				       HT_BPF_TRACE_UPROBE_MULTI, path, off,
				       cookie, n, false, pid);
		if (fd < 0)
			return fd;
		a->raw[a->nraw++] = fd;
		fd = uprobe_multi_link(bpf_program__fd(skel->progs.alloc_exit),
				       HT_BPF_TRACE_UPROBE_MULTI, path, off,
				       cookie, nret, true, pid);
		if (fd < 0)
			return fd;
		a->raw[a->nraw++] = fd;
		attach_note_sites(a, path, off, n);
		return n;
	}
	for (i = 0; i < n && !err; i++) {
		err = probe(a, skel->progs.alloc_enter, pid, path, off[i],
			    cookie[i], false);
		if (!err && i < nret)
			err = probe(a, skel->progs.alloc_exit, pid, path, off[i],
				    cookie[i], true);
	}
	attach_note_sites(a, path, off, n);
	return err ? err : (int)n;
}

int attach_allocators(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		      const struct elf_img *libc, struct attach *a)
{
	uint64_t vaddr;

	int n;

	if (elf_img_sym_addr(libc, "malloc", &vaddr))
		return -ENOENT;
	n = attach_fns(skel, pid, path, libc, alloc_fns, ARRAY_SIZE(alloc_fns),
		       a);
	if (n < 0)
		return n;
	a->nfuncs = n;
	return 0;
}

int alloc_kind_by_name(const char *name, uint32_t *kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(alloc_fns); i++)
		if (!strcmp(alloc_fns[i].name, name) &&
		    !(alloc_fns[i].args & FWD)) {
			*kind = alloc_fns[i].kind;
			return 0;
		}
	return -ENOENT;
}

const char *alloc_kind_names(void)
{
	return "malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, free";
}

int attach_named(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		 const struct elf_img *img, const char *const *names,
		 const uint32_t *kinds, size_t n, struct attach *a)
{
	struct alloc_fn fn[ATTACH_MAX_FNS];
	size_t i, j, k, m = 0;

	/* those with a return first, as attach_fns wants them */
	for (k = 0; k < 2; k++)
		for (i = 0; i < n && m < ATTACH_MAX_FNS; i++) {
			if ((kinds[i] == HT_FREE) != k)
				continue;
			for (j = 0; j < ARRAY_SIZE(alloc_fns) &&
				    alloc_fns[j].kind != kinds[i]; j++)
				;
			if (j == ARRAY_SIZE(alloc_fns))
				return -EINVAL;
			fn[m].name = names[i];
			fn[m].kind = kinds[i];
			fn[m].args = alloc_fns[j].args & ~FWD;
			m++;
		}
	return attach_fns(skel, pid, path, img, fn, m, a);	/* how many */
}

void attach_note_sites(struct attach *a, const char *path,
		       const uint64_t *off, size_t n)
{
	struct stat st;
	size_t i;
	int fd;

	fd = safe_open(path, 0, SAFE_MAX_ELF);
	if (fd < 0)
		return;
	if (!fstat(fd, &st)) {
		for (i = 0; i < n && a->nsites < ATTACH_MAX_SITES; i++) {
			struct probe_site *p = &a->sites[a->nsites];

			if (pread(fd, &p->orig, 1, off[i]) != 1)
				continue;
			p->dev = st.st_dev;
			p->ino = st.st_ino;
			p->off = off[i];
			a->nsites++;
		}
	}
	close(fd);
}

int attach_syscalls(struct heaptrail_bpf *skel, struct attach *a)
{
	struct bpf_program *progs[] = {
		skel->progs.mmap_enter,	  skel->progs.mmap_exit,
		skel->progs.munmap_enter, skel->progs.munmap_exit,
		skel->progs.mremap_enter, skel->progs.mremap_exit,
		skel->progs.brk_enter,	  skel->progs.brk_exit,
		skel->progs.thread_exit,  skel->progs.madvise_enter,
		skel->progs.madvise_exit, skel->progs.fault_user,
		skel->progs.fault_kernel, skel->progs.fault_exec,
		skel->progs.proc_fork,	  skel->progs.proc_exec,
		skel->progs.proc_exit,
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (!bpf_program__autoload(progs[i]))
			continue;	/* not loaded in this mode */
		err = add_link(a, bpf_program__attach(progs[i]));
		if (err)
			return err;
	}
	return 0;
}

bool attach_probes_file(const struct attach *a, uint64_t dev, uint64_t ino)
{
	int i;

	for (i = 0; i < a->nsites; i++)
		if (a->sites[i].dev == dev && a->sites[i].ino == ino)
			return true;
	return false;
}

void detach_all(struct attach *a)
{
	while (a->nraw > 0)
		close(a->raw[--a->nraw]);
	while (a->n > 0)
		bpf_link__destroy(a->links[--a->n]);
}
