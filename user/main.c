// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail: which call stacks hold a live process's memory, and keep
 * growing. Attaches to a running PID (or starts a command) with uprobes on
 * its libc allocator and syscall tracepoints; reports the top outstanding
 * stacks every interval and at the end.
 */
#include <string.h>

#include "diff.h"
#include "offline.h"
#include "trace.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "symbolize"))
		return symbolize_main(argc - 1, argv + 1);
	return trace_main(argc, argv);
}
