// SPDX-License-Identifier: GPL-2.0
/*
 * An RPC library built against an older ABI of its own header (the second
 * seed case): the caller's struct has grown a field, so the library reads
 * the caller's retry count as its "keep frame" flag and, for every eighth
 * request, keeps the frame it allocated. No frame pointers, like a
 * distribution library.
 */
#include <stdlib.h>
#include <string.h>

#define RPC_FRAME 1024

struct rpc_req_v1 {		/* what the library was built with */
	const char *body;
	unsigned int len;
	unsigned int keep_frame;	/* a later header put retries here */
};

static void *volatile wire;

__attribute__((noinline)) char *rpc_frame_alloc(unsigned int len)
{
	char *f = malloc(RPC_FRAME);

	memset(f, 0, 16);
	f[0] = (char)len;
	return f;
}

__attribute__((noinline)) int rpc_call(const void *req)
{
	const struct rpc_req_v1 *r = req;
	char *frame = rpc_frame_alloc(r->len);

	wire = frame;
	if (!r->keep_frame)
		free(frame);
	__asm__ volatile("" ::: "memory");
	return 0;
}
