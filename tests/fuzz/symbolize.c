// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: `heaptrail symbolize` (user/offline.c) on an
 * arbitrary saved report: its frame lines and "unsymbolized module" lines
 * (build IDs, paths) come from wherever the report was made.
 */
#define _GNU_SOURCE
#include "offline.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *argv[] = { "symbolize", "--debug-dir",
			 (char *)empty_debug_dir("fuzz-symbolize"), path,
			 NULL };

	memfile_put("fuzz-symbolize", path, data, size);
	symbolize_main(4, argv);
	return 0;
}
