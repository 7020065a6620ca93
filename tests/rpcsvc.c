// SPDX-License-Identifier: GPL-2.0
/*
 * A service with a stable connection pool that leaks slowly through
 * librpc.so: its request struct (the newer ABI) puts retries where the old
 * library expects a flag. Prints "ready PID", then serves until SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int rpc_call(const void *req);

struct rpc_req_v2 {		/* the header the service was built with */
	const char *body;
	unsigned int len;
	unsigned int retries;	/* the old library reads this as a flag */
};

#define POOL 64
#define CONN_BUF 16384

static void *pool[POOL];

__attribute__((noinline)) void pool_init(void)
{
	for (int i = 0; i < POOL; i++)
		pool[i] = calloc(1, CONN_BUF);
}

__attribute__((noinline)) int handle_request(unsigned long n)
{
	struct rpc_req_v2 req = { "ping", 4, n % 8 == 0 };

	return rpc_call(&req);
}

int main(void)
{
	struct timespec tick = { 0, 1000 * 1000 };

	pool_init();
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (unsigned long n = 1;; n++) {
		handle_request(n);
		nanosleep(&tick, NULL);
	}
	return 0;
}
