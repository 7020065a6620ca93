// SPDX-License-Identifier: GPL-2.0
/* JSON form of the report; the fields mirror the text report's. */
#include <inttypes.h>
#include <sys/wait.h>
#include <time.h>

#include "json.h"
#include "stacksyms.h"

/*
 * Length of the valid UTF-8 sequence at s, 0 if it is not one (a stray
 * byte of a path or command line that is not UTF-8).
 */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void jstr(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', out);
	while (s && *s) {
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", out);
			s++;
		} else if (*s == '"' || *s == '\\') {
			fprintf(out, "\\%c", *s++);
		} else if (*s < 0x20) {
			fprintf(out, "\\u%04x", *s++);
		} else {
			fwrite(s, 1, n, out);
			s += n;
		}
	}
	fputc('"', out);
}

/* null while the target runs; how it ended, in a final report */
static void json_end(FILE *out, const struct report_opts *o)
{
	int st = o->wstatus;

	switch (o->end) {
	case END_RUNNING:
		fputs("null", out);
		break;
	case END_ENDING:
		fputs("{\"how\":\"ended_by_heaptrail\"}", out);
		break;
	case END_GONE:
		fprintf(out, "{\"how\":\"exited\",\"at_s\":%.3f}", o->end_s);
		break;
	case END_WAITED:
		if (WIFSIGNALED(st))
			fprintf(out,
				"{\"how\":\"killed\",\"signal\":%d,\"at_s\":%.3f}",
				WTERMSIG(st), o->end_s);
		else
			fprintf(out,
				"{\"how\":\"exited\",\"status\":%d,\"at_s\":%.3f}",
				WEXITSTATUS(st), o->end_s);
		break;
	}
}

/* --follow-forks: "processes", one object per slot, and the overflow */
static void json_procs(FILE *out, const struct proc_table *t)
{
	size_t i;

	fprintf(out, ",\"processes_untracked\":%" PRIu64 ",\"processes\":[",
		t->untracked);
	for (i = 0; i < t->n; i++) {
		const struct proc_info *p = &t->v[i];
		const struct prof_totals *h = p->ended ? &p->held : &p->live;

		fprintf(out, "%s{\"pid\":%d,\"comm\":", i ? "," : "", p->pid);
		jstr(out, p->comm);
		fprintf(out, ",\"parent_pid\":");
		if (i && !p->joined)
			fprintf(out, "%d,\"since_s\":%.3f", t->v[p->parent].pid,
				p->begin_s);
		else if (i)
			fprintf(out, "null,\"since_s\":%.3f", p->begin_s);
		else
			fputs("null,\"since_s\":0", out);
		fprintf(out, ",\"live_bytes\":%" PRId64 ",\"live_count\":%" PRId64,
			(int64_t)h->live_bytes, (int64_t)h->live_count);
		if (!p->ended)
			fputs(",\"ended\":null}", out);
		else if (p->execd)
			fprintf(out, ",\"ended\":{\"how\":\"exec\",\"at_s\":%.3f}}",
				p->end_s);
		else if (WIFSIGNALED(p->wstatus))
			fprintf(out,
				",\"ended\":{\"how\":\"killed\",\"signal\":%d,\"at_s\":%.3f}}",
				WTERMSIG(p->wstatus), p->end_s);
		else
			fprintf(out,
				",\"ended\":{\"how\":\"exited\",\"status\":%d,\"at_s\":%.3f}}",
				WEXITSTATUS(p->wstatus), p->end_s);
	}
	fputc(']', out);
}

static void totals(FILE *out, const char *name, const struct prof_totals *t)
{
	fprintf(out,
		"\"%s\":{\"live_bytes\":%" PRId64 ",\"live_count\":%" PRId64
		",\"alloc_bytes\":%" PRIu64 ",\"alloc_count\":%" PRIu64
		",\"free_bytes\":%" PRIu64 ",\"free_count\":%" PRIu64 "}",
		name, t->live_bytes, t->live_count, t->alloc_bytes,
		t->alloc_count, t->free_bytes, t->free_count);
}

static void src(FILE *out, const struct frame *f)
{
	if (!f->file)
		return;
	fputs(",\"file\":", out);
	jstr(out, f->file);
	fprintf(out, ",\"line\":%d", f->line);
}

static void frames(FILE *out, const struct profile *p,
		   const struct prof_entry *e)
{
	int j, k;

	fputs("\"frames\":[", out);
	for (j = 0; j < e->nips; j++) {
		const struct frame *v, *f;
		int n = profile_frames(p, e->key.proc, e->ips[j], &v);

		f = &v[n - 1];
		/* a synthetic frame has a name and nothing else */
		fprintf(out, "%s{\"address\":%" PRIu64 ",\"function\":", j ? "," : "",
			f->synthetic ? 0 : e->ips[j]);
		if (f->func)
			jstr(out, f->func);
		else
			fputs("null", out);
		fputs(",\"module\":", out);
		if (f->module)
			jstr(out, f->module);
		else
			fputs("null", out);
		fprintf(out, ",\"offset\":%" PRIu64 ",\"build_id\":", f->off);
		if (f->mod && f->mod->img && f->mod->img->build_id[0])
			jstr(out, f->mod->img->build_id);
		else
			fputs("null", out);
		src(out, f);
		if (n > 1) {
			fputs(",\"inlined\":[", out);
			for (k = 0; k < n - 1; k++) {
				fputs(k ? ",{\"function\":" : "{\"function\":", out);
				jstr(out, v[k].func);
				src(out, &v[k]);
				fputc('}', out);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

/* One stack of the "stacks" array, of rank i + 1. */
static void entry(FILE *out, const struct profile *p, size_t i,
		  const struct report_opts *o, bool first)
{
	const struct prof_entry *e = &p->v[i];
	int64_t total = profile_total_bytes(p);
	double age = e->agg.live_count > 0 ?
		(p->now_ms - (double)e->agg.ts_sum_ms / e->agg.live_count) / 1000.0 : 0;

	fprintf(out,
		"%s{\"rank\":%zu,\"kind\":\"%s\",\"live_bytes\":%" PRId64
		",\"live_count\":%" PRId64 ",\"alloc_bytes\":%" PRIu64
		",\"alloc_count\":%" PRIu64 ",\"free_bytes\":%" PRIu64
		",\"free_count\":%" PRIu64 ",\"share\":%.4f,\"avg_age_s\":%.3f,",
		first ? "" : ",", i + 1, kind_name(e->key.kind),
		(int64_t)e->agg.live_bytes, (int64_t)e->agg.live_count,
		(uint64_t)e->agg.alloc_bytes, (uint64_t)e->agg.alloc_count,
		(uint64_t)e->agg.free_bytes, (uint64_t)e->agg.free_count,
		total > 0 ? (double)e->agg.live_bytes / total : 0.0, age);
	if (o->procs)
		fprintf(out, "\"pid\":%d,", proc_pid(o->procs, e->key.proc));
	if (o->ages) {
		int b;

		fprintf(out, "\"oldest_age_s\":%.3f,\"age_histogram\":{",
			o->ages[i].oldest_ms / 1000.0);
		for (b = 0; b < AGE_BUCKETS; b++)
			fprintf(out, "%s\"%s\":%" PRIu64, b ? "," : "",
				age_bucket_names[b], o->ages[i].hist[b]);
		fputs("},", out);
	}
	frames(out, p, e);
	fputc('}', out);
}

/* ,"maps":{...}: the BPF maps' fill levels and reclaim */
static void json_fill(FILE *out, const struct map_fill *f)
{
	static const char *const names[HT_NFILLS] = {
		[HT_F_STACKS] = "stacks",
		[HT_F_AGGS] = "aggregates",
		[HT_F_ALLOCS] = "live_allocations",
		[HT_F_MAPPINGS] = "mappings",
	};
	int i;

	if (!f) {
		fputs(",\"maps\":null", out);
		return;
	}
	fputs(",\"maps\":{", out);
	for (i = 0; i < HT_NFILLS; i++) {
		fprintf(out, "\"%s\":{\"capacity\":%" PRIu64 ",\"used\":",
			names[i], f->max[i]);
		if (f->known)
			fprintf(out, "%" PRIu64 "},", f->n[i]);
		else
			fputs("null},", out);
	}
	fprintf(out,
		"\"reclaimed_stacks\":%" PRIu64 ",\"reclaim_put_back\":%" PRIu64
		",\"reclaim_passes\":%" PRIu64 "}",
		f->reclaimed, f->kept, f->passes);
}

void report_json(FILE *out, const struct profile *p, struct symbolizer *s,
		 const struct report_opts *o)
{
	static const char *const cnames[HT_NCOUNTERS] = {
		[HT_C_DROP_ALLOC] = "dropped_live_map_full",
		[HT_C_DROP_STACK] = "dropped_stack_map_full",
		[HT_C_DROP_AGG] = "dropped_aggregate_map_full",
		[HT_C_DROP_MAPPING] = "dropped_mapping_map_full",
		[HT_C_DROP_THREAD] = "dropped_thread_map_full",
		[HT_C_UNKNOWN_FREE] = "frees_before_attach",
		[HT_C_NESTED] = "nested_calls",
		[HT_C_TRUNCATED] = "truncated_stacks",
		[HT_C_MISSED] = "missed_events",
	};
	int64_t total = profile_total_bytes(p);
	char when[32];
	time_t now = time(NULL);
	size_t i, n, shown;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(out, "{\"heaptrail\":1,\"pid\":%d,\"comm\":", o->pid);
	jstr(out, o->comm);
	fputs(",\"cmdline\":", out);
	jstr(out, o->cmdline);
	fprintf(out, ",\"time\":\"%s\",\"elapsed_s\":%.3f,\"final\":%s,", when,
		o->elapsed, o->final ? "true" : "false");
	fprintf(out, "\"min_age_s\":%.3f,", o->min_age);
	fprintf(out, "\"mode\":\"%s\",",
		o->faults ? "page_faults" : o->kernel ? "kernel" :
		o->sample_bytes ? "sampled" : "allocations");
	fprintf(out, "\"sample_bytes\":%" PRIu64 ",", o->sample_bytes);
	fprintf(out, "\"outstanding_bytes\":%" PRId64 ",", total);
	totals(out, "heap", &p->heap);
	fputc(',', out);
	totals(out, "mmap", &p->mmap);
	fputc(',', out);
	totals(out, "brk", &p->brk);
	fputc(',', out);
	totals(out, "faults", &p->faults);
	fputc(',', out);
	totals(out, "allocator_reserved", &p->arena);
	fputs(",\"counters\":{", out);
	for (i = 0; i < HT_NCOUNTERS; i++)
		fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", cnames[i],
			p->counters[i]);
	fputs("},\"process\":", out);
	if (o->mem && o->mem0)
		fprintf(out,
			"{\"rss_bytes\":%" PRIu64 ",\"anon_bytes\":%" PRIu64
			",\"rss_growth_bytes\":%" PRId64
			",\"anon_growth_bytes\":%" PRId64 "}",
			o->mem->rss, o->mem->anon,
			(int64_t)(o->mem->rss - o->mem0->rss),
			(int64_t)(o->mem->anon - o->mem0->anon));
	else
		fputs("null", out);
	json_fill(out, o->fill);
	fprintf(out, ",\"forks\":%" PRIu64 ",\"exec\":", o->forks);
	if (o->exec && o->exec->n) {
		fprintf(out, "{\"count\":%u,\"at_s\":%.3f,\"old_comm\":",
			o->exec->n, o->exec->at_s);
		jstr(out, o->exec->old_comm);
		fprintf(out,
			",\"dropped_bytes\":%" PRId64
			",\"dropped_allocations\":%" PRId64 "}",
			o->exec->dropped.live_bytes,
			o->exec->dropped.live_count);
	} else {
		fputs("null", out);
	}
	fputs(",\"end\":", out);
	json_end(out, o);
	if (o->procs)
		json_procs(out, o->procs);
	if (o->cgroup) {
		fputs(",\"cgroup\":", out);
		jstr(out, o->cgroup);
	}
	if (o->all)
		fputs(",\"all_processes\":true", out);
	fputs(",\"suspected_leaks\":[", out);
	for (i = 0; i < o->nsus; i++) {
		const struct leak_suspect *l = &o->sus[i];

		fprintf(out,
			"%s{\"stack\":%ld,\"kind\":\"%s\",\"rate_bytes_per_min\":%.1f,"
			"\"confidence\":\"%s\",\"r2\":%.4f,\"growing_share\":%.4f,"
			"\"samples\":%zu,\"span_s\":%.3f,\"growth_bytes\":%" PRId64
			",\"avg_age_s\":%.3f,\"reason\":\"%s\"",
			i ? "," : "", report_find(p, &l->key) + 1,
			kind_name(l->key.kind), l->rate,
			leak_confidence_name(l->confidence), l->r2, l->growing,
			l->samples, l->span_s, l->growth, l->avg_age_s,
			leak_reason_name(l->reason));
		if (l->reason == LEAK_NEVER_FREED)
			fprintf(out,
				",\"allocations\":%" PRIu64
				",\"others_freed_share\":%.4f,\"chance\":%.3g",
				l->allocs, l->others_freed, l->chance);
		fputc('}', out);
	}
	shown = p->nlive < (size_t)o->top ? p->nlive : (size_t)o->top;
	fprintf(out, "],\"stacks_total\":%zu,\"stacks\":[", p->nlive);
	for (i = 0; i < shown; i++)
		entry(out, p, i, o, !i);
	/* suspects below the top, so that every suspect's stack is here */
	for (i = 0, n = shown; i < o->nsus; i++) {
		long k = report_find(p, &o->sus[i].key);

		if (k >= (long)shown)
			entry(out, p, k, o, !n++);
	}
	fputs("]}\n", out);
	fflush(out);
}
