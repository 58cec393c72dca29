/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A set of page numbers that answers "which members lie in [lo, hi)" in time
 * bounded by the members found, not by the width of the range: the growth
 * mode forgets the pages of a range the target gives back (munmap of a
 * terabyte reservation holds a handful of pages).
 *
 * A radix tree of 64-bit words, like a page table: at level 1 a word has one
 * bit per page of a 64-page group; at level k one bit per non-empty node of
 * level k-1. Nodes live in one hash table keyed by (level, prefix), so an
 * empty subtree costs nothing and a visit descends only into set bits.
 */
#ifndef PAGE_SET_H
#define PAGE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/u64_table.h"

struct ps_node {
	uint64_t key; /* level << 58 | prefix */
	uint64_t bits;
};

struct page_set {
	struct u64_table nodes; /* of struct ps_node */
	uint64_t count;		/* pages in the set */
};

int page_set_init(struct page_set *s);
void page_set_free(struct page_set *s);
void page_set_clear(struct page_set *s);

/* Page numbers are below 2^52 (addresses >> 12). page_set_add returns 1
 * when the page is new, 0 when it was there, -1 out of memory (unchanged). */
int page_set_add(struct page_set *s, uint64_t page);
bool page_set_has(const struct page_set *s, uint64_t page);
/* Whether it was there. */
bool page_set_del(struct page_set *s, uint64_t page);

/* Append the members of [lo, hi), ascending, to *out (*n used of *cap, an
 * ARRAY_RESERVE array). 0, or -1 out of memory (*out then holds a prefix). */
int page_set_range(const struct page_set *s, uint64_t lo, uint64_t hi, uint64_t **out, size_t *n,
		   size_t *cap);

#endif
