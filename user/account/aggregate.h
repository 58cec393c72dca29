/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Outstanding allocations: an address table (live block -> size, time,
 * stack) and a stack table (interned stacks with their totals). Both are
 * bounded; what does not fit is counted, never silently lost.
 */
#ifndef AGGREGATE_H
#define AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include "leakbpf.h"
#include "report/model.h"

/* Resolves an interpreter frame when its stack is first seen, while the
 * code object it names is alive (the Python layer provides it). */
typedef void (*agg_frame_resolver)(void *ctx, const struct lb_py_frame *f, struct rm_frame *out);

struct agg_stack {
	uint64_t hash;
	uint64_t *ips; /* innermost first, as captured */
	struct lb_py_frame *py;
	struct rm_frame *pyres; /* resolved Python frames (innermost first) */
	uint16_t n_native, n_py;
	uint32_t flags; /* RM_STACK_* */
	bool used;
	uint64_t out_bytes, out_count;
	uint64_t alloc_bytes, alloc_count;
	uint64_t first_ns, last_ns;
	uint64_t prev_out_bytes, prev_out_count; /* at the previous report */
};

struct agg_block {
	uint64_t addr; /* 0 = empty slot */
	uint64_t size;
	uint64_t ts_ns;
	uint32_t stack;
	uint32_t pad;
};

struct aggregate {
	/* address table: open addressing, linear probing, power of two */
	struct agg_block *blocks;
	uint64_t blocks_cap, blocks_used, max_tracked;
	/* stack table: slots by id, and a hash index id+1 (0 = empty) */
	struct agg_stack *stacks;
	uint32_t nstacks, capstacks, max_stacks;
	uint32_t *free_ids;
	uint32_t nfree;
	uint32_t *index;
	uint64_t index_cap;
	agg_frame_resolver resolve; /* NULL: frames stay unresolved */
	void *resolve_ctx;
	struct rm_counts counts;
	uint64_t addr_table_full, stack_table_full;
	uint64_t compact_after; /* stack_table_full value before which not to compact */
};

int agg_init(struct aggregate *a, uint64_t max_tracked, uint32_t max_stacks,
	     agg_frame_resolver resolve, void *resolve_ctx);
void agg_free(struct aggregate *a);

/* A block became live (after forgetting old_addr when non-zero). */
void agg_alloc(struct aggregate *a, const struct lb_alloc_event *e);
/* A block died. */
void agg_free_block(struct aggregate *a, uint64_t addr);

/* Drop stacks that hold nothing outstanding, to make room. Returns how
 * many were dropped. */
uint32_t agg_compact(struct aggregate *a);

/* Per-stack outstanding bytes/counts of blocks allocated at or before
 * cutoff_ns, into out_bytes/out_count arrays indexed by stack id. */
void agg_outstanding_older(const struct aggregate *a, uint64_t cutoff_ns, uint64_t *out_bytes,
			   uint64_t *out_count);

#endif
