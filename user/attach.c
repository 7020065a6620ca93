// SPDX-License-Identifier: GPL-2.0
/* Attach heaptrail's programs to one process's libc and to syscalls. */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "attach.h"
#include "heaptrail.skel.h"

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

static int probe(struct attach *a, struct bpf_program *prog, pid_t pid,
		 const char *path, uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);

	return add_link(a, bpf_program__attach_uprobe_opts(prog, pid, path, off,
							   &opts));
}

int attach_allocators(struct heaptrail_bpf *skel, pid_t pid, const char *path,
		      const struct elf_img *libc, struct attach *a)
{
	/* aligned_alloc and memalign share one address in glibc: the first
	 * name listed labels both */
	const struct {
		const char *name;
		struct bpf_program *prog;
	} fn[] = {
		{ "malloc", skel->progs.malloc_enter },
		{ "calloc", skel->progs.calloc_enter },
		{ "realloc", skel->progs.realloc_enter },
		{ "reallocarray", skel->progs.reallocarray_enter },
		{ "posix_memalign", skel->progs.posix_memalign_enter },
		{ "aligned_alloc", skel->progs.aligned_alloc_enter },
		{ "memalign", skel->progs.memalign_enter },
		{ "valloc", skel->progs.valloc_enter },
		{ "pvalloc", skel->progs.pvalloc_enter },
		{ "free", skel->progs.free_enter },
	};
	uint64_t done[sizeof(fn) / sizeof(fn[0])];
	size_t i, j, ndone = 0;
	int err;

	for (i = 0; i < sizeof(fn) / sizeof(fn[0]); i++) {
		uint64_t vaddr, off;

		if (elf_img_sym_addr(libc, fn[i].name, &vaddr) ||
		    elf_img_vaddr_to_off(libc, vaddr, &off))
			continue;	/* older libcs lack some of them */
		for (j = 0; j < ndone && done[j] != off; j++)
			;
		if (j < ndone)
			continue;
		done[ndone++] = off;
		err = probe(a, fn[i].prog, pid, path, off, false);
		if (!err && fn[i].prog != skel->progs.free_enter)
			err = probe(a, skel->progs.alloc_exit, pid, path, off,
				    true);
		if (err)
			return err;
		a->nfuncs++;
	}
	if (elf_img_sym_addr(libc, "malloc", &done[0]))
		return -ENOENT;
	return 0;
}

int attach_syscalls(struct heaptrail_bpf *skel, struct attach *a)
{
	struct bpf_program *progs[] = {
		skel->progs.mmap_enter,	  skel->progs.mmap_exit,
		skel->progs.munmap_enter, skel->progs.munmap_exit,
		skel->progs.mremap_enter, skel->progs.mremap_exit,
		skel->progs.brk_enter,	  skel->progs.brk_exit,
		skel->progs.thread_exit,
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		err = add_link(a, bpf_program__attach(progs[i]));
		if (err)
			return err;
	}
	return 0;
}

void detach_all(struct attach *a)
{
	while (a->n > 0)
		bpf_link__destroy(a->links[--a->n]);
}
