// SPDX-License-Identifier: GPL-2.0
/*
 * nullprobe OBJ PID LIBC: attach tests/nullprobe.bpf.c's empty program at
 * malloc's entry and return and at free's entry in PID, as heaptrail's
 * full mode does, until SIGINT or SIGTERM; then print "runs N ns T", the
 * runs and run time bpf_stats counted (bpf_stats must be on).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	done = 1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *fn;
		bool ret;
	} at[] = { { "malloc", false }, { "malloc", true }, { "free", false } };
	struct bpf_link *links[3] = {};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned int i;
	int pid;

	if (argc != 4) {
		fprintf(stderr, "usage: nullprobe OBJ PID LIBC\n");
		return 2;
	}
	pid = atoi(argv[2]);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "nullprobe: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "nop");
	for (i = 0; i < 3; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = at[i].fn,
			    .retprobe = at[i].ret);

		links[i] = bpf_program__attach_uprobe_opts(prog, pid, argv[3],
							   0, &o);
		if (!links[i]) {
			fprintf(stderr, "nullprobe: cannot attach to %s\n",
				at[i].fn);
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!done)
		pause();
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	printf("runs %llu ns %llu\n", (unsigned long long)info.run_cnt,
	       (unsigned long long)info.run_time_ns);
	for (i = 0; i < 3; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
