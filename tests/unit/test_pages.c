// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* account/pages.c: resident pages per stack, given back and moved. */
#include <stdlib.h>
#include "unit.h"
#include "account/pages.h"

static struct aggregate agg;
static struct page_acct pa;

static void setup(void)
{
	CHECK_EQ(agg_init(&agg, 1 << 20, 1024, NULL, NULL), 0);
	CHECK_EQ(pages_init(&pa, &agg), 0);
}

static void teardown(void)
{
	pages_free(&pa);
	agg_free(&agg);
}

/* A page record whose stack is the single frame `ip`, at time ts. */
static void fault(uint64_t ip, uint64_t addr, uint64_t size, uint64_t ts)
{
	struct agg_alloc al = {.ts_ns = ts, .ips = &ip, .n_native = 1};
	pages_fault(&pa, &al, addr, size);
}

/* Outstanding bytes of the stack whose only frame is ip. */
static uint64_t held_by(uint64_t ip)
{
	uint64_t sum = 0;
	for (uint32_t i = 1; i < agg.nstacks; i++)
		if (agg.stacks[i].used && agg.stacks[i].n_native == 1 && agg.stacks[i].ips[0] == ip)
			sum += agg.stacks[i].out_bytes;
	return sum;
}

static void test_first_touch_keeps_the_page(void)
{
	setup();
	fault(0xa, 0x10000, 4096, 1);
	fault(0xb, 0x10000, 4096, 2); /* a refault: not new */
	fault(0xb, 0x11000, 4096, 3);
	CHECK_EQ(held_by(0xa), 4096);
	CHECK_EQ(held_by(0xb), 4096);
	CHECK_EQ(pa.c.pages_new, 2);
	CHECK_EQ(pa.c.pages_known, 1);
	/* a huge page counts by its size, page by page */
	fault(0xc, 0x200000, 2 << 20, 4);
	CHECK_EQ(held_by(0xc), 2 << 20);
	fault(0xd, 0x201000, 4096, 5);
	CHECK_EQ(held_by(0xd), 0);
	teardown();
}

static void test_release_forgets_only_older_pages(void)
{
	setup();
	for (uint64_t i = 0; i < 64; i++)
		fault(0xa, 0x7f0000000000ULL + i * 4096, 4096, 10);
	fault(0xb, 0x7f0000000000ULL + 64 * 4096, 4096, 30); /* after the call began */
	/* unaligned end: the partial page counts */
	pages_release(&pa, 0x7f0000000000ULL + 4096, 0x7f0000000000ULL + 65 * 4096 - 100, 20);
	CHECK_EQ(held_by(0xa), 4096);
	CHECK_EQ(held_by(0xb), 4096);
	CHECK_EQ(pa.c.pages_released, 63);
	/* a huge range holding one page */
	pages_release(&pa, 0, 1ULL << 47, 40);
	CHECK_EQ(held_by(0xa), 0);
	CHECK_EQ(held_by(0xb), 0);
	CHECK_EQ(pa.held.count, 0);
	CHECK_EQ(agg.blocks.used, 0);
	teardown();
}

static void test_move_keeps_stacks(void)
{
	setup();
	for (uint64_t i = 0; i < 10; i++)
		fault(0xa, 0x100000 + i * 4096, 4096, 1);
	fault(0xb, 0x900000, 4096, 1); /* something at the destination */
	pages_move(&pa, 0x100000, 0x100000 + 10 * 4096, 0x900000 - 4096, 5);
	CHECK_EQ(held_by(0xa), 10 * 4096);
	CHECK_EQ(held_by(0xb), 0);
	CHECK(!page_set_has(&pa.held, 0x100000 >> 12));
	CHECK(page_set_has(&pa.held, (0x900000 - 4096) >> 12));
	CHECK(page_set_has(&pa.held, (0x900000 + 8 * 4096) >> 12));
	const struct agg_block *b = agg_find_block(&agg, 0x900000 + 8 * 4096);
	CHECK(b && b->ts_ns == 1);
	pages_clear(&pa);
	CHECK_EQ(held_by(0xa), 0);
	CHECK_EQ(pa.held.count, 0);
	teardown();
}

static void test_table_full_is_counted(void)
{
	CHECK_EQ(agg_init(&agg, 1024, 1024, NULL, NULL), 0);
	CHECK_EQ(pages_init(&pa, &agg), 0);
	fault(0xa, 0x400000, 8 << 20, 1); /* 2048 pages, 1024 fit */
	CHECK_EQ(held_by(0xa), 1024 * 4096);
	CHECK_EQ(agg.addr_table_full, 1024);
	CHECK_EQ(pa.held.count, 1024);
	/* the pages that did not fit are not held: a refault may take them */
	fault(0xb, 0x400000 + (8 << 20) - 4096, 4096, 2);
	CHECK_EQ(pa.c.pages_known, 0);
	teardown();
}

/* Pages with an odd page number are "not resident". */
static int odd_gone(void *ctx, uint64_t first, size_t n, bool *out)
{
	(*(int *)ctx)++;
	for (size_t i = 0; i < n; i++)
		out[i] = !((first + i) & 1);
	return 0;
}

static void test_check_forgets_pages_not_resident(void)
{
	setup();
	for (uint64_t i = 0; i < 1000; i++)
		fault(0xa, 0x400000 + i * 4096, 4096, 1);
	fault(0xb, 0x7f0000001000ULL, 4096, 1); /* odd page number: gone */
	int calls = 0;
	CHECK_EQ(pages_check(&pa, odd_gone, &calls), 501);
	CHECK_EQ(held_by(0xa), 500 * 4096);
	CHECK_EQ(held_by(0xb), 0);
	CHECK_EQ(pa.c.pages_gone, 501);
	CHECK_EQ(pa.c.pages_released, 0);
	/* two runs: 1000 consecutive pages in reads of at most 512, one alone */
	CHECK_EQ(calls, 3);
	teardown();
}

int main(void)
{
	RUN(test_first_touch_keeps_the_page);
	RUN(test_release_forgets_only_older_pages);
	RUN(test_move_keeps_stacks);
	RUN(test_table_full_is_counted);
	RUN(test_check_forgets_pages_not_resident);
	return unit_done();
}
