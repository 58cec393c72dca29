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

/* The walk's sizes (bpf/cfi.bpf.h); userspace sizes cfi_cache with
 * CFI_CACHE_SLOTS. */
#define CFI_WIN_PAGES	4 /* stack pages a walk reads at most (from %rsp up) */
#define CFI_WIN_WORDS	(CFI_WIN_PAGES * 512)
#define CFI_CACHE_SLOTS 64 /* walks kept per CPU */
#define CFI_CACHE_READS 64 /* words besides return addresses a kept walk may read */

/* The walk's state, per CPU: BPF programs only. */
#ifdef __VMLINUX_H__

/* The walk's state is here, not on the BPF stack, so that the verifier
 * does not follow its values: bpf_loop callbacks are checked until their
 * states repeat. */
struct cfi_scratch {
	__u64 owner; /* stamp of the walk using it */
	__u64 pc, sp, bp;
	__u64 sp0;     /* the window starts here */
	__u64 ra_slot; /* where pc was read, when it is a return address */
	__u32 n;       /* frames recorded */
	__u32 last;    /* range of the previous frame */
	__u8 exact;    /* pc is where the thread is, not a return address */
	__u8 bp_ok;    /* bp is the frame's %rbp */
	__u8 bp_reg;   /* bp is still the register's value, not one read */
	__u8 guess;    /* pc came from a frame-pointer step: may be no frame */
	__u8 stop;     /* enum cfi_stop */
	__u8 cacheable;
	__u8 use_bp;   /* the register %rbp was used */
	__u8 nuret;    /* return probes' trampolines replaced (bpf/uret.bpf.h) */
	__u32 win_ok;  /* window pages read (bit k: page k) */
	__u32 win_bad; /* window pages that could not be read */
	__u32 span;    /* words of win the walk used */
	__u32 nrd;     /* words other than return addresses it used */
	__u64 win[CFI_WIN_WORDS];
	__u16 ra_at[LB_MAX_NATIVE]; /* word of win each return address came from */
	__u16 rd_at[CFI_CACHE_READS];
	__u64 rd_val[CFI_CACHE_READS];
};

/* A walk kept for its call site (pc, sp) of a process. */
struct cfi_cache_ent {
	__u64 seq; /* odd while being written */
	__u64 pc, sp, bp, gen;
	__u64 tgid;  /* the process: -a's objects see several */
	__u64 shape; /* frames | reads << 8 | span << 16 | flags << 32 | uses %rbp << 40 */
	__u64 ips[LB_MAX_NATIVE];
	__u64 rd_val[CFI_CACHE_READS];
	__u16 ra_at[LB_MAX_NATIVE];
	__u16 rd_at[CFI_CACHE_READS];
};
#endif

#endif
