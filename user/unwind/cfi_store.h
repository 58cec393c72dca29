/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The unwind tables of the target's modules, in the BPF rows array (mapped
 * into our memory): each file (device, inode, size, mtime) is built once,
 * whatever maps it and however often, and gets one slice of the array. The
 * array's size is the memory bound: a module that does not fit is counted
 * and unwound with frame pointers. The table of a module no mapping uses
 * any more stays, idle, until its room is needed: a library loaded again
 * or the same file in the next program of an exec chain is not built
 * twice; its room is reused only once no code range names it (a pass
 * later), so no walk in flight reads rows being rewritten.
 */
#ifndef UNWIND_CFI_STORE_H
#define UNWIND_CFI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cfi.h"

struct lb_target;
struct lb_mapping;
struct cfi_store;

/* What a mapping's module gives the walk. count 0: no table (frame
 * pointers). */
struct cfi_slice {
	uint64_t bias; /* module address = runtime address - bias */
	uint32_t first, count;
};

struct cfi_store_stats {
	size_t modules;	       /* mapped, with a table in the array */
	size_t idle;	       /* tables of modules no longer mapped, kept */
	size_t no_cfi;	       /* mapped, without usable CFI (frame pointers) */
	size_t dropped;	       /* since the start: tables that did not fit (frame pointers) */
	uint64_t rows_used;    /* rows in the array now, idle tables included */
	uint64_t rows_cap;     /* the array's size */
	uint64_t rows_dropped; /* rows of the tables that did not fit */
	double build_ms;       /* time spent building tables, in total */
	size_t builds;	       /* tables built (or tried), in total */
};

/* rows: `capacity` rows mapped from the BPF array (shared with BPF). */
struct cfi_store *cfi_store_new(struct lb_cfi_row *rows, uint32_t capacity, bool verbose);
void cfi_store_free(struct cfi_store *s);

/* One pass over the target's executable mappings: begin, the slice of each
 * mapping, end (modules left unused are unloaded). */
void cfi_store_begin(struct cfi_store *s);
struct cfi_slice cfi_store_slice(struct cfi_store *s, const struct lb_target *t,
				 const struct lb_mapping *m);
void cfi_store_end(struct cfi_store *s);

void cfi_store_stats(const struct cfi_store *s, struct cfi_store_stats *st);

#endif
