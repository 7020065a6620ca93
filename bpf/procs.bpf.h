/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target's forks and execs, told to the loader at once through a
 * ring buffer: a forked child inherits the breakpoints of the allocator
 * probes, which the loader takes out of its copy of the code (forks.c).
 *
 * --follow-forks: each traced process has a slot, the target slot 0.
 * A child gets its slot here, at fork, before it runs a single
 * instruction, so none of its allocations is missed; the allocator
 * probes then carry no PID filter and this table is the filter. A child
 * that runs exec ends its slot and gets a new one: what its old program
 * held is the loader's to drop, as is what an exited child held.
 */
#ifndef PROCS_BPF_H
#define PROCS_BPF_H

static __always_inline int is_target(void)
{
	struct bpf_pidns_info ns;

	if (!pidns_ino)
		return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
	if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
		return 0;	/* a task outside our namespace */
	return ns.tgid == targ_tgid;
}

/*
 * The target process itself, not a later one with its PID: for the
 * tracepoints, which see every process. The uprobes need no such check:
 * the kernel ties them to the target's task.
 */
static __always_inline int is_target_proc(void)
{
	struct task_struct *task;

	if (!is_target())
		return 0;
	task = bpf_get_current_task_btf();
	return task->group_leader->start_boottime / 10000000 == targ_start;
}

/* depth of heaptrail's PID namespace: PIDs it is told are seen there */
const volatile __u32 pidns_level = 0;

/* -- COMMAND: stop each new program at the start gate too */
const volatile __u32 gate_exec = 0;

/* child processes the target forked since attach */
__u64 forks_seen = 0;
__u64 events_lost = 0;

/* --follow-forks (and --cgroup) */
const volatile __u32 follow_forks = 0;
/* --cgroup: the cgroup v2 (its id and depth) whose processes are traced,
 * each from its first allocator call or syscall seen (-a: the root) */
const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;
/* heaptrail's own tgid (initial namespace): never a member */
const volatile __u32 self_tgid = 0;
/* slots handed out (0: the target's); never reused within a run (64
 * bits: clang 14's BPF target has no 32-bit compare-and-swap) */
__u64 next_slot = 1;
/* processes that would have been followed, had a slot been left */
__u64 procs_untracked = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct ht_proc);
} procs SEC(".maps");

/* a followed child's slot by its tgid (the initial namespace's) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HT_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} proc_slots SEC(".maps");

/*
 * The slot of the current process, or -1 when it is not traced. Without
 * --follow-forks the kernel filters the uprobes by PID already (tp: a
 * tracepoint, which sees every process, checks the start time too).
 */


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

static __always_inline void event_slot(__u32 type, __u32 pid, __u32 slot,
				       __u32 old)
{
	struct ht_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&events_lost, 1);
		return;
	}
	e->type = type;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	e->slot = slot;
	e->old = old;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void event(__u32 type, __u32 pid)
{
	event_slot(type, pid, 0, 0);
}

static __always_inline __u32 slot_take(void)
{
	__u64 n;
	int i;

	/* forks on other CPUs may race: a few tries, then none */
#pragma unroll
	for (i = 0; i < 4; i++) {
		n = next_slot;
		if (n >= HT_MAX_PROCS)
			break;
		if (__sync_val_compare_and_swap(&next_slot, n, n + 1) == n)
			return n;
	}
	return HT_MAX_PROCS;
}

/* A slot for process p, forked by (or exec'd from) slot parent; 0: none. */
static __always_inline __u32 proc_add(struct task_struct *p, __u32 parent,
				      __u32 foreign, __u64 flags)
{
	__u32 slot = slot_take(), tgid = p->tgid;
	struct ht_proc *e;

	if (slot >= HT_MAX_PROCS) {
		__sync_fetch_and_add(&procs_untracked, 1);
		return 0;
	}
	e = bpf_map_lookup_elem(&procs, &slot);
	if (!e)
		return 0;
	e->pid = ns_pid(p);
	e->parent = parent;
	e->begin_ns = bpf_ktime_get_ns();
	e->end_ns = 0;
	e->execd = 0;
	e->foreign = foreign;
	e->joined = flags == BPF_NOEXIST;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->comm);
	if (bpf_map_update_elem(&proc_slots, &tgid, &slot, flags)) {
		/* BPF_NOEXIST: another thread of p joined first */
		if (flags == BPF_ANY)
			__sync_fetch_and_add(&procs_untracked, 1);
		return 0;
	}
	return slot;
}

/*
 * --cgroup: a process of the cgroup not seen yet (there at attach, or
 * moved in since; those forked inside get their slot at the fork).
 */
static __always_inline int cgroup_join(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid, *s, slot;

	/* a kernel thread (kthreadd forking) has no allocations */
	if (t->tgid == self_tgid || !t->mm ||
	    bpf_get_current_ancestor_cgroup_id(cgroup_level) != cgroup_id)
		return -1;
	slot = proc_add(t->group_leader, 0, 1, BPF_NOEXIST);
	if (slot)
		event_slot(HT_EV_FORK, ns_pid(t->group_leader), slot, 0);
	tgid = t->tgid;
	s = bpf_map_lookup_elem(&proc_slots, &tgid);
	return s ? (int)*s : -1;
}

/*
 * The slot of the current process, or -1 when it is not traced. Without
 * --follow-forks the kernel filters the uprobes by PID already (tp: a
 * tracepoint, which sees every process, checks the start time too).
 */
static __always_inline int slot_lookup(void)
{
	__u32 tgid, *s;

	if (is_target_proc())
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	s = bpf_map_lookup_elem(&proc_slots, &tgid);
	if (s)
		return *s;
	return cgroup_id ? cgroup_join() : -1;
}

/*
 * The slot passed through map memory, whose contents the verifier does
 * not track: the target's slot 0, a known constant, and a child's would
 * otherwise be two states through all that follows (the uretprobe
 * program went past the verifier's 1M instructions).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s32);
} slot_cell SEC(".maps");

static __always_inline int traced_slot(int tp)
{
	__u32 zero = 0;
	__s32 *c;

	if (!follow_forks)
		return (tp ? is_target_proc() : is_target()) ? 0 : -1;
	c = bpf_map_lookup_elem(&slot_cell, &zero);
	if (!c)
		return -1;
	*c = slot_lookup();
	return *c;
}

/* Does slot run another program than the target's? */
static __always_inline __u32 proc_foreign(__u32 slot)
{
	struct ht_proc *e;

	if (!slot)
		return 0;
	e = bpf_map_lookup_elem(&procs, &slot);
	return e ? e->foreign : 1;
}

/* Slot ends: the process exited or ran exec. */
static __always_inline void proc_end(__u32 slot, __u32 execd, __s32 code)
{
	struct ht_proc *e = bpf_map_lookup_elem(&procs, &slot);

	if (!e)
		return;
	e->exit_code = code;
	e->execd = execd;
	e->end_ns = bpf_ktime_get_ns();
}

/*
 * A new process of the target's, in an address space of its own: a
 * thread shares the target's, and a vfork or CLONE_VM child runs in it
 * (taking breakpoints out of that would take them out of the target).
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	int pslot = traced_slot(1);
	__u32 slot;

	if (pslot < 0 || child->tgid == parent->tgid || !child->mm)
		return 0;
	if (follow_forks) {
		/* a vfork child too: the program it runs by exec is
		 * followed, and until then it is the same code */
		slot = proc_add(child, pslot, proc_foreign(pslot), BPF_ANY);
		__sync_fetch_and_add(&forks_seen, 1);
		if (slot || child->mm != parent->mm)
			event_slot(HT_EV_FORK, ns_pid(child), slot, pslot);
		return 0;
	}
	if (child->mm == parent->mm)
		return 0;
	__sync_fetch_and_add(&forks_seen, 1);
	event(HT_EV_FORK, ns_pid(child));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	int slot = traced_slot(1);
	__u32 tgid = p->tgid, ns;

	if (slot < 0)
		return 0;
	if (slot > 0) {
		/* a child's new program: a new slot, the old one's state
		 * is dropped by the loader (no key of the new slot's is
		 * among it) */
		ns = ns_pid(p);
		bpf_map_delete_elem(&proc_slots, &tgid);
		proc_end(slot, 1, 0);
		event_slot(HT_EV_CHILD_EXEC, ns, proc_add(p, slot, 1, BPF_ANY),
			   slot);
		return 0;
	}
	/* nothing of the old program's runs any more: its allocations are
	 * the loader's to drop, keys with the old image tell them apart */
	image++;
	if (gate_exec)
		gate_armed = 1;
	event(HT_EV_EXEC, ns_pid(p));
	return 0;
}

/* --follow-forks: a child's last thread is gone (loaded only then) */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p, bool group_dead)
{
	__u32 tgid = p->tgid, *s, slot, tid, i;
	struct tslot *t;

	if (!group_dead)
		return 0;
	s = bpf_map_lookup_elem(&proc_slots, &tgid);
	if (s) {
		slot = *s;
		bpf_map_delete_elem(&proc_slots, &tgid);
	} else if (cgroup_id && is_target_proc()) {
		slot = 0;	/* --cgroup: the first member ends as any */
	} else {
		return 0;
	}
	/* the last thread's state: thread_exit no longer sees it traced */
	tid = p->pid;
	i = tid & (TSLOTS - 1);
	t = bpf_map_lookup_elem(&tslots, &i);
	if (t && t->tid == tid)
		__sync_val_compare_and_swap(&t->tid, (__u64)tid, 0);
	else
		bpf_map_delete_elem(&threads, &tid);
	proc_end(slot, 0, p->exit_code);
	event_slot(HT_EV_EXIT, ns_pid(p), slot, slot);
	return 0;
}

#endif /* PROCS_BPF_H */
