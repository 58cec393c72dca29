/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The target's code ranges, for the BPF stack walk (bpf/unwind.bpf.h,
 * bpf/cfi.bpf.h): which modules have frame pointers, which one is the
 * interpreter, and where each module's unwind table is. */
#ifndef TEXT_RANGES_H
#define TEXT_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cfi.h"
#include "settings.h"

struct lb_target;
struct cfi_store;
struct cfi_user;

/* The code ranges as the BPF walk takes them (session/bpf_settings.c
 * writes them into its ranges map): executable mappings sorted by address,
 * and the bounds of the code built with frame pointers. */
struct walk_ranges {
	struct lb_range r[LB_MAX_RANGES];
	uint32_t n;
	uint64_t fp_lo, fp_hi;
};

/* What is known per module file, so each is judged once. */
struct text_ranges {
	struct tr_module {
		char *path;
		unsigned long inode;
		bool nofp;
	} * mods;
	size_t nmods, capmods;
	uint64_t signature;    /* of the last ranges written */
	struct cfi_store *cfi; /* the session's unwind tables (unwind/cfi_store.h),
				  not owned; NULL: none */
	struct cfi_user *user; /* this process, as a user of cfi */
};

/* Take the modules' unwind tables from cfi (shared by the processes of a
 * session, which frees it after every text_ranges). Without it, ranges
 * have no tables. 0, or -1 without memory. */
int text_ranges_tables(struct text_ranges *tr, struct cfi_store *cfi);

/* The executable mappings of t into *out, when they changed since the last
 * call, each with its module's unwind table (built when first seen);
 * mappings that start in one of the ninterp [lo, hi) spans of interp are
 * the interpreter's. Returns whether they changed: *out is complete only
 * then. */
bool text_ranges_update(struct text_ranges *tr, const struct lb_target *t,
			const uint64_t (*interp)[2], size_t ninterp, struct walk_ranges *out);
/* One line on stderr: the tables in memory, and what did not fit (-v,
 * once the ranges naming them are written). */
void text_ranges_describe(const struct text_ranges *tr);
/* Modules of this process whose unwind table did not fit so far (unwound
 * with frame pointers): a drop of every report. */
uint64_t text_ranges_tables_full(const struct text_ranges *tr);
/* Once the ranges written last are read no more (the process's BPF object
 * traces no more): its modules lose it as a user. Called again (and by
 * text_ranges_free), nothing. */
void text_ranges_leave_tables(struct text_ranges *tr);
void text_ranges_free(struct text_ranges *tr);

#endif
