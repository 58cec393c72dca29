/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Outstanding allocations: an address table (live block -> size, time,
 * stack) and a stack table (interned stacks with their totals). Both are
 * bounded; what does not fit is counted, never silently lost. Allocations
 * and frees come in decoded (account/intake.c reads the BPF records).
 */
#ifndef AGGREGATE_H
#define AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report/model.h"
#include "util/u64_table.h"

/* One interpreter frame of a stack: resolved to file, name and line by the
 * Python layer. */
struct agg_py_frame {
	uint64_t code;	/* address of the code object */
	uint32_t lasti; /* instruction offset in code units */
	uint32_t tag;	/* identity of the code object beyond its address */
};

/* Resolves an interpreter frame when its stack is first seen, while the
 * code object it names is alive (the Python layer provides it). */
typedef void (*agg_frame_resolver)(void *ctx, const struct agg_py_frame *f, struct rm_frame *out);

/* A block became live: addr, size bytes, allocated at ts_ns by this stack.
 * When old_addr is non-zero (realloc) that block died in the same call. */
struct agg_alloc {
	uint64_t addr, old_addr, size, ts_ns;
	const uint64_t *ips;	       /* native frames, innermost first */
	const struct agg_py_frame *py; /* Python frames, innermost first */
	uint16_t n_native, n_py;
	uint32_t flags; /* RM_STACK_* */
};

struct agg_stack {
	uint64_t hash;
	uint64_t serial; /* unique in the run: tells a reused id from its old stack */
	uint64_t *ips;	 /* innermost first, as captured */
	struct agg_py_frame *py;
	struct rm_frame *pyres; /* resolved Python frames (innermost first) */
	uint16_t n_native, n_py;
	uint32_t flags; /* RM_STACK_* */
	bool used;
	uint64_t out_bytes, out_count;
	uint64_t alloc_bytes, alloc_count;
	uint64_t first_ns, last_ns;
};

struct agg_block {
	uint64_t addr; /* the key of the address table */
	uint64_t size;
	uint64_t ts_ns;
	uint32_t stack;
	/* growth mode with allocation windows: the stack that first touched
	 * the page, + 1, once account/page_owners.c gave the page its owner
	 * (`stack`); 0 before */
	uint32_t origin;
};

struct aggregate {
	struct u64_table blocks; /* address table: of struct agg_block */
	uint64_t max_tracked;
	/* stack table: slots by id, and a hash index id+1 (0 = empty) */
	struct agg_stack *stacks;
	uint32_t nstacks, max_stacks;
	size_t stacks_cap;
	uint32_t *free_ids;
	uint32_t nfree;
	size_t free_cap;
	uint32_t *index;
	uint64_t index_cap;
	uint64_t next_serial;
	agg_frame_resolver resolve; /* NULL: frames stay unresolved */
	void *resolve_ctx;
	struct rm_counts counts;
	uint64_t addr_table_full, stack_table_full;
	uint64_t compact_after;	  /* stack_table_full value before which not to compact */
	uint64_t stacks_released; /* stacks dropped by agg_compact, ever */
};

/* What the whole aggregate holds, for a status line. */
struct agg_totals {
	uint64_t out_bytes, out_count; /* outstanding, every stack */
	uint64_t allocs, frees;	       /* records taken */
	uint64_t addr_table_full, stack_table_full;
};

int agg_init(struct aggregate *a, uint64_t max_tracked, uint32_t max_stacks,
	     agg_frame_resolver resolve, void *resolve_ctx);
void agg_free(struct aggregate *a);

/* A block became live (after forgetting old_addr when non-zero). */
void agg_alloc(struct aggregate *a, const struct agg_alloc *al);
/* A block died. */
void agg_free_block(struct aggregate *a, uint64_t addr);

/* Blocks that are not allocator records (the growth mode's pages,
 * account/pages.c): the stack interned once, then blocks added under it
 * (false when the address table is full, counted), found, or moved to
 * another address with their stack and age. */
uint32_t agg_intern(struct aggregate *a, const struct agg_alloc *al);
bool agg_add_block(struct aggregate *a, uint64_t addr, uint64_t size, uint64_t ts_ns,
		   uint32_t stack);
const struct agg_block *agg_find_block(struct aggregate *a, uint64_t addr);
bool agg_move_block(struct aggregate *a, uint64_t from, uint64_t to);
/* Block b (of a's address table) is held by stack `to` from now on: the
 * outstanding totals follow it, and it counts as allocated by `to` too. */
void agg_give_block(struct aggregate *a, struct agg_block *b, uint32_t to);

/* Drop stacks that hold nothing outstanding, to make room. Returns how
 * many were dropped. */
uint32_t agg_compact(struct aggregate *a);

/* Per-stack outstanding bytes/counts of blocks allocated at or before
 * cutoff_ns, into out_bytes/out_count arrays indexed by stack id. */
void agg_outstanding_older(const struct aggregate *a, uint64_t cutoff_ns, uint64_t *out_bytes,
			   uint64_t *out_count);

void agg_totals(const struct aggregate *a, struct agg_totals *t);

#endif
