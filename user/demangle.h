/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DEMANGLE_H
#define HT_DEMANGLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * C++ names made readable, each demangled once: results are cached by the
 * address of the raw name, which must stay valid as long as the cache.
 */
struct demangler {
	struct dm_slot *v;
	size_t cap, n;
	bool off;		/* --no-demangle: hand names back raw */
};

const char *demangle(struct demangler *d, const char *name);
void demangler_free(struct demangler *d);
/* operator new/new[]/delete/delete[], any sized, aligned or nothrow form */
bool cxx_allocator(const char *mangled);

#endif
