/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_KSYMS_H
#define HT_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's function symbols from /proc/kallsyms, sorted by address:
 * a kernel pc is named by the last symbol at or below it.
 */
struct ksym {
	uint64_t addr;
	uint32_t name;		/* offset into ksyms.names */
	uint32_t mod;		/* offset of the module's name: "kernel" for
				 * vmlinux, "bpf" for BPF programs */
};

struct ksyms {
	struct ksym *v;
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
};

/* Lowest kernel address on x86-64: a pc at or above it is the kernel's. */
#define KSYM_KERNEL_START 0xffff800000000000ULL

/*
 * Load path (/proc/kallsyms if NULL). -EPERM when the addresses are
 * hidden (kptr_restrict, or no CAP_SYSLOG), -errno otherwise.
 */
int ksyms_load(struct ksyms *k, const char *path);
/* The symbol that holds pc, or NULL below the first one. */
const struct ksym *ksyms_find(const struct ksyms *k, uint64_t pc);
/* vmlinux's function name: [*lo, *hi), to the next symbol. -ENOENT. */
int ksyms_range(const struct ksyms *k, const char *name, uint64_t *lo,
		uint64_t *hi);
static inline const char *ksym_name(const struct ksyms *k,
				    const struct ksym *s)
{
	return k->names + s->name;
}
static inline const char *ksym_module(const struct ksyms *k,
				      const struct ksym *s)
{
	return k->names + s->mod;
}
void ksyms_free(struct ksyms *k);

#endif
