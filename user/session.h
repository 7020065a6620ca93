/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SESSION_H
#define HT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "aggsync.h"
#include "allocrange.h"
#include "attach.h"
#include "elfimg.h"
#include "heaptrail.skel.h"
#include "options.h"
#include "outfile.h"
#include "outputs.h"
#include "procmem.h"
#include "reclaim.h"
#include "procs.h"
#include "report.h"
#include "stackcache.h"
#include "symbolize.h"
#include "trend.h"
#include "trendfeed.h"
#include "unwind.h"

#define REFRESH_MS 1000	/* how often the target's maps are re-read */
/*
 * How often the process's memory is read: a command that ends within a
 * second had a final report with the memory of its start (the kernel
 * frees it before the exit can be seen). One read costs about 30 us.
 */
#define MEM_MS 100
#define ROW_HEADROOM 262144	/* unwind rows for libraries loaded later */

/* A followed process that ended: its slot is dropped after the drain. */
struct ended_proc {
	uint32_t pid, slot;
	bool execd;		/* ran exec (a new slot), not exited */
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
	struct alloc_ranges alloc_code;	/* what BPF has of its code */
	pid_t child;		/* the command we started, or 0 */
	int pidfd;
	int sigfd;
	uint64_t start_ms;
	bool gone;		/* the target has exited */
	uint64_t gone_ms;	/* when heaptrail saw it gone */
	int status;		/* the command's wait status, once gone */
	struct aggsync agg;	/* copy of the BPF aggregates */
	struct reclaim reclaim;	/* stacks that hold nothing: deleted */
	struct outputs files;	/* folded, pprof */
	FILE *out;		/* the reports: stdout, or -o FILE */
	struct stackcache frames;	/* frames of the stacks seen */
	struct trend trend;	/* per-stack history, for leak ranking */
	struct trend_feed feed;	/* changed since the last trend point */
	struct proc_mem mem0, mem;	/* at attach, and last read */
	bool have_mem;
	struct ring_buffer *events;	/* the target's forks and execs */
	uint64_t unprobed;	/* children whose breakpoints went */
	bool unprobe_warned;	/* said once that a child kept them */
	uint64_t exec_ns;	/* an exec to act on: when (BPF clock) */
	bool code_mapped;	/* the target mapped new code: load its rows */
	bool cmd_execd;		/* -- COMMAND: its own first exec seen */
	bool gate_waiting;	/* -- COMMAND ran exec: the gate stops it */
	bool probe_pending;	/* -p ran exec: probe its new allocator */
	struct exec_note execs;	/* the target's execs, for reports */
	struct proc_table procs;	/* --follow-forks: by slot */
	struct ended_proc *ended;	/* since the last drain */
	size_t nended, ecap;
	uint64_t cg_id;		/* --cgroup: its id and depth */
	uint32_t cg_level;
};

void session_init_symbolizer(struct session *s);
/* Open the BPF object sized and configured for s->o, and load it. */
int session_load(struct session *s);
/*
 * Syscall tracepoints, allocator probes on libc_path and, for a command,
 * its start gate. On failure *what names the step, for the error line.
 */
int session_attach(struct session *s, const char *libc_path,
		   const struct elf_img *libc, const char **what);
/* Write new unwind rows and the current module placement to BPF. */
void session_sync_unwind(struct session *s);
/*
 * Read the target's mappings again and sync the unwind rows: code BPF saw
 * mapped before is walkable after. Returns symbolizer_refresh's error.
 */
int session_refresh_maps(struct session *s);
/* Probe the allocator the target now maps, if it is not probed yet. */
void session_probe_replacement(struct session *s);
/* Give BPF where the allocator's code is mapped now. */
void session_set_alloc_code(struct session *s);
/*
 * --alloc-syms functions, and an allocator linked into the executable:
 * found by symbol in the modules mapped now and probed. A name found
 * nowhere is an error, said in one line here.
 */
int session_probe_extras(struct session *s);
/* ring_buffer callback: the target forked, ran exec or mapped code. */
int session_on_event(void *ctx, void *data, size_t len);
/* --cgroup: probe the allocator of every member (new ones too) */
void session_probe_members(struct session *s);
/* --follow-forks: the slots read afresh from BPF, for a report */
void session_sync_procs(struct session *s);
/* --follow-forks: drop what the processes that ended held (after a
 * drain of the event ring, and before a report) */
void session_end_procs(struct session *s);
/* Act on an exec: drop the old program's state, start afresh. */
void session_exec_reset(struct session *s);

/* run.c: the report loop, until a signal, -d or the target's end. */
void session_run(struct session *s);
void session_sample_now(struct session *s);
void session_report(struct session *s, bool final);

#endif
