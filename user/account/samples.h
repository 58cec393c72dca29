/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Allocation windows (growth mode, --alloc-windows): the blocks the
 * allocator probes saw during short windows, by address. A block made in a
 * window that is still live when the window ends, and at least the
 * window's min_age old then, is a survivor: a sample of what stays in the
 * memory the target grows (account/page_owners.c). Frees and reallocations
 * seen in later windows take survivors out; between windows nothing is
 * seen, so a survivor stays one until then. Bounded: a block that does not
 * fit is counted, not kept.
 */
#ifndef ACCOUNT_SAMPLES_H
#define ACCOUNT_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>
#include "util/u64_table.h"

struct sample_block {
	uint64_t addr; /* the key */
	uint64_t size;
	uint64_t ts_ns;
	uint64_t serial;   /* its stack's serial (struct agg_stack), to tell a
			      reused stack id from the one it was */
	uint32_t stack;	   /* in the aggregate of the pages */
	uint32_t survivor; /* the window it survived (from 1), 0: none yet */
};

struct samples {
	struct u64_table blocks; /* of struct sample_block */
	uint64_t max;		 /* blocks kept at most */
	uint64_t unkept;	 /* blocks not kept: the table was full */
	uint64_t survivors;	 /* blocks that are survivors now */
	uint64_t survived;	 /* survivors ever */
	uint32_t windows;	 /* windows ended */
};

void samples_init(struct samples *s, uint64_t max);
void samples_free(struct samples *s);

/* The probes saw addr made (size bytes at ts_ns, by stack) or die. A new
 * block over a kept one replaces it (its free went unseen). */
void samples_alloc(struct samples *s, uint64_t addr, uint64_t size, uint64_t ts_ns, uint32_t stack,
		   uint64_t serial);
void samples_release(struct samples *s, uint64_t addr);

/* Windows a survivor is kept for: a block freed between windows is never
 * seen to go, so an old survivor may stand for memory long reused. */
#define SAMPLES_KEEP_WINDOWS 8

/* A window ended: the blocks it made after cutoff_ns are forgotten (too
 * young to tell from the churn), the others are survivors; survivors of
 * SAMPLES_KEEP_WINDOWS windows ago and before are forgotten. */
void samples_window_end(struct samples *s, uint64_t cutoff_ns);

#endif
