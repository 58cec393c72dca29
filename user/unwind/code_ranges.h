/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The target's code ranges, for the BPF stack walk (bpf/unwind.bpf.h):
 * which modules have frame pointers and which one is the interpreter. */
#ifndef TEXT_RANGES_H
#define TEXT_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "settings.h"

struct lb_target;

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
	uint64_t signature; /* of the last ranges written */
};

/* The executable mappings of t into *out, when they changed since the last
 * call; mappings that start in one of the ninterp [lo, hi) spans of interp
 * are the interpreter's. Returns whether they changed: *out is complete
 * only then. */
bool text_ranges_update(struct text_ranges *tr, const struct lb_target *t,
			const uint64_t (*interp)[2], size_t ninterp, struct walk_ranges *out);
void text_ranges_free(struct text_ranges *tr);

#endif
