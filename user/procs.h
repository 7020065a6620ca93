/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_PROCS_H
#define HT_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"
#include "symbolize.h"

/*
 * --follow-forks: the processes traced, by slot (the BPF procs table;
 * the target is slot 0). A slot ends when its process exits or runs
 * exec (which gives it a new slot); what it held then is dropped and
 * kept here for the reports.
 */
struct proc_info {
	pid_t pid;
	uint32_t parent;	/* the slot that forked (or exec'd into) it */
	char comm[16];
	bool gone;		/* exited or exec'd, as BPF saw it */
	bool ended;		/* and dropped by the loader */
	bool execd;		/* ended by exec, not by exit */
	int wstatus;		/* exit: its wait status */
	double begin_s, end_s;	/* since attach */
	struct prof_totals held;	/* what it held when it ended */
	struct prof_totals live;	/* in the last profile (procs_tally) */
	bool foreign;		/* runs another program than the target's */
	bool joined;		/* --cgroup: found there, not forked */
	struct symbolizer *sym;	/* foreign: its own mappings' names */
};

struct proc_table {
	struct proc_info *v;	/* by slot */
	size_t n;
	uint64_t untracked;	/* processes no slot was left for */
};

/*
 * Read the slots the BPF side handed out (slot 0 is the target's:
 * pid and comm from the loader); begin_ns is the loader's attach time
 * on the BPF clock.
 */
int procs_sync(struct proc_table *t, int procs_fd, uint32_t nslots,
	       uint64_t untracked, pid_t pid, const char *comm,
	       uint64_t attach_ns);
/* Slot ended; held is what was dropped from the maps for it. */
void procs_ended(struct proc_table *t, uint32_t slot,
		 const struct prof_totals *held);
/* Per-slot outstanding totals of profile p. */
void procs_tally(struct proc_table *t, const struct profile *p);
/* The process of slot as a synthetic frame: "[pid 1234 comm]". */
const char *proc_frame(const struct proc_table *t, uint32_t slot, char *buf,
		       size_t len);
/*
 * The symbolizer for slot's stacks: its own for a process running
 * another program, else dflt (the target's layout: forks share it).
 * t may be NULL.
 */
struct symbolizer *procs_sym(const struct proc_table *t, uint32_t slot,
			     struct symbolizer *dflt);
/* Its PID, or -1 for a slot not (yet) read. */
pid_t proc_pid(const struct proc_table *t, uint32_t slot);
void procs_free(struct proc_table *t);

#endif
