/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target's forks and execs, told to the loader at once through a
 * ring buffer: a forked child inherits the breakpoints of the allocator
 * probes, which the loader takes out of its copy of the code (forks.c).
 */
#ifndef PROCS_BPF_H
#define PROCS_BPF_H

/* depth of heaptrail's PID namespace: PIDs it is told are seen there */
const volatile __u32 pidns_level = 0;

/* -- COMMAND: stop each new program at the start gate too */
const volatile __u32 gate_exec = 0;

/* child processes the target forked since attach */
__u64 forks_seen = 0;
__u64 events_lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

/* t's PID as heaptrail's PID namespace numbers it */
static __always_inline __u32 ns_pid(struct task_struct *t)
{
	struct upid u = {};
	__u64 pid;

	if (!pidns_level)
		return t->pid;
	/* read as a number: a BTF pointer takes no variable offset */
	if (bpf_core_read(&pid, sizeof(pid), &t->thread_pid))
		return 0;
	pid += bpf_core_field_offset(struct pid, numbers) +
	       (__u64)pidns_level * bpf_core_type_size(struct upid);
	bpf_probe_read_kernel(&u, sizeof(u), (void *)pid);
	return u.nr;
}

static __always_inline void event(__u32 type, __u32 pid)
{
	struct ht_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&events_lost, 1);
		return;
	}
	e->type = type;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
}

/*
 * A new process of the target's, in an address space of its own: a
 * thread shares the target's, and a vfork or CLONE_VM child runs in it
 * (taking breakpoints out of that would take them out of the target).
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!is_target_proc() || child->tgid == parent->tgid ||
	    child->mm == parent->mm || !child->mm)
		return 0;
	__sync_fetch_and_add(&forks_seen, 1);
	event(HT_EV_FORK, ns_pid(child));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	if (!is_target_proc())
		return 0;
	/* nothing of the old program's runs any more: its allocations are
	 * the loader's to drop, keys with the old image tell them apart */
	image++;
	if (gate_exec)
		gate_armed = 1;
	event(HT_EV_EXEC, ns_pid(p));
	return 0;
}

#endif /* PROCS_BPF_H */
