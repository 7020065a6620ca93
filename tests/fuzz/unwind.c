// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the unwind-row builder (user/unwind.c) on arbitrary
 * bytes, as the .eh_frame of a module the traced program maps.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct unwind_table t = { 0 };

	memfile_put("fuzz-unwind", path, data, size);
	unwind_add_file(&t, path, 0, 0, 1);
	unwind_free(&t);
	return 0;
}
