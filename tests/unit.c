// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the userspace modules, run against this very process and
 * real files: `unit --list` names them, `unit NAME` runs one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profread.h"
#include "elfimg.h"
#include "folded.h"
#include "ksyms.h"
#include "outfile.h"
#include "perfmap.h"
#include "probeplace.h"
#include "profile.h"
#include "report.h"
#include "safeopen.h"
#include "sample.h"
#include "stacksyms.h"
#include "symbolize.h"
#include "trend.h"
#include "unwind.h"

#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			return 1;                                         \
		}                                                         \
	} while (0)

__attribute__((noinline)) int unit_leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int unit_caller(int x)
{
	return unit_leaf(x) + 2;
}

static int t_symbolize_self(void)
{
	struct symbolizer s;
	struct frame f;

	symbolizer_init(&s, getpid());
	CHECK(symbolizer_refresh(&s) == 0);
	symbolizer_resolve(&s, (uint64_t)unit_leaf + 2, false, &f);
	CHECK(f.func && !strcmp(f.func, "unit_leaf"));
	CHECK(f.off == 2);
	CHECK(f.module && !strcmp(f.module, "unit"));
	/* a return address is looked up at pc - 1 but printed as is */
	symbolizer_resolve(&s, (uint64_t)unit_caller + 1, true, &f);
	CHECK(f.func && !strcmp(f.func, "unit_caller") && f.off == 1);
	/* libc, mapped elsewhere, resolved through its own load segments */
	symbolizer_resolve(&s, (uint64_t)&malloc, false, &f);
	CHECK(f.func && !strcmp(f.func, "malloc") && f.off == 0);
	CHECK(f.module && !strncmp(f.module, "libc", 4));
	/* nothing mapped at page zero */
	symbolizer_resolve(&s, 16, false, &f);
	CHECK(!f.func && !f.module);
	symbolizer_free(&s);
	return 0;
}

static int t_elf_build_id(void)
{
	struct elf_img *img;
	char cmd[256], want[64] = "";
	FILE *p;

	CHECK(elf_img_open("/proc/self/exe", &img) == 0);
	snprintf(cmd, sizeof(cmd),
		 "readelf -n /proc/%d/exe | awk '/Build ID/{print $3}'", getpid());
	p = popen(cmd, "r");
	CHECK(p && fgets(want, sizeof(want), p));
	pclose(p);
	want[strcspn(want, "\n")] = '\0';
	CHECK(strlen(want) == 40);
	CHECK(!strcmp(img->build_id, want));
	CHECK(img->has_symtab);
	CHECK(img->frame_pointers == false || img->frame_pointers == true);
	elf_img_free(img);
	return 0;
}

static int t_elf_stripped(void)
{
	struct elf_img *img;
	uint64_t v;

	/* Debian's libc has no .symtab: .dynsym must do */
	CHECK(elf_img_open("/lib/x86_64-linux-gnu/libc.so.6", &img) == 0);
	CHECK(!img->has_symtab);
	CHECK(img->nsyms > 1000);
	CHECK(elf_img_sym_addr(img, "malloc", &v) == 0);
	CHECK(!strcmp(elf_img_sym_at(img, v)->name, "malloc"));
	/* aliases share an address: both names are found */
	CHECK(elf_img_sym_addr(img, "__libc_malloc", &v) == 0);
	CHECK(!img->frame_pointers);
	elf_img_free(img);
	CHECK(elf_img_open("/etc/hostname", &img) == -ENOEXEC);
	CHECK(elf_img_open("/nonexistent", &img) == -ENOENT);
	return 0;
}

static int t_unwind_rows_libc(void)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct unwind_table t = {};
	struct elf_img *img;
	uint64_t malloc_va;
	size_t i;

	CHECK(elf_img_open(libc, &img) == 0);
	CHECK(elf_img_sym_addr(img, "malloc", &malloc_va) == 0);
	CHECK(unwind_add_file(&t, libc, 1, 2, 3) == 0);
	CHECK(t.nfiles == 1 && t.nrows > 1000);
	/* added once per file */
	CHECK(unwind_add_file(&t, libc, 1, 2, 3) == 0 && t.nfiles == 1);
	for (i = 1; i < t.nrows; i++)
		CHECK(t.rows[i - 1].pc < t.rows[i].pc);
	/* at malloc's first instruction the CFA is rsp + 8 */
	for (i = t.nrows; i-- > 0;)
		if (t.rows[i].pc <= malloc_va)
			break;
	CHECK(t.rows[i].cfa_reg == HT_CFA_SP && t.rows[i].cfa_off == 8);
	CHECK(!t.rows[i].bp_saved);
	unwind_free(&t);
	elf_img_free(img);
	return 0;
}

static void fake_entry(struct prof_entry *e, uint64_t stack, int64_t bytes,
		       int64_t count, uint32_t kind, const uint64_t *ips, int n)
{
	memset(e, 0, sizeof(*e));
	e->key.stack = stack;
	e->key.kind = kind;
	e->agg.live_bytes = bytes;
	e->agg.live_count = count;
	e->ips = (uint64_t *)ips;
	e->nips = n;
}

static int t_folded_lines(void)
{
	/* leaf first, as the BPF side stores them; +1: return addresses */
	uint64_t a[] = { (uint64_t)unit_leaf + 1, (uint64_t)unit_caller + 1 };
	uint64_t b[] = { (uint64_t)unit_leaf + 2, (uint64_t)unit_caller + 3 };
	struct prof_entry v[4];
	struct profile p = { .v = v, .n = 4 };
	struct symbolizer s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fake_entry(&v[0], 1, 100, 1, HT_MALLOC, a, 2);
	fake_entry(&v[1], 2, 23, 1, HT_MALLOC, b, 2);	/* same functions */
	fake_entry(&v[2], 3, 4096, 1, HT_MMAP, a, 1);
	fake_entry(&v[3], 0, 7, 1, HT_CALLOC, a, 0);	/* stack map full */
	symbolizer_init(&s, getpid());
	CHECK(symbolizer_refresh(&s) == 0);
	CHECK(profile_symbolize(&p, &s) == 0);
	f = open_memstream(&buf, &len);
	CHECK(folded_fill(f, &p) == 0);
	fclose(f);
	pc_syms_free(p.syms);
	CHECK(!strcmp(buf, "[unrecorded stacks];[calloc] 7\n"
			   "unit_caller;unit_leaf;[malloc] 123\n"
			   "unit_leaf;[mmap] 4096\n"));
	free(buf);
	symbolizer_free(&s);
	return 0;
}

static int fill_ok(FILE *f, void *arg)
{
	return fputs(arg, f) < 0 ? -EIO : 0;
}

static int fill_fails(FILE *f, void *arg)
{
	fputs("half", f);
	return -ENOSPC;
}

static int t_atomic_write(void)
{
	char dir[] = "/tmp/ht-unit.XXXXXX", path[64], got[32] = "";
	struct dirent *d;
	int entries = 0;
	FILE *f;
	DIR *dd;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	CHECK(atomic_write(path, fill_ok, "first\n") == 0);
	/* a failing writer leaves the previous file whole, and no temp */
	CHECK(atomic_write(path, fill_fails, NULL) == -ENOSPC);
	f = fopen(path, "r");
	CHECK(f && fgets(got, sizeof(got), f));
	fclose(f);
	CHECK(!strcmp(got, "first\n"));
	dd = opendir(dir);
	while ((d = readdir(dd)))
		entries += d->d_name[0] != '.';
	closedir(dd);
	CHECK(entries == 1);
	CHECK(atomic_write("/nonexistent-dir/x", fill_ok, "x") == -ENOENT);
	CHECK(check_writable("/nonexistent-dir/x", 0) == -ENOENT);
	CHECK(check_writable(path, 0) == 0);
	unlink(path);
	rmdir(dir);
	return 0;
}

static int t_fmt_bytes(void)
{
	char b[32];

	CHECK(!strcmp(fmt_bytes(1000, b, sizeof(b)), "1000 B"));
	CHECK(!strcmp(fmt_bytes(1048576, b, sizeof(b)), "1.00 MiB"));
	CHECK(!strcmp(fmt_bytes(1536, b, sizeof(b)), "1.50 KiB"));
	return 0;
}

/*
 * kallsyms: text symbols only, sorted, modules named, a pc named by the
 * last symbol at or below it; all-zero addresses (kptr_restrict) refused.
 */
static int t_ksyms(void)
{
	static const char text[] =
		"ffffffff81000100 T second\n"
		"ffffffff81000000 T _stext\n"
		"ffffffff81000200 D some_data\n"
		"ffffffff81000300 t local_fn\n"
		"ffffffffc0001000 t mod_fn\t[pipemod]\n"
		"ffffffffc0002000 t bpf_prog_0123_x\t[bpf]\n";
	static const char hidden[] = "0000000000000000 T _stext\n"
				     "0000000000000000 T second\n";
	char path[] = "/tmp/unit-ksyms.XXXXXX";
	const struct ksym *k;
	struct ksyms ks;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, text, sizeof(text) - 1) == sizeof(text) - 1);
	close(fd);
	CHECK(ksyms_load(&ks, path) == 0);
	CHECK(ks.n == 5);	/* the data symbol is not kept */
	CHECK(!ksyms_find(&ks, 0xffffffff80ffffffULL));
	k = ksyms_find(&ks, 0xffffffff81000000ULL);
	CHECK(k && !strcmp(ksym_name(&ks, k), "_stext"));
	k = ksyms_find(&ks, 0xffffffff810000ffULL);
	CHECK(k && !strcmp(ksym_name(&ks, k), "_stext"));
	k = ksyms_find(&ks, 0xffffffff81000250ULL);
	CHECK(k && !strcmp(ksym_name(&ks, k), "second"));
	CHECK(!strcmp(ksym_module(&ks, k), "kernel"));
	k = ksyms_find(&ks, 0xffffffffc0001010ULL);
	CHECK(k && !strcmp(ksym_name(&ks, k), "mod_fn") &&
	      !strcmp(ksym_module(&ks, k), "pipemod"));
	k = ksyms_find(&ks, 0xffffffffc0002010ULL);
	CHECK(k && !strcmp(ksym_module(&ks, k), "bpf"));
	ksyms_free(&ks);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(write(fd, hidden, sizeof(hidden) - 1) == sizeof(hidden) - 1);
	close(fd);
	CHECK(ksyms_load(&ks, path) == -EPERM);
	unlink(path);
	CHECK(ksyms_load(&ks, path) == -ENOENT);
	/* the real one, as root: addresses shown, any symbol found again */
	CHECK(ksyms_load(&ks, NULL) == 0);
	k = ksyms_find(&ks, ks.v[ks.n / 2].addr + 1);
	CHECK(k == &ks.v[ks.n / 2] || k->addr == ks.v[ks.n / 2].addr);
	ksyms_free(&ks);
	return 0;
}

static int t_profread_folded(void)
{
	static const char ok[] = "# heaptrail outstanding bytes: pid=1 time=x 9\n"
				 "b;malloc 5\r\n\na b;mmap 4096\nb;malloc 7\n"
				 "c;calloc -3\t\nb;malloc 1";
	struct prof_stacks s = { 0 };

#define PARSE(text) profread_folded(text, sizeof(text) - 1, &s)
	CHECK(PARSE(ok) == 0);
	CHECK(profread_merge(&s) == 0);
	CHECK(s.n == 3);
	CHECK(!strcmp(s.v[0].name, "a b;mmap") && s.v[0].bytes == 4096);
	CHECK(!strcmp(s.v[1].name, "b;malloc") && s.v[1].bytes == 13);
	CHECK(!strcmp(s.v[2].name, "c;calloc") && s.v[2].bytes == -3);
	prof_stacks_free(&s);
	CHECK(PARSE("x 1\ny;malloc\n") == -EBADMSG);
	CHECK(!strcmp(s.why, "line 2: no byte count"));
	prof_stacks_free(&s);
	CHECK(PARSE("x 1\0 2\n") == -EBADMSG);
	CHECK(PARSE(" 5\n") == -EBADMSG);
	CHECK(PARSE("x 99999999999999999999\n") == -EBADMSG);
	CHECK(PARSE("x -\n") == -EBADMSG);
	CHECK(PARSE("") == 0 && s.n == 0);
	prof_stacks_free(&s);
#undef PARSE
	return 0;
}

/* Where probe_place puts name's probe in the real library lib, or -1. */
static long real_place(const char *lib, const char *name, unsigned args)
{
	struct probe_place pp;
	const struct elf_sym *sym;
	struct elf_img *img;
	uint64_t va, off;
	uint8_t *code;
	long r = -1;
	FILE *f;

	if (elf_img_open(lib, &img))
		return -1;
	if (!elf_img_sym_addr(img, name, &va) && (sym = elf_img_sym_at(img, va)) &&
	    !elf_img_vaddr_to_off(img, va, &off) && (code = malloc(sym->size))) {
		f = fopen(lib, "rb");
		if (f && !fseek(f, off, SEEK_SET) &&
		    fread(code, 1, sym->size, f) == sym->size) {
			probe_place(code, sym->size, va, args, &pp);
			printf("%s %s: %s\n", lib, name, pp.why);
			r = pp.off;
		}
		if (f)
			fclose(f);
		free(code);
	}
	elf_img_free(img);
	return r;
}

/* The prologues of Debian 12's allocators, checked by hand with objdump. */
static int t_probeplace_libs(void)
{
	const char *glibc = "/lib/x86_64-linux-gnu/libc.so.6";
	const char *je = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
	const char *tc = "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4";

	if (access(je, R_OK) || access(tc, R_OK))
		return 77;
	CHECK(real_place(glibc, "malloc", PP_ARG0 | PP_RET) == 0);
	CHECK(real_place(glibc, "free", PP_ARG0) == 0x9);
	CHECK(real_place(je, "malloc", PP_ARG0 | PP_RET) == 0x7);
	CHECK(real_place(je, "free", PP_ARG0) == 0x30);
	CHECK(real_place(tc, "malloc", PP_ARG0 | PP_RET) == 0xd);
	CHECK(real_place(tc, "free", PP_ARG0) == 0xa);
	return 0;
}

static long place(const uint8_t *code, size_t len, unsigned args)
{
	struct probe_place pp;

	probe_place(code, len, 0x1000, args, &pp);
	printf("%s\n", pp.why);
	return pp.off;
}

/* Each rule that keeps a probe where it is, on made-up code. */
static int t_probeplace_rules(void)
{
	/* test rdi; je ret; push rbx; pop rbx; ret */
	static const uint8_t freelike[] = { 0x48, 0x85, 0xff, 0x74, 0x02,
					    0x53, 0x5b, 0xc3 };
	/* the same, but je lands on the pop: a path that is not a ret */
	static const uint8_t notret[] = { 0x48, 0x85, 0xff, 0x74, 0x01,
					  0x53, 0x5b, 0xc3 };
	/* mov rdi, rax; push rbx; pop rbx; ret */
	static const uint8_t wrdi[] = { 0x48, 0x89, 0xc7, 0x53, 0x5b, 0xc3 };
	/* sub rsp, 8; push rbx; pop rbx; add rsp, 8; ret */
	static const uint8_t wrsp[] = { 0x48, 0x83, 0xec, 0x08, 0x53, 0x5b,
					0x48, 0x83, 0xc4, 0x08, 0xc3 };
	/* cmp rdi, 16; push rbx; pop rbx; jmp back to the push; ret */
	static const uint8_t back[] = { 0x48, 0x83, 0xff, 0x10, 0x53, 0x5b,
					0xeb, 0xfc, 0xc3 };
	/* cmp rdi, 16; push rbx; pop rbx; ret */
	static const uint8_t fine[] = { 0x48, 0x83, 0xff, 0x10, 0x53, 0x5b,
					0xc3 };

	CHECK(place(freelike, sizeof(freelike), PP_ARG0) == 5);
	/* with a return probe the early ret would return a result unseen */
	CHECK(place(freelike, sizeof(freelike), PP_ARG0 | PP_RET) == 3);
	CHECK(place(notret, sizeof(notret), PP_ARG0) == 3);
	CHECK(place(wrdi, sizeof(wrdi), PP_ARG0) == 0);
	CHECK(place(wrdi, sizeof(wrdi), PP_ARG1) == 3);	/* rdi not read */
	CHECK(place(wrsp, sizeof(wrsp), PP_ARG0) == 0);
	CHECK(place(back, sizeof(back), PP_ARG0) == 0);
	CHECK(place(fine, sizeof(fine), PP_ARG0) == 4);
	/* a function that does not decode whole (its branch targets are
	 * unknown) stays at +0: fine with a lone REX prefix at its end */
	{
		uint8_t cut[sizeof(fine) + 1];

		memcpy(cut, fine, sizeof(fine));
		cut[sizeof(fine)] = 0x48;
		CHECK(place(cut, sizeof(cut), PP_ARG0) == 0);
	}
	return 0;
}

/*
 * --sample's tables against the estimator's premise: with distances drawn
 * from the quantile table, a stream of allocations of size s is sampled
 * once per ceil(d / s) of them, so a sample must weigh s * E[ceil(d / s)];
 * the weight table gives s / (1 - exp(-s / rate)), the exponential's
 * value. Their gap is the estimates' bias: under 0.1% at every size. The
 * weight as the BPF side interpolates it is within a byte and 0.001% of
 * w(s).
 */
static int t_sample_tables(void)
{
	static const uint64_t rates[] = { 4096, 65536, 524288 };
	static const double mult[] = { 0, 1.0 / 4096, 1.0 / 64, 1.0 / 16,
				       0.3, 0.5, 1, 1.7, 4, 15.9, 40 };
	unsigned int i, j, k;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t r = rates[i], step = sample_step(r);
		double mean = 0;

		for (k = 0; k < HT_SAMPLE_DRAWS; k++)
			mean += sample_draw_at(k, r);
		mean /= HT_SAMPLE_DRAWS;
		CHECK(fabs(mean / r - 1) < 0.001);
		for (j = 0; j < sizeof(mult) / sizeof(mult[0]); j++) {
			uint64_t s = (uint64_t)(mult[j] * r) + 1, w = s;
			double e = 0, exact = sample_weight(s, r);

			for (k = 0; k < HT_SAMPLE_DRAWS; k++)
				e += ceil((double)sample_draw_at(k, r) / s);
			e = e / HT_SAMPLE_DRAWS * s;
			CHECK(fabs(e / exact - 1) < 0.001);
			/* bpf/heaptrail.bpf.c sample_scale() */
			k = s / step;
			if (k < HT_SAMPLE_STEPS) {
				uint64_t lo = sample_weight_at(k, r);
				uint64_t hi = sample_weight_at(k + 1, r);

				w = lo + (hi - lo) * (s - k * step) / step;
			}
			CHECK(fabs(w - exact) < 1 + exact * 0.00001);
		}
	}
	return 0;
}

/*
 * The step-function trend against the dense one it replaced (a point per
 * series per sample, every other point dropped past 128): over random
 * births, changes and 0-byte holders, every series' points are the same.
 */
#define TS_KEYS 24
#define TS_CAP 128

struct dense {
	struct trend_point p[TS_CAP];
	size_t n;
	int born;
};

static void dense_push(struct dense *d, uint64_t t, int64_t b)
{
	size_t i;

	if (d->n == TS_CAP) {
		for (i = 0; i < TS_CAP / 2; i++)
			d->p[i] = d->p[2 * i + 1];
		d->n = TS_CAP / 2;
	}
	d->p[d->n++] = (struct trend_point){ t, b };
}

static int t_trend_steps(void)
{
	static struct dense ref[TS_KEYS];
	struct trend_point got[TS_CAP];
	int held[TS_KEYS] = { 0 }, sample, k;
	int64_t bytes[TS_KEYS] = { 0 };
	struct trend t = {};
	uint64_t now = 0, prev = 0;

	srand(7);
	for (sample = 0; sample < 1500; sample++) {
		prev = now;
		now = 1000 + sample * 1000ULL + rand() % 7;
		CHECK(!trend_begin(&t, now));
		for (k = 0; k < TS_KEYS; k++) {
			struct ht_agg_key key = { .stack = 1000 + k * 7919,
						  .kind = k % 3 };
			int r = rand() % 100, h = held[k];
			int64_t b = bytes[k];

			/* slow stacks (k odd) change rarely, fast ones often */
			if (r < (k & 1 ? 3 : 40)) {
				h = rand() % 5 != 0;
				b = h ? (rand() % 4 ? rand() % 1000 : 0) : 0;
			}
			if (sample < k * 40 && !held[k])
				h = 0;	/* births spread over the run */
			if (h != held[k] || b != bytes[k] || r == 99)
				CHECK(!trend_set(&t, &key, h, b));
			held[k] = h;
			bytes[k] = b;
			if (h && !ref[k].born) {
				ref[k].born = 1;
				if (sample)
					dense_push(&ref[k], prev, 0);
			}
			if (ref[k].born)
				dense_push(&ref[k], now, h ? b : 0);
		}
		for (k = 0; k < TS_KEYS; k++) {
			struct ht_agg_key key = { .stack = 1000 + k * 7919,
						  .kind = k % 3 };
			long i = keyidx_find(&t.idx, &key);
			size_t n, j;

			CHECK((i >= 0) == ref[k].born);
			if (i < 0)
				continue;
			n = trend_points(&t, i, got);
			CHECK(n == ref[k].n);
			for (j = 0; j < n; j++)
				CHECK(got[j].t_ms == ref[k].p[j].t_ms &&
				      got[j].bytes == ref[k].p[j].bytes);
		}
	}
	/* the changes kept stay bounded by compaction */
	for (k = 0; k < (int)t.n; k++)
		CHECK(t.v[k].n <= 2 * TS_CAP);
	trend_free(&t);
	return 0;
}

/* Files the target plants: no FIFO, device, symlink (if refused) or giant. */
#define CHECK_OUT(c)                                                      \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			goto out;                                         \
		}                                                         \
	} while (0)
static int t_safe_open(void)
{
	char dir[] = "/tmp/ht-unit.XXXXXX", p[128], l[128], map[64];
	struct perfmap m = { 0 };
	int fd, rc = 1;
	FILE *f;

	CHECK(mkdtemp(dir));
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", getpid());
	snprintf(p, sizeof(p), "%s/fifo", dir);
	CHECK_OUT(!mkfifo(p, 0600));
	CHECK_OUT(safe_open(p, 0, SAFE_MAX_ELF) == -EINVAL);
	CHECK_OUT(safe_open("/dev/zero", 0, SAFE_MAX_ELF) == -EINVAL);
	CHECK_OUT(safe_open(dir, 0, SAFE_MAX_ELF) == -EINVAL);
	snprintf(p, sizeof(p), "%s/big", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	CHECK_OUT(fd >= 0 && !ftruncate(fd, 4097) && !close(fd));
	CHECK_OUT(safe_open(p, 0, 4096) == -EFBIG);
	CHECK_OUT((fd = safe_open(p, 0, 4097)) >= 0 && !close(fd));
	snprintf(l, sizeof(l), "%s/link", dir);
	CHECK_OUT(!symlink(p, l));
	CHECK_OUT(safe_open(l, SAFE_NOFOLLOW, 4097) == -ELOOP);
	CHECK_OUT((fd = safe_open(l, 0, 4097)) >= 0 && !close(fd));
	/* a perf map symlinked to another file (of root's) is not read */
	snprintf(p, sizeof(p), "%s/map", dir);
	CHECK_OUT((f = fopen(p, "w")));
	fprintf(f, "1000 10 secret\n");
	fclose(f);
	CHECK_OUT(!symlink(p, map));
	CHECK_OUT(perfmap_load(&m, getpid()) == -ELOOP && !m.n);
	CHECK_OUT(!unlink(map) && !mkfifo(map, 0600));
	CHECK_OUT(perfmap_load(&m, getpid()) == -EINVAL && !m.n);
	CHECK_OUT(!unlink(map) && !rename(p, map));
	CHECK_OUT(!perfmap_load(&m, getpid()) && m.n == 1);
	CHECK_OUT(!strcmp(m.v[0].name, "secret"));
	rc = 0;
out:
	unlink(map);
	perfmap_free(&m);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	if (system(p))
		rc = 1;
	return rc;
}
#undef CHECK_OUT

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "trend_steps", t_trend_steps },
	{ "probeplace_libs", t_probeplace_libs },
	{ "probeplace_rules", t_probeplace_rules },
	{ "symbolize_self", t_symbolize_self },
	{ "elf_build_id", t_elf_build_id },
	{ "elf_stripped_libc", t_elf_stripped },
	{ "unwind_rows_libc", t_unwind_rows_libc },
	{ "folded_lines", t_folded_lines },
	{ "atomic_write", t_atomic_write },
	{ "fmt_bytes", t_fmt_bytes },
	{ "ksyms", t_ksyms },
	{ "profread_folded", t_profread_folded },
	{ "sample_tables", t_sample_tables },
	{ "safe_open", t_safe_open },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (argc > 1 && !strcmp(argv[1], "--list"))
			printf("%s\n", tests[i].name);
		else if (argc > 1 && !strcmp(argv[1], tests[i].name))
			return tests[i].fn();
	}
	return argc > 1 && !strcmp(argv[1], "--list") ? 0 : 2;
}
