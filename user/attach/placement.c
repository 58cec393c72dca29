// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where the probes on a function go.
 *
 * A uprobe costs ~0.85 us per hit on an instruction the kernel emulates
 * (push %reg, the nops, endbr64, jmp/call rel, jcc) and ~12 us on one it
 * must single-step out of line. So the entry probe goes on the first
 * emulated instruction that straight-line code from the function's start
 * reaches through instructions that
 *  - write no memory and at most one general register,
 *  - leave %rsp alone: the BPF programs know a call by its entry %rsp,
 *  - leave the first `nargs` argument registers alone: the entry program
 *    reads them.
 * There the entry program sees what it would see at the first byte, and
 * every call passes there exactly once. A branch back into the code walked
 * would make the site a loop, passed on every round: the walk stops there.
 * When no such site is found, the probe goes on the first byte.
 *
 * The return probe goes on that same site. A uretprobe takes the return
 * address from *%rsp when its instruction is hit and puts its trampoline
 * there; on an instruction that every call passes once with %rsp as it
 * was at the call, that is the caller's return address, as at the first
 * byte, and the site is cheaper.
 *
 * Free-like functions begin with "test %rdi,%rdi; je" to return at once
 * on NULL. When a NULL call does nothing worth tracing (`null_guard`), the
 * entry probe goes on the first emulated instruction past that guard, so
 * NULL calls cost nothing at all. Not every call passes there, so a
 * function with a return probe never gets this skip.
 */
#include <stdio.h>
#include "attach/placement.h"
#include "attach/x86.h"

/* Instructions walked at most before giving up. */
#define WALK_MAX 16

/* The argument registers, in call order (System V x86-64 ABI). */
static const int arg_regs[] = {X86_RDI, X86_RSI, X86_RDX, X86_RCX, 8, 9};

bool placement_emulated(const struct x86_insn *in)
{
	switch (in->cls) {
	case X86_PUSH: /* alone, or with REX.B alone (%r8-%r15) */
		return in->len == 1 || (in->len == 2 && in->rex == 0x41);
	case X86_NOP:
	case X86_ENDBR64:
		return true;
	case X86_JMP_REL: /* branches with a 16-bit operand size are refused */
	case X86_CALL_REL:
	case X86_JCC:
		return !(in->prefixes & X86_P_66);
	default:
		return false;
	}
}

/* Whether walking past `in` keeps what the entry program reads. */
static bool keeps_entry_state(const struct x86_insn *in, unsigned nargs)
{
	int dst;
	if (!x86_writes_only(in, &dst) || dst == X86_RSP)
		return false;
	for (unsigned a = 0; a < nargs && a < sizeof(arg_regs) / sizeof(arg_regs[0]); a++)
		if (dst == arg_regs[a])
			return false;
	return true;
}

/* The first emulated instruction from code[from] on, reached as the rule
 * above says; its offset, or -1. */
static long walk(const uint8_t *code, size_t len, size_t from, unsigned nargs)
{
	struct x86_insn in;
	size_t off = from;
	for (int n = 0; n < WALK_MAX && off < len; n++) {
		if (!x86_decode(code + off, len - off, &in))
			return -1;
		if (placement_emulated(&in)) {
			bool branch = in.cls == X86_JMP_REL || in.cls == X86_JCC;
			int64_t to = (int64_t)off + x86_branch_offset(&in);
			if (branch && to >= 0 && to <= (int64_t)off)
				return -1; /* a loop */
			return (long)off;
		}
		if (!keeps_entry_state(&in, nargs))
			return -1;
		off += in.len;
	}
	return -1;
}

/* Length of a "test %rdi,%rdi; je" NULL guard at code[0], or 0. */
static size_t null_guard_len(const uint8_t *code, size_t len)
{
	struct x86_insn test, je;
	if (!x86_decode(code, len, &test) || test.map != 0 || test.op != 0x85 || !(test.rex & 8) ||
	    test.mod != 3 || test.reg != X86_RDI || test.rm != X86_RDI ||
	    !x86_decode(code + test.len, len - test.len, &je) || je.cls != X86_JCC ||
	    (je.map == 0 ? je.op != 0x74 : je.op != 0x84))
		return 0;
	return (size_t)test.len + je.len;
}

struct placement placement_choose(const uint8_t *code, size_t len,
				  const struct placement_need *need)
{
	struct placement p = {0};
	long at = -1;
	if (need->null_guard && !need->ret) {
		size_t guard = null_guard_len(code, len);
		if (guard && (at = walk(code, len, guard, need->nargs)) >= 0)
			p.past_null_guard = true;
	}
	if (at < 0)
		at = walk(code, len, 0, need->nargs);
	struct x86_insn in;
	if (at >= 0) {
		p.entry = (unsigned)at;
		p.emulated = true;
	} else {
		p.emulated = x86_decode(code, len, &in) && placement_emulated(&in);
	}
	p.ret = p.entry;
	return p;
}

void placement_describe(const struct placement *p, char *buf, size_t len)
{
	if (p->past_null_guard)
		snprintf(buf, len, "ok (at +%u, past the NULL check)", p->entry);
	else if (p->entry)
		snprintf(buf, len, "ok (at +%u)", p->entry);
	else
		snprintf(buf, len, "ok%s", p->emulated ? "" : " (single-stepped)");
}
