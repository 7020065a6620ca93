// SPDX-License-Identifier: GPL-2.0
/*
 * Probe placement. A uprobe hit on x86-64 costs one trap, plus, unless the
 * kernel can emulate the probed instruction, a single step of a copy of it
 * out of line: about three times the cost of the trap on the machines
 * measured (tests/bench.sh). glibc's free starts with `test %rdi,%rdi`,
 * jemalloc's malloc with `cmp`: both are stepped at +0. Moving the probe to
 * the first instruction the kernel emulates, where nothing heaptrail reads
 * has changed yet, saves that step on every call.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "probeplace.h"

#define MAX_FUNC_BYTES 65536	/* decoded in full to find branch targets */

/*
 * Instructions arch/x86/kernel/uprobes.c emulates: push of a general
 * register, relative jmp/call, jcc, and a one-byte nop. A 0x66 prefix
 * makes a branch a 16-bit one, which the kernel refuses to emulate.
 */
static bool emulated(const cs_insn *in)
{
	const uint8_t *b = in->bytes;

	if (in->size == 1 && ((b[0] >= 0x50 && b[0] <= 0x57) || b[0] == 0x90))
		return true;
	if (in->size == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return true;
	if (b[0] == 0xeb || b[0] == 0xe9 || b[0] == 0xe8 ||
	    (b[0] >= 0x70 && b[0] <= 0x7f))
		return true;
	return b[0] == 0x0f && in->size >= 2 && b[1] >= 0x80 && b[1] <= 0x8f;
}

static bool is_jcc(const cs_insn *in)
{
	const uint8_t *b = in->bytes;

	return (b[0] >= 0x70 && b[0] <= 0x7f) ||
	       (b[0] == 0x0f && in->size >= 2 && b[1] >= 0x80 && b[1] <= 0x8f);
}

/* The register families that must keep their entry values. */
static bool guarded(unsigned reg, unsigned args)
{
	switch (reg) {
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL:
		return true;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return args & PP_ARG0;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return args & PP_ARG1;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL:
	case X86_REG_DH:
		return args & PP_ARG2;
	}
	return false;
}

static bool writes_guarded(csh h, const cs_insn *in, unsigned args)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr, i;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr))
		return true;	/* unknown: assume the worst */
	for (i = 0; i < nwr; i++)
		if (guarded(wr[i], args))
			return true;
	return false;
}

static bool is_branch(csh h, const cs_insn *in)
{
	return cs_insn_group(h, in, CS_GRP_JUMP) ||
	       cs_insn_group(h, in, CS_GRP_CALL) ||
	       cs_insn_group(h, in, CS_GRP_RET) ||
	       cs_insn_group(h, in, CS_GRP_INT) ||
	       cs_insn_group(h, in, CS_GRP_IRET);
}

/* The immediate target of a relative branch, or 0. */
static uint64_t target_of(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
		return x->operands[0].imm;
	return 0;
}

static const cs_insn *insn_at(const cs_insn *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].address == addr)
			return &v[mid];
		if (v[mid].address < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Does a branch anywhere in the function land in (start, end]? */
static bool target_in(csh h, const cs_insn *v, size_t n, uint64_t start,
		      uint64_t end)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t t;

		if (!cs_insn_group(h, &v[i], CS_GRP_JUMP) &&
		    !cs_insn_group(h, &v[i], CS_GRP_CALL))
			continue;
		t = target_of(&v[i]);
		if (t > start && t <= end)
			return true;
	}
	return false;
}

static void say(struct probe_place *out, uint64_t off, const char *what,
		const char *skipped)
{
	out->off = off;
	snprintf(out->why, sizeof(out->why), "+%#lx (%s%s%s)",
		 (unsigned long)off, what, *skipped ? "; skipped: " : "",
		 skipped);
}

void probe_place(const uint8_t *code, size_t len, uint64_t vaddr,
		 unsigned args, struct probe_place *out)
{
	char skipped[96] = "", first[200] = "";
	const cs_insn *ret_jcc = NULL;
	cs_insn *v = NULL;
	size_t n, i, done = 0;
	csh h;

	say(out, 0, "single-stepped: cannot decode", "");
	if (!len || len > MAX_FUNC_BYTES ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(h, code, len, vaddr, 0, &v);
	for (i = 0; i < n; i++)
		done += v[i].size;
	if (!n)
		goto out;
	snprintf(first, sizeof(first), "%s %s", v[0].mnemonic, v[0].op_str);
	if (emulated(&v[0])) {
		say(out, 0, first, "");
		goto out;
	}
	/* branch targets of a partly decoded function are unknown */
	if (done != len) {
		say(out, 0, "single-stepped: the function does not decode whole",
		    "");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const cs_insn *in = &v[i];
		uint64_t off = in->address - vaddr;
		const cs_insn *t;

		if (i && emulated(in) &&
		    !target_in(h, v, n, vaddr, in->address)) {
			/* a jcc to a ret can itself be skipped: its taken
			 * path counts nothing; prefer what follows it */
			t = is_jcc(in) && !(args & PP_RET) ?
				    insn_at(v, n, target_of(in)) : NULL;
			if (!(t && t->id == X86_INS_RET)) {
				char what[200];

				snprintf(what, sizeof(what), "%s %s",
					 in->mnemonic, in->op_str);
				say(out, off, what, skipped);
				goto out;
			}
			ret_jcc = in;
		}
		/* can the probe move past this instruction? */
		if (writes_guarded(h, in, args))
			break;
		if (is_branch(h, in)) {
			t = is_jcc(in) && !(args & PP_RET) ?
				    insn_at(v, n, target_of(in)) : NULL;
			if (!(t && t->id == X86_INS_RET))
				break;
		}
		snprintf(skipped + strlen(skipped),
			 sizeof(skipped) - strlen(skipped), "%s%s",
			 i ? ", " : "", in->mnemonic);
		if (is_jcc(in))
			snprintf(skipped + strlen(skipped),
				 sizeof(skipped) - strlen(skipped), " -> ret");
	}
	if (ret_jcc) {
		char what[200];

		snprintf(what, sizeof(what), "%s %s", ret_jcc->mnemonic,
			 ret_jcc->op_str);
		say(out, ret_jcc->address - vaddr, what, "");
	} else {
		char what[240];

		snprintf(what, sizeof(what),
			 "%s: single-stepped, no safe emulated instruction",
			 first);
		say(out, 0, what, "");
	}
out:
	if (v)
		cs_free(v, n);
	cs_close(&h);
}
