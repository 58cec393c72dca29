// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * From libdw's answer for one address (dwarf_frame_cfa, dwarf_frame_register)
 * to a row of the BPF walk. Only the forms compilers, assemblers and linkers
 * emit on x86_64 are recognised: CFA = %rsp/%rbp + offset, the PLT
 * expression, the realigned-stack (DRAP) CFA, glibc's signal trampoline,
 * and an undefined return address at the outermost frame. Anything else is
 * LB_CFA_NONE, where the walk stops.
 */
#include <dwarf.h>
#include <stdbool.h>
#include "unwind/cfi_rules.h"

/* DWARF register numbers on x86_64 */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16

/* Where a register rule says the caller's value is. */
struct reg_loc {
	enum { LOC_SAME, LOC_UNDEF, LOC_AT_CFA, LOC_AT_REG, LOC_OTHER } k;
	int reg;     /* LOC_AT_REG */
	int64_t off; /* LOC_AT_CFA, LOC_AT_REG */
};

/* A register operation: DW_OP_bregN or DW_OP_bregx. */
static bool breg(const Dwarf_Op *op, int *reg, int64_t *off)
{
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg0 + 31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return true;
	}
	if (op->atom == DW_OP_bregx) {
		*reg = (int)op->number;
		*off = (int64_t)op->number2;
		return true;
	}
	return false;
}

/* libdw states offset(N) as "CFA; plus_uconst N" (N wrapped when
 * negative) and expression(E) as "CFA; E" (the CFA is pushed first). */
static struct reg_loc register_loc(Dwarf_Frame *frame, int regno)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t n = 0;
	struct reg_loc l = {.k = LOC_OTHER};
	if (dwarf_frame_register(frame, regno, mem, &ops, &n))
		return l;
	if (n == 0) {
		l.k = ops ? LOC_UNDEF : LOC_SAME;
		return l;
	}
	if (ops[n - 1].atom == DW_OP_stack_value)
		return l; /* a value, not where one is saved */
	if (ops[0].atom == DW_OP_call_frame_cfa) {
		if (n == 1) {
			l.k = LOC_AT_CFA;
			return l;
		}
		if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
			l.k = LOC_AT_CFA;
			l.off = (int64_t)ops[1].number;
			return l;
		}
		ops++;
		n--;
	}
	if (n == 1 && breg(&ops[0], &l.reg, &l.off))
		l.k = LOC_AT_REG;
	return l;
}

/* The linker's PLT expression: %rsp + 8, plus 8 once (%rip & 15) >= K, K
 * the offset of the push in each 16-byte entry. Returns K or -1. */
static int plt_threshold(const Dwarf_Op *ops, size_t n)
{
	static const uint8_t want[] = {DW_OP_breg0 + REG_RSP,
				       DW_OP_breg0 + REG_RIP,
				       DW_OP_lit0 + 15,
				       DW_OP_and,
				       0 /* DW_OP_litK */,
				       DW_OP_ge,
				       DW_OP_lit0 + 3,
				       DW_OP_shl,
				       DW_OP_plus};
	if (n != sizeof(want))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (i != 4 && ops[i].atom != want[i])
			return -1;
	if (ops[0].number != 8 || ops[1].number != 0)
		return -1;
	if (ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit0 + 15)
		return -1;
	return ops[4].atom - DW_OP_lit0;
}

/* Store a CFA offset: bytes, or words when it does not fit 16 bits. */
static bool set_off(struct lb_cfi_row *row, int64_t off)
{
	if (off >= INT16_MIN && off <= INT16_MAX) {
		row->off = (int16_t)off;
		return true;
	}
	if (off % 8 == 0 && off / 8 >= INT16_MIN && off / 8 <= INT16_MAX) {
		row->off = (int16_t)(off / 8);
		row->kind |= LB_CFI_OFF_X8;
		return true;
	}
	return false;
}

static enum cfi_gap cfa_rule(Dwarf_Frame *frame, bool signal, struct lb_cfi_row *row)
{
	Dwarf_Op *ops = NULL;
	size_t n = 0;
	int reg;
	int64_t off;
	if (dwarf_frame_cfa(frame, &ops, &n) || n == 0)
		return CFI_GAP_CFA;
	if (n == 1 && breg(&ops[0], &reg, &off) && (reg == REG_RSP || reg == REG_RBP)) {
		row->kind = reg == REG_RSP ? LB_CFA_RSP : LB_CFA_RBP;
		return set_off(row, off) ? CFI_GAP_NONE : CFI_GAP_OFFSET;
	}
	if (n == 2 && ops[1].atom == DW_OP_deref && breg(&ops[0], &reg, &off)) {
		if (signal && reg == REG_RSP && off == LB_SIGFRAME_RSP) {
			row->kind = LB_CFA_SIGNAL;
			return CFI_GAP_NONE;
		}
		if (!signal && reg == REG_RBP) {
			row->kind = LB_CFA_RBP_DEREF;
			return set_off(row, off) ? CFI_GAP_NONE : CFI_GAP_OFFSET;
		}
		return CFI_GAP_CFA;
	}
	int k = plt_threshold(ops, n);
	if (k >= 0) {
		row->kind = LB_CFA_PLT;
		row->off = (int16_t)k;
		return CFI_GAP_NONE;
	}
	return CFI_GAP_CFA;
}

/* The signal trampoline's registers must be where bpf/cfi.h says. */
static bool sigframe_as_expected(Dwarf_Frame *frame)
{
	struct reg_loc ra = register_loc(frame, REG_RIP);
	struct reg_loc bp = register_loc(frame, REG_RBP);
	return ra.k == LOC_AT_REG && ra.reg == REG_RSP && ra.off == LB_SIGFRAME_RIP &&
	       bp.k == LOC_AT_REG && bp.reg == REG_RSP && bp.off == LB_SIGFRAME_RBP;
}

enum cfi_gap cfi_rule_from_frame(Dwarf_Frame *frame, struct lb_cfi_row *row)
{
	bool signal = false;
	Dwarf_Addr start, end;
	row->kind = LB_CFA_NONE;
	row->off = 0;
	row->rbp_off = 0;
	int ra_reg = dwarf_frame_info(frame, &start, &end, &signal);
	if (ra_reg != REG_RIP)
		return CFI_GAP_RA;
	enum cfi_gap gap = cfa_rule(frame, signal, row);
	if (gap)
		goto none;
	if (LB_CFI_RULE(row->kind) == LB_CFA_SIGNAL) {
		if (sigframe_as_expected(frame))
			return CFI_GAP_NONE;
		gap = CFI_GAP_RA;
		goto none;
	}
	struct reg_loc ra = register_loc(frame, REG_RIP);
	if (ra.k == LOC_UNDEF) {
		row->kind = LB_CFA_ROOT;
		row->off = 0;
		return CFI_GAP_NONE;
	}
	if (ra.k != LOC_AT_CFA || ra.off != -8) {
		gap = CFI_GAP_RA;
		goto none;
	}
	struct reg_loc bp = register_loc(frame, REG_RBP);
	enum lb_rbp_rule rule = LB_RBP_LOST;
	if (bp.k == LOC_SAME) {
		rule = LB_RBP_SAME;
	} else if ((bp.k == LOC_AT_CFA || (bp.k == LOC_AT_REG && bp.reg == REG_RBP)) &&
		   bp.off % 8 == 0 && bp.off / 8 >= INT8_MIN && bp.off / 8 <= INT8_MAX) {
		rule = bp.k == LOC_AT_CFA ? LB_RBP_CFA : LB_RBP_RBP;
		row->rbp_off = (int8_t)(bp.off / 8);
	}
	row->kind |= (uint8_t)(rule << 4);
	return rule == LB_RBP_LOST && bp.k != LOC_UNDEF ? CFI_GAP_RBP : CFI_GAP_NONE;
none:
	row->kind = LB_CFA_NONE;
	row->off = 0;
	row->rbp_off = 0;
	return gap;
}
