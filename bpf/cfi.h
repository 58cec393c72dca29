/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Unwind tables built from DWARF call-frame information (user/unwind/) and
 * read by the BPF stack walk (bpf/cfi.bpf.h). A module's table is a slice
 * of sorted rows in one BPF array; a row holds the rule from its address up
 * to the next row's: how to find the canonical frame address (CFA, the
 * caller's %rsp), and where the caller's %rbp is. On x86_64 the return
 * address is always at CFA - 8 (rows where CFI says otherwise are NONE).
 */
#ifndef LB_CFI_H
#define LB_CFI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Rows of all tables: 8 bytes each, 8 MiB of kernel memory by default.
 * A module whose table does not fit is unwound with frame pointers. */
#define LB_CFI_ROWS_DEFAULT (1u << 20)

/* How the CFA is found (the low 4 bits of lb_cfi_row.kind). */
enum lb_cfa_rule {
	LB_CFA_NONE = 0,      /* no usable rule at this address: the walk stops */
	LB_CFA_RSP = 1,	      /* CFA = %rsp + off */
	LB_CFA_RBP = 2,	      /* CFA = %rbp + off */
	LB_CFA_PLT = 3,	      /* PLT entry: %rsp + 8, + 8 more from byte `off` of each
			       * 16-byte entry on (after its push) */
	LB_CFA_RBP_DEREF = 4, /* CFA = *(%rbp + off) (realigned stack, DRAP) */
	LB_CFA_SIGNAL = 5,    /* signal trampoline: the interrupted registers are
			       * in the kernel's signal frame at %rsp */
	LB_CFA_ROOT = 6,      /* return address undefined: the outermost frame */
};

/* Where the caller's %rbp is (bits 4-5 of lb_cfi_row.kind). */
enum lb_rbp_rule {
	LB_RBP_SAME = 0, /* unchanged: the current %rbp */
	LB_RBP_CFA = 1,	 /* saved at CFA + 8 * rbp_off */
	LB_RBP_RBP = 2,	 /* saved at %rbp + 8 * rbp_off (DRAP prologues) */
	LB_RBP_LOST = 3, /* not recoverable: an %rbp-based caller cannot be unwound */
};

#define LB_CFI_RULE(kind) ((kind)&0x0f)
#define LB_CFI_RBP(kind)  (((kind) >> 4) & 3)
#define LB_CFI_OFF_X8	  0x80 /* off counts 8-byte words (frames over 32 KiB) */
#define LB_CFI_KIND(c, r) ((__u8)((c) | ((r) << 4)))

struct lb_cfi_row {
	__u32 pc;     /* module address (ELF virtual address) where the rule starts */
	__s16 off;    /* CFA offset in bytes (in words with LB_CFI_OFF_X8) */
	__s8 rbp_off; /* in 8-byte words */
	__u8 kind;    /* LB_CFA_* | LB_RBP_* << 4 | LB_CFI_OFF_X8 */
};

/* The kernel's signal frame as __restore_rt sees it (x86_64 struct
 * rt_sigframe after the handler returned: %rsp points at the ucontext,
 * whose uc_mcontext starts at 40): where the interrupted registers are.
 * The table builder checks that the CFI says the same. */
#define LB_SIGFRAME_RBP 120
#define LB_SIGFRAME_RSP 160
#define LB_SIGFRAME_RIP 168

#endif
