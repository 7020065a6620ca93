// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: `heaptrail diff` and its readers of folded and pprof
 * files (user/diff.c, user/profread.c). The first byte picks the form: 1
 * gzips the rest first, so that the pprof decoder sees data past the gzip
 * checksum.
 */
#define _GNU_SOURCE
#include <string.h>
#include <zlib.h>

#include "diff.h"
#include "memfile.h"

/* The rest of the input as one gzip member, written to fd. */
static void put_gzip(int fd, const uint8_t *data, size_t size)
{
	size_t cap = compressBound(size) + 64;
	uint8_t *out = malloc(cap);
	z_stream z = { 0 };

	if (!out || deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (uint8_t *)data;
	z.avail_in = size;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	if (pwrite(fd, out, z.total_out, 0) != (ssize_t)z.total_out)
		abort();
	deflateEnd(&z);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *argv[] = { "diff", path, path, NULL };

	if (size && data[0] == 1)
		put_gzip(memfile("fuzz-diff", path), data + 1, size - 1);
	else
		memfile_put("fuzz-diff", path, data, size);
	diff_main(3, argv);
	return 0;
}
