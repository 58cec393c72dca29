/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The unwind tables of a session, one for every process it traces: the BPF
 * rows array (bpf/cfi.h), created here and reused by every BPF object of
 * the session before load (bpf_settings_load), mapped into our memory, and
 * the store that fills it (unwind/cfi_store.h). A module mapped by many
 * processes (the workers of a pre-fork server) is built once and held once.
 * Opened before the first image, closed after the last.
 */
#ifndef SESSION_SHARED_TABLES_H
#define SESSION_SHARED_TABLES_H

#include <stdbool.h>
#include <stdint.h>

struct cfi_store;
struct lb_cfi_row;

struct shared_tables {
	int rows_fd; /* the BPF rows array; -1: none */
	struct lb_cfi_row *rows;
	uint32_t capacity;
	struct cfi_store *store; /* NULL: no tables (frame pointers) */
};

/* Create the rows array (capacity rows; 0: LB_CFI_ROWS_DEFAULT) and the
 * store. 0, or -1 with t->store NULL and one warning line: the stacks
 * then use frame pointers. */
int shared_tables_open(struct shared_tables *t, uint32_t capacity, bool verbose);
void shared_tables_close(struct shared_tables *t);

#endif
