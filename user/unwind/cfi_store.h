/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The unwind tables of the traced processes' modules, in one BPF rows array
 * (mapped into our memory) that every BPF object of a session shares: each
 * file (device, inode, size, mtime) is built once, whatever process maps it
 * and however often, and gets one slice of the array (its rows are
 * module-relative: each process's code ranges hold its own bias). The
 * array's size is the memory bound: a module that does not fit is counted
 * and unwound with frame pointers.
 *
 * Each traced process is a user of the store; a module counts the users
 * whose last pass over their mappings named it. A module no user names any
 * more stays, idle, until its room is needed: a library loaded again, the
 * same file in another worker or in the next program of an exec chain is
 * not built twice; its room is reused only a pass (of any user) after it
 * went idle, once no code range names it, and a grace period later, so no
 * walk in flight reads rows being rewritten. Not thread-safe: one thread
 * calls it.
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
struct cfi_user;

/* What a mapping's module gives the walk. count 0: no table (frame
 * pointers). */
struct cfi_slice {
	uint64_t bias; /* module address = runtime address - bias */
	uint32_t first, count;
};

struct cfi_store_stats {
	size_t modules;	       /* mapped by some user, with a table in the array */
	size_t idle;	       /* tables of modules no user maps any more, kept */
	size_t no_cfi;	       /* mapped, without usable CFI (frame pointers) */
	size_t users;	       /* processes using the store now */
	size_t dropped;	       /* since the start: tables that did not fit (frame pointers) */
	uint64_t rows_used;    /* rows in the array now, idle tables included */
	uint64_t rows_cap;     /* the array's size */
	uint64_t rows_dropped; /* rows of the tables that did not fit */
	double build_ms;       /* time spent building tables, in total */
	size_t builds;	       /* tables built (or tried), in total */
};

/* The grace period of idle tables (see above): far longer than a walk. */
#define CFI_STORE_GRACE_NS 1000000000ull

/* rows: `capacity` rows mapped from the BPF array (shared with BPF). */
struct cfi_store *cfi_store_new(struct lb_cfi_row *rows, uint32_t capacity, uint64_t grace_ns,
				bool verbose);
void cfi_store_free(struct cfi_store *s);

/* A process whose code ranges name slices of the store, until it leaves
 * (after its last ranges were written: its BPF object traces no more).
 * NULL without memory. */
struct cfi_user *cfi_store_join(struct cfi_store *s);
void cfi_store_leave(struct cfi_store *s, struct cfi_user *u);

/* One pass over a user's executable mappings: begin, the slice of each
 * mapping, end (the modules its previous pass named and this one did not
 * lose it as a user). */
void cfi_store_begin(struct cfi_store *s, struct cfi_user *u);
struct cfi_slice cfi_store_slice(struct cfi_store *s, struct cfi_user *u, const struct lb_target *t,
				 const struct lb_mapping *m);
void cfi_store_end(struct cfi_store *s, struct cfi_user *u);

/* Tables that did not fit among the modules a user's passes named: a drop
 * of its process's reports (summed over processes, each counts its own). */
uint64_t cfi_user_tables_full(const struct cfi_user *u);

void cfi_store_stats(const struct cfi_store *s, struct cfi_store_stats *st);

#endif
