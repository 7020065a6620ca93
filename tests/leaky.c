// SPDX-License-Identifier: GPL-2.0
/*
 * The demo: a service whose request handler leaks the buffer that a
 * library's encode() allocates. leaky SIZE COUNT_PER_SEC SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) char *encode(const char *msg, size_t len)
{
	char *buf = malloc(len);

	memset(buf, 0, len);
	strncpy(buf, msg, len - 1);
	return buf;
}

__attribute__((noinline)) void send_reply(char *buf)
{
	sink = buf;	/* sent, never freed */
}

__attribute__((noinline)) void handle_request(size_t size)
{
	char *tmp = malloc(4096);	/* freed: not a leak */

	snprintf(tmp, 4096, "reply");
	send_reply(encode(tmp, size));
	free(tmp);
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024;
	int rate = argc > 2 ? atoi(argv[2]) : 100;
	int secs = argc > 3 ? atoi(argv[3]) : 60;

	for (int s = 0; s < secs * rate; s++) {
		handle_request(size);
		usleep(1000000 / rate);
	}
	return 0;
}
