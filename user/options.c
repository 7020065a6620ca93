// SPDX-License-Identifier: GPL-2.0
/* Command-line options of a trace run: parsed and checked once. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"
#include "util.h"
#include "version.h"

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "heaptrail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see heaptrail --help)\n");
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: heaptrail -p PID [options]\n"
"       heaptrail --cgroup PATH [options]\n"
"       heaptrail -a [options]         (every process)\n"
"       heaptrail [options] -- COMMAND [ARGS...]\n"
"       heaptrail --kernel [options]   (the kernel's allocations)\n"
"       heaptrail diff [-n N] [--grown-only] OLD NEW   (saved folded/pprof)\n"
"       heaptrail symbolize [--debug-dir DIR]... [REPORT] (saved text report)\n"
"Report the call stacks that hold a process's outstanding memory.\n"
"SEC is seconds, or a number with a unit: 500ms, 30s, 5m, 2h.\n\n"
"  -p, --pid PID          attach to this running process (no restart)\n"
"      --kernel           no process: the kernel's outstanding kmalloc,\n"
"                         kmem_cache and page allocations by kernel stack\n"
"                         (kmem tracepoints; --max-allocs default 262144)\n"
"  -i, --interval SEC     report every SEC seconds (default 10; with -d, only\n"
"                         the final report unless -i is given)\n"
"  -d, --duration SEC     stop after SEC seconds (default: Ctrl-C, SIGTERM\n"
"                         or the target's exit)\n"
"  -n, --top N            stacks per report (default 10)\n"
"  -f, --folded PATH      write folded stacks of outstanding bytes at every\n"
"                         report: to PATH, or to a new file per report if\n"
"                         PATH is a directory\n"
"      --ages             per stack, the oldest live allocation and an age\n"
"                         histogram (reads every live allocation: slower)\n"
"      --min-age SEC      count only allocations at least SEC seconds old\n"
"                         (implies --ages)\n"
"      --json             print each report as one JSON object per line\n"
"                         (schema: user/report.schema.json)\n"
"      --pprof PATH       write a gzipped pprof profile (inuse/alloc space and\n"
"                         objects; pid, command line, time and interval in its\n"
"                         comments) at every report: to PATH, or to a new file\n"
"                         per report if PATH is a directory\n"
"      --keep N           in an output directory, keep only the newest N files\n"
"      --unwind MODE      fp, dwarf or auto (default): where to use .eh_frame\n"
"                         instead of frame pointers (auto: modules without)\n"
"      --max-allocs N     live allocations tracked (default 1048576)\n"
"      --max-stacks N     distinct stacks kept (default 65536)\n"
"      --max-mappings N   live mappings tracked (default 65536)\n"
"      --btf FILE         kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
"      --libc FILE        libc of COMMAND (default: the one heaptrail uses)\n"
"      --alloc-syms NAME=KIND[,NAME=KIND...]\n"
"                         probe the program's own allocator functions NAME\n"
"                         (in any module) as KIND: malloc, calloc, realloc,\n"
"                         free, ... (my_alloc=malloc,my_free=free)\n"
"      --debug-dir DIR    also look for separate debug files in DIR (by\n"
"                         .build-id/xx/rest.debug and .gnu_debuglink name)\n"
"      --no-demangle      print C++ names as the linker sees them\n"
"      --no-uprobe-multi  one uprobe per function even where the kernel has\n"
"                         uprobe_multi links (Linux 6.6+, probed at start)\n"
"      --sample BYTES     sample one allocation per BYTES allocated, on\n"
"                         average (Poisson, as tcmalloc; 0, the default:\n"
"                         every allocation); figures become\n"
"                         unbiased estimates; with session uprobes (Linux\n"
"                         6.13+) a call not sampled costs one trap\n"
"      --no-session       entry and return uprobes even where the kernel\n"
"                         has session uprobes\n"
"      --follow-forks     trace the processes the target forks too (and\n"
"                         theirs), each reported by PID; the allocator\n"
"                         probes then filter by process in BPF\n"
"      --cgroup PATH      trace every process of the cgroup v2 directory\n"
"                         PATH (and those started in it later), each\n"
"                         reported by PID\n"
"  -a, --all              trace every process of the machine (and those\n"
"                         started later), each reported by PID\n"
"      --keep-running     leave COMMAND running when heaptrail stops\n"
"                         (default: SIGTERM, SIGKILL 2 s later, reaped)\n"
"      --faults           no allocator probes at all: charge each anonymous\n"
"                         page to the stack that first writes it (always-on\n"
"                         use; RSS growth, not allocations)\n"
"      --probe-at-entry   every probe at function+0, as other tools place\n"
"                         them (default: the first emulated instruction)\n"
"  -o, --output FILE      print the reports (text or --json) to FILE, not\n"
"                         stdout (which a COMMAND shares)\n"
"  -z, --min-size BYTES   trace only allocations of at least BYTES\n"
"  -Z, --max-size BYTES   trace only allocations of at most BYTES\n"
"  -v, --verbose          print libbpf messages and where each probe went\n"
"  -h, --help             this help\n"
"  -V, --version          print heaptrail's version\n");
}

/* Seconds, or with a unit: 500ms, 30s, 5m, 2h. */
static double parse_seconds(const char *s, const char *what, bool zero_ok)
{
	static const struct {
		const char *unit;
		double s;
	} units[] = { { "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "m", 60 },
		      { "h", 3600 } };
	char *end;
	double v;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	for (i = 0; i < ARRAY_SIZE(units) && strcmp(end, units[i].unit); i++)
		;
	/* written so that nan, which compares false, is refused too */
	if (errno || end == s || i == ARRAY_SIZE(units) || isalpha(*s) ||
	    !(v >= 0 && v * units[i].s <= 1e7) || (!zero_ok && !(v > 0)))
		die_usage("invalid %s '%s': expected seconds%s (or 500ms, 5m, 2h)",
			  what, s, zero_ok ? "" : " > 0");
	return v * units[i].s;
}

static unsigned long parse_count(const char *s, const char *what,
				 unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || !v || v > max || *s == '-')
		die_usage("invalid %s '%s': expected 1..%lu", what, s, max);
	return v;
}

/* An existing directory, or a path ending in '/': one file per report. */
static bool is_dir_arg(const char *path)
{
	size_t l = strlen(path);
	struct stat st;

	return (!stat(path, &st) && S_ISDIR(st.st_mode)) ||
	       (l && path[l - 1] == '/');
}

void parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_UNWIND = 256, O_MAXA, O_MAXS, O_MAXM, O_BTF, O_LIBC, O_PPROF,
	       O_JSON, O_AGES, O_MINAGE, O_KEEP, O_NOMULTI, O_DEBUG_DIR,
	       O_NO_DEMANGLE, O_AT_ENTRY, O_FAULTS, O_SAMPLE, O_NO_SESSION,
	       O_KEEP_RUNNING, O_FOLLOW_FORKS, O_CGROUP, O_KERNEL,
	       O_ALLOC_SYMS };
	/* what traces a process and means nothing with --kernel */
	static const struct {
		int c;
		const char *name;
	} proc_only[] = {
		{ 'p', "-p" }, { O_SAMPLE, "--sample" }, { O_FAULTS, "--faults" },
		{ O_AGES, "--ages" }, { O_MINAGE, "--min-age" },
		{ O_UNWIND, "--unwind" }, { O_LIBC, "--libc" },
		{ O_DEBUG_DIR, "--debug-dir" }, { O_NO_DEMANGLE, "--no-demangle" },
		{ O_NOMULTI, "--no-uprobe-multi" },
		{ O_AT_ENTRY, "--probe-at-entry" },
		{ O_NO_SESSION, "--no-session" },
		{ O_KEEP_RUNNING, "--keep-running" },
		{ O_MAXM, "--max-mappings" }, { O_FOLLOW_FORKS, "--follow-forks" },
		{ O_CGROUP, "--cgroup" }, { O_ALLOC_SYMS, "--alloc-syms" },
		{ 'a', "-a" },
	};
	static const struct option lo[] = {
		{ "kernel", no_argument, NULL, O_KERNEL },
		{ "pid", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "top", required_argument, NULL, 'n' },
		{ "folded", required_argument, NULL, 'f' },
		{ "pprof", required_argument, NULL, O_PPROF },
		{ "json", no_argument, NULL, O_JSON },
		{ "ages", no_argument, NULL, O_AGES },
		{ "keep", required_argument, NULL, O_KEEP },
		{ "no-uprobe-multi", no_argument, NULL, O_NOMULTI },
		{ "probe-at-entry", no_argument, NULL, O_AT_ENTRY },
		{ "faults", no_argument, NULL, O_FAULTS },
		{ "sample", required_argument, NULL, O_SAMPLE },
		{ "min-size", required_argument, NULL, 'z' },
		{ "max-size", required_argument, NULL, 'Z' },
		{ "no-session", no_argument, NULL, O_NO_SESSION },
		{ "keep-running", no_argument, NULL, O_KEEP_RUNNING },
		{ "follow-forks", no_argument, NULL, O_FOLLOW_FORKS },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "all", no_argument, NULL, 'a' },
		{ "min-age", required_argument, NULL, O_MINAGE },
		{ "unwind", required_argument, NULL, O_UNWIND },
		{ "max-allocs", required_argument, NULL, O_MAXA },
		{ "max-stacks", required_argument, NULL, O_MAXS },
		{ "max-mappings", required_argument, NULL, O_MAXM },
		{ "btf", required_argument, NULL, O_BTF },
		{ "libc", required_argument, NULL, O_LIBC },
		{ "alloc-syms", required_argument, NULL, O_ALLOC_SYMS },
		{ "debug-dir", required_argument, NULL, O_DEBUG_DIR },
		{ "no-demangle", no_argument, NULL, O_NO_DEMANGLE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{},
	};
	bool have_interval = false, have_max_allocs = false;
	const char *proc_opt = NULL;	/* the last process-only option */
	size_t i;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval = 10;
	o->top = 10;
	o->max_allocs = 1 << 20;
	o->max_size = ULONG_MAX;
	o->max_stacks = 65536;
	o->max_mappings = 65536;
	while ((c = getopt_long(argc, argv, "+ap:i:d:n:f:o:z:Z:vhV", lo, NULL)) != -1) {
		for (i = 0; i < ARRAY_SIZE(proc_only); i++)
			if (proc_only[i].c == c)
				proc_opt = proc_only[i].name;
		switch (c) {
		case O_KERNEL:
			o->kernel = true;
			break;
		case 'p':
			o->pid = parse_count(optarg, "PID", INT_MAX);
			break;
		case 'i':
			o->interval = parse_seconds(optarg, "interval", false);
			have_interval = true;
			break;
		case 'd':
			o->duration = parse_seconds(optarg, "duration", false);
			break;
		case 'n':
			o->top = parse_count(optarg, "top count", 100000);
			break;
		case 'f':
			o->folded = optarg;
			break;
		case O_NOMULTI:
			o->no_multi = true;
			break;
		case O_AT_ENTRY:
			o->at_entry = true;
			break;
		case O_FAULTS:
			o->faults = true;
			break;
		case O_SAMPLE:
			/* 0, the default, is every allocation; at most 4 GiB
			 * keeps a 1-byte sample's count (BYTES) in 32 bits */
			o->sample = strcmp(optarg, "0") ?
				    parse_count(optarg, "--sample", 1UL << 32) : 0;
			break;
		case O_NO_SESSION:
			o->no_session = true;
			break;
		case O_FOLLOW_FORKS:
			o->follow_forks = true;
			break;
		case O_CGROUP:
			o->cgroup = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case O_KEEP_RUNNING:
			o->keep_running = true;
			break;
		case O_KEEP:
			o->keep = parse_count(optarg, "--keep", 1000000);
			break;
		case O_AGES:
			o->ages = true;
			break;
		case O_MINAGE:
			o->min_age = parse_seconds(optarg, "--min-age", false);
			o->ages = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_PPROF:
			o->pprof = optarg;
			break;
		case O_UNWIND:
			if (!strcmp(optarg, "auto"))
				o->unwind = UNWIND_AUTO;
			else if (!strcmp(optarg, "fp"))
				o->unwind = UNWIND_FP;
			else if (!strcmp(optarg, "dwarf"))
				o->unwind = UNWIND_DWARF;
			else
				die_usage("invalid unwind mode '%s': expected fp, dwarf or auto",
					  optarg);
			break;
		case O_MAXA:
			o->max_allocs = parse_count(optarg, "--max-allocs", 1UL << 26);
			have_max_allocs = true;
			break;
		case O_MAXS:
			o->max_stacks = parse_count(optarg, "--max-stacks", 1UL << 22);
			break;
		case O_MAXM:
			o->max_mappings = parse_count(optarg, "--max-mappings", 1UL << 22);
			break;
		case O_BTF:
			o->btf = optarg;
			break;
		case O_LIBC:
			o->libc = optarg;
			break;
		case O_ALLOC_SYMS: {
			char why[512];

			if (alloc_syms_parse(optarg, &o->alloc_syms, why,
					     sizeof(why)))
				die_usage("--alloc-syms: %s", why);
			break;
		}
		case O_DEBUG_DIR:
			if (o->ndebug_dirs == MAX_DEBUG_DIRS)
				die_usage("at most %d --debug-dir", MAX_DEBUG_DIRS);
			o->debug_dirs[o->ndebug_dirs++] = optarg;
			/* a typo would silently leave frames unnamed */
			if (access(optarg, X_OK))
				fprintf(stderr, "heaptrail: warning: --debug-dir %s: %s\n",
					optarg, strerror(errno));
			break;
		case O_NO_DEMANGLE:
			o->no_demangle = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'o':
			o->output = optarg;
			break;
		case 'z':
			o->min_size = parse_count(optarg, "--min-size", ULONG_MAX);
			break;
		case 'Z':
			o->max_size = parse_count(optarg, "--max-size", ULONG_MAX);
			break;
		case 'V':
			printf("heaptrail %s\n", HT_VERSION);
			exit(0);
		default:
			fprintf(stderr, "(see heaptrail --help)\n");
			exit(2);
		}
	}
	if (optind < argc)
		o->cmd = &argv[optind];
	if (o->kernel && o->cmd)
		die_usage("--kernel traces the kernel: no COMMAND");
	if (o->kernel && proc_opt)
		die_usage("%s traces a process: not with --kernel", proc_opt);
	/* the kernel's live map is preallocated (bpf/kmem.bpf.c) */
	if (o->kernel && !have_max_allocs)
		o->max_allocs = 1 << 18;
	if (o->all && o->cgroup)
		die_usage("-a traces every process: no --cgroup with it");
	if ((o->cgroup || o->all) && (o->pid || o->cmd))
		die_usage("%s traces many processes: no -p PID or COMMAND with it",
			  o->all ? "-a" : "--cgroup");
	if ((o->cgroup || o->all) && o->faults)
		die_usage("--faults traces one process: %s needs allocator probes",
			  o->all ? "-a" : "--cgroup");
	/* the same mechanism: each process a slot, new ones followed */
	if (o->cgroup || o->all)
		o->follow_forks = true;
	else if (!o->kernel && !o->pid == !o->cmd)
		die_usage(o->pid ? "give either -p PID or a COMMAND, not both"
				 : "no target: give -p PID, -- COMMAND, --cgroup PATH or -a");
	if (o->faults && o->follow_forks)
		die_usage("--faults traces one process: --follow-forks needs allocator probes");
	/* one mapping table per profile: others' stacks would be misnamed */
	if (o->follow_forks && o->pprof)
		die_usage("--pprof names stacks from one process's mappings: not with %s (use --folded or --json)",
			  o->all ? "-a" : o->cgroup ? "--cgroup" : "--follow-forks");
	if (o->faults && o->sample)
		die_usage("--sample and --faults exclude each other");
	if (o->faults && (o->min_size || o->max_size != ULONG_MAX))
		die_usage("--faults counts pages: --min-size and --max-size need allocator probes");
	if (o->min_size > o->max_size)
		die_usage("--min-size %lu is above --max-size %lu", o->min_size,
			  o->max_size);
	if (o->duration && !have_interval)
		o->interval = 0;
	o->folded_dir = o->folded && is_dir_arg(o->folded);
	o->pprof_dir = o->pprof && is_dir_arg(o->pprof);
	if (o->keep && !o->folded_dir && !o->pprof_dir)
		die_usage("--keep needs --folded or --pprof with a directory");
}
