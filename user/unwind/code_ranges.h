/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The target's code ranges, told to the BPF stack fix-up (bpf/unwind.bpf.h):
 * which modules have frame pointers and which one is the interpreter. */
#ifndef TEXT_RANGES_H
#define TEXT_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lb_target;
struct leakbpf_bpf;

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

/* Write the executable mappings of t into the BPF ranges map when they
 * changed since the last call; mappings that start in one of the ninterp
 * [lo, hi) spans of interp are the interpreter's. Returns whether they
 * changed. */
bool text_ranges_update(struct text_ranges *tr, const struct lb_target *t,
			const uint64_t (*interp)[2], size_t ninterp, struct leakbpf_bpf *skel);
void text_ranges_free(struct text_ranges *tr);

#endif
