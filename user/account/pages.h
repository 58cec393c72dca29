/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Growth mode accounting: resident pages per stack. Each page the target
 * makes resident is held, as a block of the aggregate, by the stack that
 * first touched it; a page already held is not new (a fault race between
 * threads, a copy-on-write, a refault). Pages the target gives back
 * (munmap, madvise, brk, mremap, exec, exit) are forgotten, found through
 * an ordered page set in time bounded by the pages held in the range.
 */
#ifndef PAGES_H
#define PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include "account/aggregate.h"
#include "account/page_set.h"

#define PAGES_SHIFT 12
#define PAGES_SIZE  (1ULL << PAGES_SHIFT)

struct page_counts {
	uint64_t records;	 /* page records received */
	uint64_t pages_new;	 /* pages that became held */
	uint64_t pages_known;	 /* pages of a record that were held already */
	uint64_t pages_released; /* held pages given back */
	uint64_t pages_moved;	 /* held pages moved by mremap */
	uint64_t pages_gone;	 /* held pages found not resident (pages_check) */
	uint64_t untracked;	 /* pages not held: no memory for the page set */
};

struct page_acct {
	struct aggregate *agg; /* blocks are pages: address -> stack, age */
	struct page_set held;
	uint64_t *found; /* scratch: the held pages of a range */
	size_t nfound, capfound;
	struct page_counts c;
};

int pages_init(struct page_acct *p, struct aggregate *agg);
void pages_free(struct page_acct *p);

/* [addr, addr + size) became resident (page aligned; size is a huge page's
 * when one was mapped) at al->ts_ns, first touched by al's stack (its
 * addresses and sizes are not read). */
void pages_fault(struct page_acct *p, const struct agg_alloc *al, uint64_t addr, uint64_t size);
/* [lo, hi) was given back by a call that started at before_ns: its pages
 * held since before then are forgotten (a page faulted after the call
 * started lies in what replaced the range, and stays). */
void pages_release(struct page_acct *p, uint64_t lo, uint64_t hi, uint64_t before_ns);
/* mremap moved [lo, hi) to `to`: the pages held since before before_ns
 * move with their stacks. */
void pages_move(struct page_acct *p, uint64_t lo, uint64_t hi, uint64_t to, uint64_t before_ns);
/* The address space is gone (exec, exit): forget every page. */
void pages_clear(struct page_acct *p);

/* Forget the held pages that are no longer resident, by resident(): n
 * pages from `first` (page numbers, ascending runs), flags out[i]. Returns
 * how many were forgotten. For what no event told: pages reclaimed after
 * madvise(MADV_FREE), swapped out, or given back while records were lost. */
typedef int (*pages_resident_fn)(void *ctx, uint64_t first, size_t n, bool *out);
uint64_t pages_check(struct page_acct *p, pages_resident_fn resident, void *ctx);

#endif
