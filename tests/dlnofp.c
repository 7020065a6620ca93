// SPDX-License-Identifier: GPL-2.0
/*
 * dlnofp FIRST_SIZE LATER_SIZE COUNT: dlopen libnofp.so (no frame
 * pointers) from this program's directory, at once allocate COUNT blocks
 * of FIRST_SIZE through nofp_first(), 300 ms later COUNT of LATER_SIZE
 * through nofp_later(), and exit with all of them still held.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*alloc_fn)(size_t);

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	alloc_fn first, later;
	size_t fsize, lsize;
	ssize_t len;
	void **keep;
	char *slash;
	int i, n;
	void *h;

	if (argc != 4) {
		fprintf(stderr, "usage: dlnofp FIRST_SIZE LATER_SIZE COUNT\n");
		return 2;
	}
	fsize = strtoul(argv[1], NULL, 0);
	lsize = strtoul(argv[2], NULL, 0);
	n = atoi(argv[3]);
	len = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (len < 0)
		return 1;
	path[len] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libnofp.so");
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlnofp: %s\n", dlerror());
		return 1;
	}
	first = (alloc_fn)dlsym(h, "nofp_first");
	later = (alloc_fn)dlsym(h, "nofp_later");
	/* held to the end: the blocks are the leak the test counts */
	keep = calloc(2 * n, sizeof(*keep));
	if (!first || !later || !keep)
		return 1;
	for (i = 0; i < n; i++)
		keep[i] = first(fsize);
	usleep(300000);
	for (i = 0; i < n; i++)
		keep[n + i] = later(lsize);
	printf("done %p\n", (void *)keep);
	return 0;
}
