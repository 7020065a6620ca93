// SPDX-License-Identifier: GPL-2.0
/*
 * heaptrail: which call stacks hold a live process's memory, and keep
 * growing. Attaches to a running PID (or starts a command) with uprobes on
 * its libc allocator and syscall tracepoints; reports the top outstanding
 * stacks every interval and at the end.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "aggsync.h"
#include "ages.h"
#include "attach.h"
#include "child.h"
#include "diff.h"
#include "elfimg.h"
#include "folded.h"
#include "forks.h"
#include "progkind.h"
#include "json.h"
#include "heaptrail.skel.h"
#include "offline.h"
#include "outfile.h"
#include "pprof.h"
#include "procmaps.h"
#include "procmem.h"
#include "procstat.h"
#include "purge.h"
#include "profile.h"
#include "report.h"
#include "debugfind.h"
#include "sample.h"
#include "symbolize.h"
#include "tracefs.h"
#include "stackcache.h"
#include "trend.h"
#include "unwind.h"
#include "util.h"
#include "version.h"

#define REFRESH_MS 1000	/* how often the target's maps are re-read */
/*
 * How often the process's memory is read: a command that ends within a
 * second had a final report with the memory of its start (the kernel
 * frees it before the exit can be seen). One read costs about 30 us.
 */
#define MEM_MS 100
#define ROW_HEADROOM 262144	/* unwind rows for libraries loaded later */

#define MAX_DEBUG_DIRS 16

struct opts {
	pid_t pid;
	const char *debug_dirs[MAX_DEBUG_DIRS];
	int ndebug_dirs;
	bool no_demangle;
	char **cmd;
	double interval;	/* 0: only the final report */
	double duration;	/* 0: until signal or exit */
	int top;
	const char *folded;
	bool folded_dir;
	const char *pprof;
	bool pprof_dir;
	unsigned keep;		/* files kept per output directory; 0: all */
	bool json;
	bool ages;		/* walk live allocations for their ages */
	double min_age;
	const char *btf;
	const char *libc;
	enum unwind_mode unwind;
	unsigned long max_allocs, max_stacks, max_mappings;
	bool verbose;
	bool no_multi;		/* one perf-event uprobe per function */
	bool at_entry;		/* probes at function+0 (for comparisons) */
	bool faults;		/* no allocator probes: first-touched pages */
	unsigned long sample;	/* mean bytes per sample; 0: every call */
	unsigned long min_size, max_size;	/* traced sizes, inclusive */
	const char *output;	/* -o: the reports' file, not stdout */
	bool no_session;	/* entry+return uprobes even with sessions */
	bool keep_running;	/* leave COMMAND running at the end */
};

struct session {
	struct opts o;
	struct heaptrail_bpf *skel;
	struct attach links;
	struct symbolizer sym;
	struct unwind_table unw;
	size_t rows_cap;	/* size of the BPF rows array */
	char comm[64];
	char cmdline[512];
	char alloc_lib[256];	/* a replacement allocator probed at the gate */
	bool write_failed;	/* an output file could not be written */
	pid_t child;		/* the command we started, or 0 */
	int pidfd;
	int sigfd;
	uint64_t start_ms;
	bool gone;		/* the target has exited */
	uint64_t gone_ms;	/* when heaptrail saw it gone */
	int status;		/* the command's wait status, once gone */
	struct aggsync agg;	/* copy of the BPF aggregates */
	struct written folded_files, pprof_files;	/* for --keep */
	FILE *out;		/* the reports: stdout, or -o FILE */
	struct stackcache frames;	/* frames of the stacks seen */
	struct trend trend;	/* per-stack history, for leak ranking */
	struct ht_agg_key *pending;	/* changed since the last trend point */
	size_t npending, pcap;
	uint64_t last_sample_ms;
	struct proc_mem mem0, mem;	/* at attach, and last read */
	bool have_mem;
	struct ring_buffer *events;	/* the target's forks and execs */
	uint64_t unprobed;	/* children whose breakpoints went */
	uint64_t exec_ns;	/* an exec to act on: when (BPF clock) */
	bool cmd_execd;		/* -- COMMAND: its own first exec seen */
	bool gate_waiting;	/* -- COMMAND ran exec: the gate stops it */
	bool probe_pending;	/* -p ran exec: probe its new allocator */
	struct exec_note execs;	/* the target's execs, for reports */
};

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
"       heaptrail [options] -- COMMAND [ARGS...]\n"
"       heaptrail diff [-n N] [--grown-only] OLD NEW   (saved folded/pprof)\n"
"       heaptrail symbolize [--debug-dir DIR]... [REPORT] (saved text report)\n"
"Report the call stacks that hold a process's outstanding memory.\n"
"SEC is seconds, or a number with a unit: 500ms, 30s, 5m, 2h.\n\n"
"  -p, --pid PID          attach to this running process (no restart)\n"
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

static void parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_UNWIND = 256, O_MAXA, O_MAXS, O_MAXM, O_BTF, O_LIBC, O_PPROF,
	       O_JSON, O_AGES, O_MINAGE, O_KEEP, O_NOMULTI, O_DEBUG_DIR,
	       O_NO_DEMANGLE, O_AT_ENTRY, O_FAULTS, O_SAMPLE, O_NO_SESSION,
	       O_KEEP_RUNNING };
	static const struct option lo[] = {
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
		{ "min-age", required_argument, NULL, O_MINAGE },
		{ "unwind", required_argument, NULL, O_UNWIND },
		{ "max-allocs", required_argument, NULL, O_MAXA },
		{ "max-stacks", required_argument, NULL, O_MAXS },
		{ "max-mappings", required_argument, NULL, O_MAXM },
		{ "btf", required_argument, NULL, O_BTF },
		{ "libc", required_argument, NULL, O_LIBC },
		{ "debug-dir", required_argument, NULL, O_DEBUG_DIR },
		{ "no-demangle", no_argument, NULL, O_NO_DEMANGLE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{},
	};
	bool have_interval = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval = 10;
	o->top = 10;
	o->max_allocs = 1 << 20;
	o->max_size = ULONG_MAX;
	o->max_stacks = 65536;
	o->max_mappings = 65536;
	while ((c = getopt_long(argc, argv, "+p:i:d:n:f:o:z:Z:vhV", lo, NULL)) != -1) {
		switch (c) {
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
	if (!o->pid == !o->cmd)
		die_usage(o->pid ? "give either -p PID or a COMMAND, not both"
				 : "no target: give -p PID or -- COMMAND");
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	return 0;
}

static bool have_privileges(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_SYS_ADMIN covers BPF, perf events and /proc/PID/map_files */
	return eff & (1ULL << 21);
}

static void init_symbolizer(struct session *s)
{
	int i;

	symbolizer_init(&s->sym, s->o.pid);
	symbolizer_set_demangle(&s->sym, !s->o.no_demangle);
	for (i = 0; i < s->o.ndebug_dirs; i++)
		symbolizer_add_debug_dir(&s->sym, s->o.debug_dirs[i]);
}

static void read_comm(pid_t pid, char *buf, size_t len)
{
	char fn[64];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/comm", pid);
	f = fopen(fn, "re");
	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "?");
	buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static void read_cmdline(pid_t pid, char *buf, size_t len)
{
	char fn[64];
	ssize_t n = 0, i;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/cmdline", pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/* Fork the command, stopped until the probes are in place. */
static int spawn(struct session *s, int *gate_fd)
{
	int gate[2], errp[2], err = 0;
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		sigset_t none;
		char c;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(gate[1]);
		close(errp[0]);
		if (read(gate[0], &c, 1) != 1)
			_exit(127);
		execvp(s->o.cmd[0], s->o.cmd);
		err = errno;
		if (write(errp[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(gate[0]);
	close(errp[1]);
	s->child = pid;
	s->o.pid = pid;
	*gate_fd = gate[1];
	/* EOF on errp means exec succeeded: CLOEXEC closed the child's end */
	return errp[0];
}

static int exec_result(int errfd)
{
	int err = 0;
	ssize_t n = read(errfd, &err, sizeof(err));

	close(errfd);
	return n == sizeof(err) ? -err : 0;
}

/* Write new unwind rows and the current module placement to BPF. */
/*
 * Where the allocator's free() is mapped in the target, for the BPF side:
 * what it maps from inside free() is the allocator's (see walked_in_free).
 */
static void set_free_range(struct session *s)
{
	const struct pmap *lp = find_allocator(&s->sym.maps);
	const struct sym_mod *m = lp ? symbolizer_module(&s->sym, lp) : NULL;
	const struct elf_sym *sym;
	uint64_t vaddr, off;
	size_t i;

	if (!m || !m->img || elf_img_sym_addr(m->img, "free", &vaddr) ||
	    !(sym = elf_img_sym_at(m->img, vaddr)) || sym->addr != vaddr ||
	    elf_img_vaddr_to_off(m->img, vaddr, &off))
		return;
	for (i = 0; i < s->sym.maps.n; i++) {
		const struct pmap *pm = &s->sym.maps.v[i];

		if (pm->inode != lp->inode || !pm->exec || off < pm->pgoff ||
		    off >= pm->pgoff + (pm->end - pm->start))
			continue;
		s->skel->bss->free_hi = 0;	/* never a half-written range */
		s->skel->bss->free_lo = pm->start + off - pm->pgoff;
		s->skel->bss->free_hi = s->skel->bss->free_lo + sym->size;
		return;
	}
}

static void sync_unwind(struct session *s)
{
	bool moved;

	unwind_scan(&s->unw, &s->sym, s->o.pid, s->o.unwind);
	if (unwind_sync(&s->unw, &s->sym, bpf_map__fd(s->skel->maps.urows),
			bpf_map__fd(s->skel->maps.modules), s->rows_cap, &moved))
		fprintf(stderr,
			"heaptrail: no room for the unwind rows of a library loaded since attach: its frames fall back to frame pointers\n");
	/* the BPF side's cached rows are stale once modules moved */
	if (moved)
		__atomic_add_fetch(&s->skel->bss->unwind_gen, 1, __ATOMIC_SEQ_CST);
	if (!s->o.faults)
		set_free_range(s);
}

/* How deep heaptrail's PID namespace is: NSpid has one PID a level. */
static unsigned int pidns_level(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (; *p; p++)
			if (isdigit((unsigned char)*p) &&
			    (p[-1] == ' ' || p[-1] == '\t'))
				n++;
	}
	fclose(f);
	return n ? n - 1 : 0;
}

/* PIDs given to heaptrail are those of its own PID namespace. */
static void set_pid_namespace(struct heaptrail_bpf *skel)
{
	const unsigned long init_ino = 0xEFFFFFFCUL;	/* PROC_PID_INIT_INO */
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) || st.st_ino == init_ino)
		return;
	skel->rodata->pidns_dev = st.st_dev;
	skel->rodata->pidns_ino = st.st_ino;
	skel->rodata->pidns_level = pidns_level();
}

/*
 * Room for each stack's key twice (queued in one generation, again in
 * the next before the loader drains): 24 bytes a record. Past 16 MiB an
 * overflow costs one full read, not a wrong figure.
 */
static unsigned long change_ring_size(unsigned long max_stacks)
{
	unsigned long need = 2 * max_stacks * 24, sz = 1UL << 16;

	while (sz < need && sz < 1UL << 24)
		sz <<= 1;
	return sz;
}

static int open_and_load(struct session *s)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = s->o.btf);
	struct heaptrail_bpf *skel;
	uint64_t start;
	int err;

	skel = heaptrail_bpf__open_opts(&oo);
	if (!skel)
		return -errno;
	s->skel = skel;
	skel->rodata->targ_tgid = s->o.pid;
	err = proc_start_ticks(s->o.pid, &start);
	if (err)
		return err;
	skel->rodata->targ_start = start;
	set_pid_namespace(skel);
	if (s->links.multi)
		prepare_uprobe_multi(skel);
	/* one mode's programs only: --faults loads no uprobe program */
	skel->rodata->faults_mode = s->o.faults;
	skel->rodata->sample_bytes = s->o.sample;
	skel->rodata->min_size = s->o.min_size;
	skel->rodata->max_size = s->o.max_size;
	skel->rodata->session_mode = s->links.session;
	bpf_program__set_autoload(skel->progs.alloc_enter,
				  !s->o.faults && !s->links.session);
	bpf_program__set_autoload(skel->progs.alloc_exit,
				  !s->o.faults && !s->links.session);
	bpf_program__set_autoload(skel->progs.alloc_session,
				  !s->o.faults && s->links.session);
	bpf_program__set_autoload(skel->progs.start_gate,
				  !s->o.faults || s->child);
	skel->rodata->gate_exec = !!s->child;
	bpf_program__set_autoload(skel->progs.fault_user, s->o.faults);
	bpf_program__set_autoload(skel->progs.fault_kernel, s->o.faults);
	bpf_program__set_autoload(skel->progs.fault_exec, s->o.faults);
	/* bpf_loop runs at most 1 << 23 times */
	skel->rodata->page_walk_max = s->o.max_allocs < (1UL << 23) ?
				      s->o.max_allocs : 1UL << 23;
	bpf_program__set_autoload(skel->progs.madvise_enter, s->o.faults);
	bpf_program__set_autoload(skel->progs.madvise_exit, s->o.faults);
	bpf_map__set_max_entries(skel->maps.allocs, s->o.max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, s->o.max_stacks);
	/* and room for stack 0 of every kind: what did not fit */
	bpf_map__set_max_entries(skel->maps.aggs, s->o.max_stacks + HT_NKINDS);
	bpf_map__set_max_entries(skel->maps.changed, change_ring_size(s->o.max_stacks));
	bpf_map__set_max_entries(skel->maps.mappings, s->o.max_mappings);
	s->rows_cap = s->unw.nrows + ROW_HEADROOM;
	bpf_map__set_max_entries(skel->maps.urows, s->rows_cap);
	return heaptrail_bpf__load(skel);
}

static void read_mem(struct session *s)
{
	struct proc_mem m;

	if (proc_mem_read(s->o.pid, &m))
		return;	/* gone: the last read stands */
	s->mem = m;
	if (!s->have_mem)
		s->mem0 = m;
	s->have_mem = true;
}

/* The aggregates that changed since last time, then maybe a trend point. */
static int sample(struct session *s, uint64_t now_ms)
{
	size_t i;
	int err;

	read_mem(s);
	err = aggsync_update(&s->agg);
	if (err)
		return err;
	for (i = 0; i < s->agg.nchg; i++) {
		if (grow(&s->pending, s->npending, &s->pcap, sizeof(*s->pending)))
			return -ENOMEM;
		s->pending[s->npending++] = s->agg.chg[i].key;
	}
	/* reports and refresh ticks both sample: keep points apart, or
	 * two at one instant flatten the recent slope */
	if (s->last_sample_ms && now_ms - s->last_sample_ms < REFRESH_MS / 2)
		return 0;
	err = trend_begin(&s->trend, now_ms);
	for (i = 0; !err && i < s->npending; i++) {
		const struct ht_agg *a = aggsync_get(&s->agg, &s->pending[i]);

		err = trend_set(&s->trend, &s->pending[i],
				a->live_bytes > 0 || a->live_count > 0,
				a->live_bytes);
	}
	if (err)
		return err;
	s->npending = 0;
	s->last_sample_ms = now_ms;
	return 0;
}

static void sample_now(struct session *s)
{
	sample(s, monotonic_ms());
}

/* Sample, then a full profile with frames, from the copy. */
static int read_profile(struct session *s, struct profile *p)
{
	uint64_t now = monotonic_ms();
	int err = sample(s, now);

	if (!err)
		err = aggsync_profile(&s->agg, now, p);
	if (err)
		return err;
	err = stackcache_attach(&s->frames, bpf_map__fd(s->skel->maps.stacks), p);
	if (!err)
		err = profile_finish(p, bpf_map__fd(s->skel->maps.counters));
	if (err)
		profile_free(p);
	return err;
}

static void report(struct session *s, bool final)
{
	struct report_opts ro = {
		.pid = s->o.pid,
		.comm = s->comm,
		.cmdline = s->cmdline,
		.top = s->o.top,
		.elapsed = (monotonic_ms() - s->start_ms) / 1000.0,
		.final = final,
		.faults = s->o.faults,
		.sample_bytes = s->o.sample,
		.min_size = s->o.min_size,
		.max_size = s->o.max_size,
		.forks = s->skel->bss->forks_seen,
		.exec = &s->execs,
	};
	struct leak_suspect *sus = NULL;
	struct age_row *ages = NULL;
	struct profile p;
	char path[PATH_MAX];
	struct timespec when;
	int err;

	if (final && s->gone) {
		ro.end = s->child ? END_WAITED : END_GONE;
		ro.wstatus = s->status;
		ro.end_s = (s->gone_ms - s->start_ms) / 1000.0;
	} else if (final && s->child && !s->o.keep_running) {
		ro.end = END_ENDING;
	}
	err = read_profile(s, &p);
	if (err) {
		fprintf(stderr, "heaptrail: cannot read BPF maps: %s\n",
			strerror(-err));
		return;
	}
	if (!trend_suspects(&s->trend, &p, &sus, &ro.nsus, &ro.scan))
		ro.sus = sus;
	if (s->have_mem) {
		ro.mem = &s->mem;
		ro.mem0 = &s->mem0;
	}
	if (s->o.ages) {
		err = ages_collect(bpf_map__fd(s->skel->maps.allocs),
				   bpf_map__fd(s->skel->maps.mappings), &p,
				   s->o.min_age * 1000, &ages);
		if (err)
			fprintf(stderr, "heaptrail: cannot read allocation ages: %s\n",
				strerror(-err));
		ro.ages = ages;
		ro.min_age = s->o.min_age;
	}
	if (s->o.json)
		report_json(s->out, &p, &s->sym, &ro);
	else
		report_print(s->out, &p, &s->sym, &ro);
	free(sus);
	free(ages);
	/* one time for the report's files: their names match */
	clock_gettime(CLOCK_REALTIME, &when);
	if (s->o.folded) {
		struct folded_meta fm = { s->o.pid, s->comm, s->cmdline,
					  s->o.interval, s->o.sample,
					  s->o.faults, when };

		err = folded_write(s->o.folded, s->o.folded_dir, &fm, &p,
				   &s->sym, path, sizeof(path));
		if (err) {
			fprintf(stderr, "heaptrail: cannot write %s: %s\n", path,
				outfile_error(err));
			s->write_failed = true;
		} else if (s->o.folded_dir) {
			keep_written(&s->folded_files, path, s->o.keep);
		}
	}
	if (s->o.pprof) {
		struct pprof_meta pm = {
			.pid = s->o.pid,
			.comm = s->comm,
			.cmdline = s->cmdline,
			.duration_ns = (monotonic_ms() - s->start_ms) * 1000000ULL,
			.interval_s = s->o.interval,
			.sample_bytes = s->o.sample,
			.faults = s->o.faults,
		};

		pm.time_ns = when.tv_sec * 1000000000ULL + when.tv_nsec;
		if (s->o.pprof_dir)
			stamped_path(path, sizeof(path), s->o.pprof, s->o.pid,
				     &when, "pb.gz");
		else
			snprintf(path, sizeof(path), "%s", s->o.pprof);
		err = pprof_write(path, &p, &s->sym, &pm);
		if (err) {
			fprintf(stderr, "heaptrail: cannot write %s: %s\n",
				path, outfile_error(err));
			s->write_failed = true;
		} else if (s->o.pprof_dir) {
			keep_written(&s->pprof_files, path, s->o.keep);
		}
	}
	profile_free(&p);
}

/*
 * In command mode the probes went on libc before exec. If the program
 * turns out to allocate from a replacement (LD_PRELOAD, or linked), probe
 * that too: its malloc interposes libc's.
 */
static void probe_replacement(struct session *s)
{
	const struct pmap *lp = find_allocator(&s->sym.maps);
	const struct sym_mod *m;
	char path[128];

	/* probed already (libc at attach, or before an exec: the kernel
	 * puts the probes in each new mapping of the file) */
	if (!lp || attach_probes_file(&s->links, makedev(lp->dev_major,
							 lp->dev_minor),
				      lp->inode))
		return;
	m = symbolizer_module(&s->sym, lp);
	if (!m || !m->img)
		return;
	pmap_file_path(s->o.pid, lp, path, sizeof(path));
	if (attach_allocators(s->skel, s->o.pid, path, m->img, &s->links)) {
		fprintf(stderr, "heaptrail: cannot probe %s: its allocations are not traced\n",
			lp->path);
		return;
	}
	snprintf(s->alloc_lib, sizeof(s->alloc_lib), "%s", lp->path);
	if (s->execs.n)
		fprintf(stderr, "heaptrail: PID %d's new program allocates from %s: probed\n",
			s->o.pid, lp->path);
}

/*
 * The command stopped at the start gate, before its main: its libraries
 * are mapped. Place their unwind rows and probe its allocator, resume it.
 */
static void gate_passed(struct session *s)
{
	read_comm(s->o.pid, s->comm, sizeof(s->comm));
	read_cmdline(s->o.pid, s->cmdline, sizeof(s->cmdline));
	if (!symbolizer_refresh(&s->sym)) {
		sync_unwind(s);
		if (!s->o.faults)
			probe_replacement(s);
	}
	kill(s->child, SIGCONT);
}

/*
 * SIGCHLD from the command: stopped at the start gate again after an
 * exec (resumed once its new program is probed), or gone (true). A stop
 * of anyone else's making is left alone.
 */
static bool command_changed(struct session *s)
{
	pid_t r;
	int st;

	r = waitpid(s->child, &st, WUNTRACED | WNOHANG);
	if (r != s->child)
		return false;
	if (WIFSTOPPED(st)) {
		if (WSTOPSIG(st) == SIGSTOP && s->gate_waiting) {
			s->gate_waiting = false;
			gate_passed(s);
		}
		return false;
	}
	s->status = st;
	s->gone = true;
	s->gone_ms = monotonic_ms();
	return true;
}

/* Has the target exited? Reaps it when it is our child. */
static bool target_gone(struct session *s)
{
	if (s->child)
		return waitpid(s->child, &s->status, WNOHANG) == s->child;
	return kill(s->o.pid, 0) && errno == ESRCH;
}

/* The target forked or exec'd: told by BPF as it happens. */
static int on_event(void *ctx, void *data, size_t len)
{
	struct session *s = ctx;
	const struct ht_event *e = data;
	int n;

	if (len < sizeof(*e))
		return 0;
	if (e->type == HT_EV_FORK) {
		n = unprobe_child(e->pid, s->links.sites, s->links.nsites);
		if (n > 0)
			s->unprobed++;
		if (s->o.verbose)
			fprintf(stderr,
				"heaptrail: PID %d forked PID %u: %d breakpoints taken out of it%s%s\n",
				s->o.pid, e->pid, n > 0 ? n : 0,
				n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
	} else if (e->type == HT_EV_EXEC) {
		s->exec_ns = e->ts;	/* acted on once the ring is drained */
	}
	return 0;
}

/*
 * The target ran exec: its old program's allocations cannot be freed any
 * more and its stacks would be named from the new program's mappings.
 * Drop them, and start the history, memory baseline and names afresh.
 * The allocator probes stay: the kernel places them in the new program
 * when it maps the same library. (-- COMMAND's own first exec, the one
 * that starts the command, is no such event.)
 */
static void exec_reset(struct session *s)
{
	struct exec_note *x = &s->execs;
	int err;

	if (s->child && !s->cmd_execd) {
		s->cmd_execd = true;
		return;
	}
	/* BPF re-armed the start gate: the new program stops before main;
	 * under -p its allocator is looked for at the next refreshes */
	s->gate_waiting = s->child && s->skel->rodata->gate_exec;
	s->probe_pending = !s->child && !s->o.faults;
	x->n++;
	x->at_s = (monotonic_ms() - s->start_ms) / 1000.0;
	snprintf(x->old_comm, sizeof(x->old_comm), "%s", s->comm);
	err = purge_image(bpf_map__fd(s->skel->maps.allocs),
			  bpf_map__fd(s->skel->maps.mappings),
			  bpf_map__fd(s->skel->maps.aggs), s->skel->bss->image,
			  s->exec_ns, &x->dropped);
	if (err)
		fprintf(stderr, "heaptrail: cannot drop the old program's allocations: %s\n",
			strerror(-err));
	aggsync_free(&s->agg);
	err = aggsync_init(&s->agg, bpf_map__fd(s->skel->maps.aggs),
			   bpf_map__fd(s->skel->maps.changed),
			   &s->skel->data->agg_gen, &s->skel->bss->changes_lost);
	if (err)
		fprintf(stderr, "heaptrail: cannot read the BPF change ring: %s\n",
			strerror(-err));
	trend_free(&s->trend);
	s->npending = 0;
	s->have_mem = false;	/* growth counts from the new program */
	read_comm(s->o.pid, s->comm, sizeof(s->comm));
	read_cmdline(s->o.pid, s->cmdline, sizeof(s->cmdline));
	fprintf(stderr, "heaptrail: PID %d ran exec: now %s; what %s held is dropped\n",
		s->o.pid, s->comm, x->old_comm);
	if (!symbolizer_refresh(&s->sym))
		sync_unwind(s);
}

static void run(struct session *s)
{
	uint64_t next_report = s->o.interval ? s->start_ms + s->o.interval * 1000 : 0;
	uint64_t end = s->o.duration ? s->start_ms + s->o.duration * 1000 : 0;
	uint64_t next_refresh = s->start_ms + REFRESH_MS;
	uint64_t next_mem = s->start_ms + MEM_MS;

	for (;;) {
		struct pollfd pf[3] = { { s->sigfd, POLLIN, 0 },
					{ ring_buffer__epoll_fd(s->events),
					  POLLIN, 0 },
					{ s->pidfd, POLLIN, 0 } };
		uint64_t now = monotonic_ms(), wake = next_refresh;
		int n;

		if (next_mem < wake)
			wake = next_mem;
		if (next_report && next_report < wake)
			wake = next_report;
		if (end && end < wake)
			wake = end;
		n = poll(pf, s->pidfd >= 0 ? 3 : 2, wake > now ? wake - now : 0);
		/* an exec's event before the gate stop that follows it */
		if (n > 0 && (pf[1].revents & POLLIN))
			ring_buffer__consume(s->events);
		if (s->exec_ns) {
			exec_reset(s);
			s->exec_ns = 0;
		}
		if (n > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) > 0 &&
			    si.ssi_signo != SIGCHLD)
				return;
			if (command_changed(s))
				return;
		}
		if ((n > 0 && (pf[2].revents & POLLIN)) ||
		    (s->pidfd < 0 && target_gone(s))) {
			target_gone(s);
			s->gone = true;
			s->gone_ms = monotonic_ms();
			return;
		}
		now = monotonic_ms();
		if (now >= next_mem) {
			read_mem(s);
			next_mem = now + MEM_MS;
		}
		if (now >= next_refresh) {
			if (!symbolizer_refresh(&s->sym)) {
				sync_unwind(s);
				if (s->probe_pending &&
				    find_allocator(&s->sym.maps)) {
					s->probe_pending = false;
					probe_replacement(s);
				}
			}
			sample_now(s);
			next_refresh = now + REFRESH_MS;
		}
		if (end && now >= end)
			return;
		if (next_report && now >= next_report) {
			report(s, false);
			next_report += s->o.interval * 1000;
		}
	}
}

/* In command mode: let the child run until libc is mapped, then resume it. */
static int start_child(struct session *s, int gate_fd, int errfd)
{
	int st, err, i;

	s->skel->bss->gate_armed = 1;
	if (write(gate_fd, "g", 1) != 1)
		return -errno;
	close(gate_fd);
	err = exec_result(errfd);
	if (err) {
		waitpid(s->child, &st, 0);
		return err;
	}
	for (i = 0; i < 2000; i++) {
		pid_t r = waitpid(s->child, &st, WUNTRACED | WNOHANG);

		if (r == s->child && WIFSTOPPED(st))
			break;
		if (r == s->child) {	/* exited before main */
			s->gone = true;
			s->gone_ms = monotonic_ms();
			s->status = st;
			return 0;
		}
		usleep(1000);
	}
	gate_passed(s);
	return 0;
}

/* On failure *what says which step failed, for the one error line. */
static int attach_target(struct session *s, const char *libc_path,
			 const struct elf_img *libc, const char **what)
{
	uint64_t vaddr, off;
	int err;

	err = tracefs_ensure(what);
	if (err)
		return err;
	*what = "syscall tracepoints (mmap, munmap, mremap, brk)";
	err = attach_syscalls(s->skel, &s->links);
	if (err)
		return err;
	/* --faults: no allocator probes; in command mode the one-shot start
	 * gate below still places the unwind rows before main runs */
	*what = "allocator uprobes";
	if (!s->o.faults)
		err = attach_allocators(s->skel, s->o.pid, libc_path, libc,
					&s->links);
	if (err || !s->child)
		return err;
	if (elf_img_sym_addr(libc, "__libc_start_main", &vaddr) ||
	    elf_img_vaddr_to_off(libc, vaddr, &off))
		return 0;
	{
		LIBBPF_OPTS(bpf_uprobe_opts, uo);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(
			s->skel->progs.start_gate, s->o.pid, libc_path, off, &uo);

		if (!libbpf_get_error(l) && s->links.n < ATTACH_MAX_LINKS) {
			s->links.links[s->links.n++] = l;
			attach_note_sites(&s->links, libc_path, &off, 1);
		}
	}
	return 0;
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "heaptrail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/*
 * --faults charges one 4 KiB page per fault; with THP "always" a fault in
 * a large enough anonymous region may map 2 MiB ("madvise": only regions
 * the program asked for).
 */
static bool thp_always(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strstr(line, "[always]") != NULL;
}

/*
 * Programs whose allocations uprobes on a libc cannot see, refused in one
 * line unless --faults (no probes): a Go program (its heap is not
 * malloc's, and a return probe rewrites return addresses on goroutine
 * stacks the runtime moves and scans), and a static COMMAND (no libc to
 * probe; heaptrail would probe its own libc and report nothing). A static
 * -p PID maps no libc and is refused where that is found.
 */
#define GO_WHY "Go's heap does not use malloc, and return probes can crash its runtime; use --faults (no probes) or Go's own heap profile (net/http/pprof)"

static int refuse_kind(const struct session *s)
{
	char path[PATH_MAX], comm[64];

	if (s->o.cmd) {
		if (command_path(s->o.cmd[0], path, sizeof(path)))
			return 0;	/* the spawn says why */
	} else {
		snprintf(path, sizeof(path), "/proc/%d/exe", s->o.pid);
	}
	if (go_binary(path) > 0) {
		if (s->o.cmd)
			return fail("%s is a Go program: %s", s->o.cmd[0], GO_WHY);
		read_comm(s->o.pid, comm, sizeof(comm));
		return fail("PID %d (%s) is a Go program: %s", s->o.pid, comm,
			    GO_WHY);
	}
	if (s->o.cmd && static_binary(path) > 0)
		return fail("%s is statically linked: there is no shared allocator to probe; --faults traces it (no probes)",
			    s->o.cmd[0]);
	return 0;
}

int main(int argc, char **argv)
{
	struct session s = { .pidfd = -1, .sigfd = -1 };
	const char *btf_path, *what = "";
	char libc_path[PATH_MAX], lib_name[PATH_MAX];
	struct elf_img *libc = NULL;
	const struct pmap *lp;
	struct pmaps maps;
	int gate_fd = -1, errfd = -1, err, rc = 1;
	sigset_t mask;

	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "symbolize"))
		return symbolize_main(argc - 1, argv + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_opts(argc, argv, &s.o);
	libbpf_set_print(s.o.verbose ? libbpf_print : quiet_print);

	if (!have_privileges())
		return fail("permission denied: heaptrail needs root (CAP_SYS_ADMIN, for BPF, uprobes and /proc/PID/map_files)");
	btf_path = s.o.btf ? s.o.btf : "/sys/kernel/btf/vmlinux";
	{
		struct btf *btf = btf__parse(btf_path, NULL);
		char why[128];

		/* libbpf's own codes (4001: not a BTF file) have no strerror */
		if (libbpf_get_error(btf)) {
			if (libbpf_get_error(btf) == -LIBBPF_ERRNO__FORMAT)
				snprintf(why, sizeof(why), "not a valid BTF file");
			else
				libbpf_strerror(libbpf_get_error(btf), why,
						sizeof(why));
			return fail("kernel BTF not usable at %s: %s (needs CONFIG_DEBUG_INFO_BTF, or --btf FILE)",
				    btf_path, why);
		}
		btf__free(btf);
	}
	if (s.o.folded) {
		err = check_writable(s.o.folded, s.o.folded_dir);
		if (err)
			return fail("cannot write folded output %s: %s", s.o.folded,
				    outfile_error(err));
	}
	if (s.o.pprof) {
		err = check_writable(s.o.pprof, s.o.pprof_dir);
		if (err)
			return fail("cannot write pprof output %s: %s", s.o.pprof,
				    outfile_error(err));
	}
	s.out = stdout;
	if (s.o.output) {
		err = open_output(s.o.output, &s.out);
		if (err)
			return fail("cannot write %s: %s", s.o.output,
				    outfile_error(err));
	}

	/* which libc: the target's, or for a command the one we run on */
	if (s.o.cmd) {
		if (s.o.libc) {
			snprintf(libc_path, sizeof(libc_path), "%s", s.o.libc);
			snprintf(lib_name, sizeof(lib_name), "%s", s.o.libc);
		} else {
			if (pmaps_read(getpid(), &maps) || !(lp = find_libc(&maps)))
				return fail("cannot find the libc heaptrail runs on; use --libc FILE");
			snprintf(libc_path, sizeof(libc_path), "%s", lp->path);
			snprintf(lib_name, sizeof(lib_name), "%s", lp->path);
			pmaps_free(&maps);
		}
	} else {
		if (s.o.pid == getpid())
			return fail("heaptrail cannot trace itself");
		if (kill(s.o.pid, 0) && errno == ESRCH)
			return fail("no process with PID %d", s.o.pid);
	}
	if (!s.o.faults) {
		err = refuse_kind(&s);
		if (err)
			return err;
	}
	/* --faults -p probes no code: any process will do, static too */
	if (!s.o.cmd && !s.o.faults) {
		err = pmaps_read(s.o.pid, &maps);
		if (err)
			return fail("cannot read /proc/%d/maps: %s", s.o.pid,
				    strerror(-err));
		lp = find_allocator(&maps);
		if (!lp) {
			pmaps_free(&maps);
			return fail("PID %d maps no libc: heaptrail traces glibc's allocator (statically linked program?)",
				    s.o.pid);
		}
		pmap_file_path(s.o.pid, lp, libc_path, sizeof(libc_path));
		snprintf(lib_name, sizeof(lib_name), "%s", lp->path);
		pmaps_free(&maps);
	}
	if (s.o.cmd || !s.o.faults) {
		uint64_t vaddr;

		err = elf_img_open(libc_path, &libc);
		/* another user's process: /proc/PID/map_files asks for
		 * CAP_SYS_PTRACE, which a container may not grant */
		if ((err == -EACCES || err == -EPERM) && !s.o.cmd)
			return fail("cannot read PID %d's %s through /proc: %s (tracing another user's process needs CAP_SYS_PTRACE)",
				    s.o.pid, lib_name, strerror(-err));
		if (err)
			return fail("cannot read %s: %s", lib_name,
				    strerror(-err));
		if (!libc->nsyms) {
			elf_img_free(libc);
			return fail("%s has no symbols", lib_name);
		}
		if (elf_img_sym_addr(libc, "malloc", &vaddr)) {
			elf_img_free(libc);
			return fail("%s has no malloc symbol", lib_name);
		}
	}

	/*
	 * SIGINT and SIGTERM always end the run with a final report: a shell
	 * starts background jobs with SIGINT ignored, and an ignored signal
	 * never reaches a signalfd. SIGHUP keeps an ignore (nohup).
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (s.o.cmd)	/* the command stopped at a start gate, or gone */
		sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

	if (s.o.cmd) {
		errfd = spawn(&s, &gate_fd);
		if (errfd < 0) {
			fail("cannot start %s: %s", s.o.cmd[0], strerror(-errfd));
			goto out;
		}
		snprintf(s.comm, sizeof(s.comm), "%s", s.o.cmd[0]);
		init_symbolizer(&s);
		/* libc's rows now; where it is mapped, once it is */
		{
			struct stat st;

			if (!stat(libc_path, &st))
				unwind_add_file(&s.unw, libc_path, major(st.st_dev),
						minor(st.st_dev), st.st_ino);
		}
	} else {
		read_comm(s.o.pid, s.comm, sizeof(s.comm));
		read_cmdline(s.o.pid, s.cmdline, sizeof(s.cmdline));
		init_symbolizer(&s);
		err = symbolizer_refresh(&s.sym);
		if (err) {
			fail("PID %d exited", s.o.pid);
			goto out;
		}
		unwind_scan(&s.unw, &s.sym, s.o.pid, s.o.unwind);
	}

	s.links.multi = !s.o.no_multi && uprobe_multi_supported();
	s.links.at_entry = s.o.at_entry;
	/* sessions pay off where calls are skipped: with --sample */
	s.links.session = s.links.multi && s.o.sample && !s.o.no_session &&
			  uprobe_session_supported();
	s.links.verbose = s.o.verbose;
	err = open_and_load(&s);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			fail("permission denied loading BPF programs (root, CAP_BPF and CAP_PERFMON needed; lockdown?)");
		else
			fail("cannot load BPF programs: %s (run with -v for details)",
			     strerror(-err));
		goto out;
	}
	if (s.o.sample &&
	    (err = sample_tables_fill(bpf_map__fd(s.skel->maps.sample_draw),
				      bpf_map__fd(s.skel->maps.sample_weight),
				      s.o.sample))) {
		fail("cannot fill the sampling tables: %s", strerror(-err));
		goto out;
	}
	sync_unwind(&s);
	err = attach_target(&s, libc_path, libc, &what);
	if (err) {
		if (err == -ESRCH || (!s.child && kill(s.o.pid, 0)))
			fail("PID %d exited while attaching", s.o.pid);
		else if (err == -EPERM || err == -EACCES)
			fail("cannot attach %s: %s (needs root: CAP_SYS_ADMIN)",
			     what, strerror(-err));
		else
			fail("cannot attach %s: %s (run with -v for details)",
			     what, strerror(-err));
		goto out;
	}
	s.start_ms = monotonic_ms();
	if (s.child) {
		err = start_child(&s, gate_fd, errfd);
		gate_fd = errfd = -1;
		if (err) {
			s.child = 0;
			fail("cannot run %s: %s", s.o.cmd[0], strerror(-err));
			goto out;
		}
	}
	s.pidfd = syscall(SYS_pidfd_open, s.o.pid, 0);
	err = aggsync_init(&s.agg, bpf_map__fd(s.skel->maps.aggs),
			   bpf_map__fd(s.skel->maps.changed),
			   &s.skel->data->agg_gen, &s.skel->bss->changes_lost);
	if (err) {
		fail("cannot read the BPF change ring: %s", strerror(-err));
		goto out;
	}
	s.events = ring_buffer__new(bpf_map__fd(s.skel->maps.events), on_event,
				    &s, NULL);
	if (!s.events) {
		fail("cannot read the BPF event ring: %s", strerror(errno));
		goto out;
	}
	sample_now(&s);
	if (s.o.faults && thp_always())
		fprintf(stderr,
			"heaptrail: transparent huge pages are on for all memory: a 2 MiB page one fault maps is counted as 4 KiB\n");
	if (s.o.faults)
		fprintf(stderr,
			"heaptrail: tracing PID %d (%s): page faults, no allocator probes, %zu unwind rows in %zu modules%s\n",
			s.o.pid, s.comm, s.unw.nrows, s.unw.nmods,
			s.o.duration ? "" : "; Ctrl-C to stop");
	else
		fprintf(stderr,
			"heaptrail: tracing PID %d (%s): %d allocator functions in %s (%s), %zu unwind rows in %zu modules%s\n",
			s.o.pid, s.comm, s.links.nfuncs,
			s.alloc_lib[0] ? s.alloc_lib : lib_name,
			s.links.session ? "session uprobes" :
			s.links.multi	? "uprobe_multi" : "uprobes",
			s.unw.nrows, s.unw.nmods,
			s.o.duration ? "" : "; Ctrl-C to stop");
	if (!s.gone)
		run(&s);
	if (s.gone && s.child) {
		char how[80];

		fprintf(stderr, "heaptrail: PID %d %s\n", s.o.pid,
			child_status(s.status, how, sizeof(how)));
	} else if (s.gone) {
		fprintf(stderr, "heaptrail: PID %d exited\n", s.o.pid);
	}
	/* report before detaching: probes go away one by one, and a free
	 * probe removed before malloc's would leave phantom allocations */
	report(&s, true);
	if (s.o.verbose)
		fprintf(stderr,
			"heaptrail: aggregates: %llu full reads, %llu stacks read as changed, %ld stale at the end\n",
			(unsigned long long)s.agg.full_reads,
			(unsigned long long)s.agg.key_reads,
			aggsync_stale(&s.agg));
	rc = s.write_failed ? 1 : 0;
	/* a command that ended by itself: its status, as time(1) gives it */
	if (!rc && s.gone && s.child)
		rc = WIFEXITED(s.status)   ? WEXITSTATUS(s.status) :
		     WIFSIGNALED(s.status) ? 128 + WTERMSIG(s.status) : 0;
out:
	detach_all(&s.links);
	if (gate_fd >= 0)
		close(gate_fd);	/* the child sees EOF and exits */
	if (errfd >= 0)
		close(errfd);
	if (s.child && !s.gone && !s.o.keep_running) {
		char how[80];
		int st = child_end(s.child, 2000);

		fprintf(stderr, "heaptrail: ended PID %d: %s\n", s.child,
			child_status(st, how, sizeof(how)));
	}
	ring_buffer__free(s.events);
	heaptrail_bpf__destroy(s.skel);
	symbolizer_free(&s.sym);
	unwind_free(&s.unw);
	trend_free(&s.trend);
	aggsync_free(&s.agg);
	written_free(&s.folded_files);
	if (s.out && s.out != stdout && fclose(s.out) && !rc) {
		fprintf(stderr, "heaptrail: cannot write %s: %s\n", s.o.output,
			strerror(errno));
		rc = 1;
	}
	written_free(&s.pprof_files);
	stackcache_free(&s.frames);
	free(s.pending);
	elf_img_free(libc);
	if (s.pidfd >= 0)
		close(s.pidfd);
	return rc;
}
