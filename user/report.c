// SPDX-License-Identifier: GPL-2.0
/* The text report: totals, drops, then the top stacks by outstanding bytes. */
#include <inttypes.h>
#include <time.h>

#include "report.h"

const char *fmt_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while ((b >= 1024 || b <= -1024) && u < 4) {
		b /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.2f %s", b, unit[u]);
	else
		snprintf(buf, len, "%.0f B", b);
	return buf;
}

/* every pc is just past a call or a syscall instruction */
static void print_frame(FILE *out, struct symbolizer *s, uint64_t pc)
{
	struct frame f;

	symbolizer_resolve(s, pc, true, &f);
	if (f.func)
		fprintf(out, "        %s+0x%" PRIx64 " (%s)\n", f.func, f.off,
			f.module);
	else if (f.module)
		fprintf(out, "        %s+0x%" PRIx64 "\n", f.module, f.off);
	else
		fprintf(out, "        [unknown] 0x%" PRIx64 "\n", pc);
}

void report_print(FILE *out, const struct profile *p, struct symbolizer *s,
		  const struct report_opts *o)
{
	const uint64_t *c = p->counters;
	int64_t total = profile_total_bytes(p);
	char b1[32], when[32];
	time_t now = time(NULL);
	size_t i, shown;
	int j;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
	fprintf(out, "heaptrail: pid %d (%s), %.1f s after attach, %s%s\n",
		o->pid, o->comm, o->elapsed, when, o->final ? ", final" : "");
	fprintf(out,
		"outstanding: %" PRId64 " bytes (%s) = heap %" PRId64
		" in %" PRId64 " allocations + mmap %" PRId64 " in %" PRId64
		" mappings + brk %" PRId64 "\n",
		total, fmt_bytes(total, b1, sizeof(b1)), p->heap.live_bytes,
		p->heap.live_count, p->mmap.live_bytes, p->mmap.live_count,
		p->brk.live_bytes);
	fprintf(out,
		"heap since attach: allocated %" PRIu64 " bytes in %" PRIu64
		" calls, freed %" PRIu64 " bytes in %" PRIu64 " calls\n",
		p->heap.alloc_bytes, p->heap.alloc_count, p->heap.free_bytes,
		p->heap.free_count);
	fprintf(out,
		"dropped: %" PRIu64 " (live map full %" PRIu64
		", stack map full %" PRIu64 ", aggregate map full %" PRIu64
		", mapping map full %" PRIu64 ", thread map full %" PRIu64
		"); truncated stacks %" PRIu64 "\n",
		c[HT_C_DROP_ALLOC] + c[HT_C_DROP_STACK] + c[HT_C_DROP_AGG] +
			c[HT_C_DROP_MAPPING] + c[HT_C_DROP_THREAD],
		c[HT_C_DROP_ALLOC], c[HT_C_DROP_STACK], c[HT_C_DROP_AGG],
		c[HT_C_DROP_MAPPING], c[HT_C_DROP_THREAD], c[HT_C_TRUNCATED]);
	fprintf(out,
		"ignored: %" PRIu64 " frees of memory allocated before attach, %"
		PRIu64 " allocator calls made inside another (counted once)\n",
		c[HT_C_UNKNOWN_FREE], c[HT_C_NESTED]);

	shown = p->n < (size_t)o->top ? p->n : (size_t)o->top;
	fprintf(out, "top %zu of %zu stacks by outstanding bytes:\n", shown,
		p->n);
	for (i = 0; i < shown; i++) {
		const struct prof_entry *e = &p->v[i];
		double age = 0;

		if (e->agg.live_count > 0)
			age = (p->now_ms - (double)e->agg.ts_sum_ms /
						   e->agg.live_count) / 1000.0;
		fprintf(out,
			"#%zu %" PRId64 " bytes (%s) in %" PRId64
			" allocations, %.1f%% of total, avg age %.1f s, %s\n",
			i + 1, (int64_t)e->agg.live_bytes,
			fmt_bytes(e->agg.live_bytes, b1, sizeof(b1)),
			(int64_t)e->agg.live_count,
			total > 0 ? 100.0 * e->agg.live_bytes / total : 0.0, age,
			kind_name(e->key.kind));
		if (!e->nips)
			fprintf(out, "        [stack not recorded: map full]\n");
		for (j = 0; j < e->nips; j++)
			print_frame(out, s, e->ips[j]);
	}
	fprintf(out, "\n");
	fflush(out);
}
