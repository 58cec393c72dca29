/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One CFI row as libdw states it (a Dwarf_Frame), turned into the compact
 * rule the BPF walk evaluates (struct lb_cfi_row, bpf/cfi.h). */
#ifndef UNWIND_CFI_RULES_H
#define UNWIND_CFI_RULES_H

#include <elfutils/libdw.h>
#include <stdint.h>
#include "cfi.h"

/* Why a row became LB_CFA_NONE or lost the caller's %rbp (counted per
 * table, shown with -v). */
enum cfi_gap {
	CFI_GAP_NONE = 0,
	CFI_GAP_CFA,	/* a CFA rule the walk does not evaluate (another register...) */
	CFI_GAP_RA,	/* the return address is not at CFA - 8 */
	CFI_GAP_RBP,	/* the caller's %rbp is somewhere the walk cannot read */
	CFI_GAP_OFFSET, /* an offset too large for a row */
	CFI_GAP_LIBDW,	/* libdw could not answer for this address */
	CFI_GAP_NO_FDE, /* code without CFI between two FDEs */
	CFI_GAP_KINDS,
};

/* Fill row->kind, off and rbp_off from frame (not row->pc). Returns
 * CFI_GAP_NONE, or why the row is NONE or its %rbp rule LOST. */
enum cfi_gap cfi_rule_from_frame(Dwarf_Frame *frame, struct lb_cfi_row *row);

/* Two rows that say the same (pc aside). */
static inline int cfi_rule_same(const struct lb_cfi_row *a, const struct lb_cfi_row *b)
{
	return a->kind == b->kind && a->off == b->off && a->rbp_off == b->rbp_off;
}

#endif
