// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Resident pages per stack over the aggregate's blocks (growth mode). */
#include <stdlib.h>
#include <string.h>
#include "account/pages.h"

int pages_init(struct page_acct *p, struct aggregate *agg)
{
	memset(p, 0, sizeof(*p));
	p->agg = agg;
	return page_set_init(&p->held);
}

void pages_free(struct page_acct *p)
{
	page_set_free(&p->held);
	free(p->found);
	memset(p, 0, sizeof(*p));
}

void pages_fault(struct page_acct *p, const struct agg_alloc *al, uint64_t addr, uint64_t size)
{
	p->c.records++;
	uint64_t first = addr >> PAGES_SHIFT;
	uint64_t n = (size + PAGES_SIZE - 1) >> PAGES_SHIFT;
	bool interned = false;
	uint32_t stack = 0;
	for (uint64_t page = first; page < first + n; page++) {
		int added = page_set_add(&p->held, page);
		if (added == 0) {
			p->c.pages_known++;
			continue;
		}
		if (added < 0) {
			p->c.untracked++;
			continue;
		}
		if (!interned) {
			stack = agg_intern(p->agg, al);
			interned = true;
		}
		if (!agg_add_block(p->agg, page << PAGES_SHIFT, PAGES_SIZE, al->ts_ns, stack)) {
			/* address table full: counted there; not held */
			page_set_del(&p->held, page);
			continue;
		}
		p->c.pages_new++;
	}
}

/* The held pages of [lo, hi) into p->found (p->nfound of them). */
static void collect(struct page_acct *p, uint64_t lo, uint64_t hi)
{
	p->nfound = 0;
	uint64_t first = lo >> PAGES_SHIFT;
	uint64_t end = hi >> PAGES_SHIFT;
	if (hi & (PAGES_SIZE - 1))
		end++;
	/* out of memory: what was found is still handled */
	page_set_range(&p->held, first, end, &p->found, &p->nfound, &p->capfound);
}

/* Whether the held page was faulted before before_ns. */
static bool older(struct page_acct *p, uint64_t page, uint64_t before_ns)
{
	const struct agg_block *b = agg_find_block(p->agg, page << PAGES_SHIFT);
	return !b || b->ts_ns < before_ns;
}

static void forget(struct page_acct *p, uint64_t page)
{
	page_set_del(&p->held, page);
	agg_free_block(p->agg, page << PAGES_SHIFT);
}

void pages_release(struct page_acct *p, uint64_t lo, uint64_t hi, uint64_t before_ns)
{
	collect(p, lo, hi);
	for (size_t i = 0; i < p->nfound; i++)
		if (older(p, p->found[i], before_ns)) {
			forget(p, p->found[i]);
			p->c.pages_released++;
		}
}

void pages_move(struct page_acct *p, uint64_t lo, uint64_t hi, uint64_t to, uint64_t before_ns)
{
	collect(p, lo, hi);
	uint64_t from_page = lo >> PAGES_SHIFT, to_page = to >> PAGES_SHIFT;
	size_t kept = 0;
	/* take them all out first: the ranges may not overlap, but a page
	 * held at the destination by mistake must not be overwritten */
	for (size_t i = 0; i < p->nfound; i++) {
		uint64_t page = p->found[i];
		if (!older(p, page, before_ns))
			continue;
		p->found[kept++] = page;
		page_set_del(&p->held, page);
	}
	for (size_t i = 0; i < kept; i++) {
		uint64_t page = p->found[i], dest = page - from_page + to_page;
		if (page_set_has(&p->held, dest)) {
			forget(p, dest);
			p->c.pages_released++;
		}
		if (page_set_add(&p->held, dest) == 1 &&
		    agg_move_block(p->agg, page << PAGES_SHIFT, dest << PAGES_SHIFT)) {
			p->c.pages_moved++;
			continue;
		}
		/* cannot be held at its new place: given back, as far as we know */
		page_set_del(&p->held, dest);
		agg_free_block(p->agg, page << PAGES_SHIFT);
		p->c.pages_released++;
		p->c.untracked++;
	}
}

uint64_t pages_check(struct page_acct *p, pages_resident_fn resident, void *ctx)
{
	enum { RUN = 512 };
	bool here[RUN];
	uint64_t gone = 0;
	collect(p, 0, ~0ULL & ~(PAGES_SIZE - 1));
	for (size_t i = 0; i < p->nfound;) {
		/* a run of consecutive pages, read at once */
		size_t n = 1;
		while (i + n < p->nfound && n < RUN && p->found[i + n] == p->found[i] + n)
			n++;
		if (resident(ctx, p->found[i], n, here) == 0)
			for (size_t k = 0; k < n; k++)
				if (!here[k]) {
					forget(p, p->found[i + k]);
					p->c.pages_gone++;
					gone++;
				}
		i += n;
	}
	return gone;
}

void pages_clear(struct page_acct *p)
{
	pages_release(p, 0, ~0ULL & ~(PAGES_SIZE - 1), ~0ULL);
}
