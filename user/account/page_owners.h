/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Growth mode with allocation windows: which allocation stack owns a page.
 * A page is first touched by the allocation that found the allocator's
 * free lists empty; where a leak shares size classes with busier code,
 * that is the busier code, not the leak, whose blocks then fill the page.
 * The survivors of the windows (account/samples.c) show what stays in the
 * pages each kind of first toucher made (its Python frames and innermost
 * native ones): those pages are shared out among the survivors' stacks in
 * proportion to their bytes in them. Each page is given once, when its
 * kind has enough survivors in its pages; until then it stays with its
 * first toucher.
 */
#ifndef ACCOUNT_PAGE_OWNERS_H
#define ACCOUNT_PAGE_OWNERS_H

#include <stdint.h>
#include "account/aggregate.h"
#include "account/samples.h"

/* Survivor pages of a kind before its pages are given out. */
#define PAGE_OWNERS_MIN_SURVIVORS 3
/* Stacks a kind's pages are shared among (the heaviest). */
#define PAGE_OWNERS_MAX_SITES 16

struct page_owners_counts {
	uint64_t pages_sampled; /* pages given to a survivors' stack, ever */
};

/* Give the pages of agg (its blocks are pages) without an owner yet to
 * the stacks of s's survivors, by kind of first toucher. Stacks given pages get
 * RM_STACK_SAMPLED. 0, or -1 without memory (nothing given). */
int page_owners_assign(struct aggregate *agg, const struct samples *s,
		       struct page_owners_counts *c);

#endif
