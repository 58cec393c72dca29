// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* account/samples.c and account/page_owners.c: the allocation windows'
 * survivors, and the pages given to their stacks. */
#include <stdlib.h>
#include "unit.h"
#include "account/page_owners.h"
#include "account/pages.h"
#include "account/samples.h"

static struct aggregate agg;
static struct page_acct pa;
static struct samples sm;
static struct page_owners_counts oc;

static void setup(void)
{
	CHECK_EQ(agg_init(&agg, 1 << 20, 1024, NULL, NULL), 0);
	CHECK_EQ(pages_init(&pa, &agg), 0);
	samples_init(&sm, 1 << 16);
	memset(&oc, 0, sizeof(oc));
}

static void teardown(void)
{
	samples_free(&sm);
	pages_free(&pa);
	agg_free(&agg);
}

/* A stack of n native frames ips[0..n) (innermost first). */
static uint32_t stack_of(const uint64_t *ips, uint16_t n)
{
	struct agg_alloc al = {.ips = ips, .n_native = n};
	return agg_intern(&agg, &al);
}

/* Page faults at [addr, addr + npages pages), first touched by ips. */
static void touch(const uint64_t *ips, uint16_t n, uint64_t addr, unsigned npages)
{
	struct agg_alloc al = {.ts_ns = 1, .ips = ips, .n_native = n};
	for (unsigned i = 0; i < npages; i++)
		pages_fault(&pa, &al, addr + i * PAGES_SIZE, PAGES_SIZE);
}

/* A survivor of stack id at addr. */
static void survivor(uint32_t id, uint64_t addr, uint64_t size)
{
	samples_alloc(&sm, addr, size, 10, id, agg.stacks[id].serial);
}

static uint64_t pages_of(uint32_t id)
{
	return agg.stacks[id].out_count;
}

static void test_survivors_are_old_enough_and_live(void)
{
	setup();
	samples_alloc(&sm, 0x1000, 64, 100, 1, 0);
	samples_alloc(&sm, 0x2000, 64, 200, 1, 0);
	samples_alloc(&sm, 0x3000, 64, 300, 1, 0);
	samples_release(&sm, 0x2000);		   /* freed in the window */
	samples_alloc(&sm, 0x1000, 32, 150, 2, 0); /* its free unseen: replaced */
	samples_window_end(&sm, 250);		   /* 0x3000 is too young */
	CHECK_EQ(sm.survivors, 1);
	CHECK_EQ(sm.blocks.used, 1);
	const struct sample_block *b = u64_table_find(&sm.blocks, 0x1000);
	CHECK(b && b->survivor && b->stack == 2 && b->size == 32);
	/* a later window: the survivor is freed, a new block survives */
	samples_release(&sm, 0x1000);
	samples_alloc(&sm, 0x4000, 64, 400, 1, 0);
	samples_window_end(&sm, 500);
	CHECK_EQ(sm.survivors, 1);
	CHECK_EQ(sm.survived, 2);
	/* kept for SAMPLES_KEEP_WINDOWS windows */
	for (int i = 1; i < SAMPLES_KEEP_WINDOWS; i++)
		samples_window_end(&sm, 500);
	CHECK_EQ(sm.survivors, 1);
	samples_window_end(&sm, 500);
	CHECK_EQ(sm.survivors, 0);
	CHECK_EQ(sm.blocks.used, 0);
	teardown();
}

static void test_full_table_is_counted(void)
{
	setup();
	samples_free(&sm);
	samples_init(&sm, 4);
	for (uint64_t i = 1; i <= 6; i++)
		samples_alloc(&sm, i << 12, 8, 1, 1, 0);
	CHECK_EQ(sm.blocks.used, 4);
	CHECK_EQ(sm.unkept, 2);
	teardown();
}

static void test_pages_shared_by_survivor_bytes(void)
{
	setup();
	const uint64_t churn[] = {0xa, 0xb, 0xc}, leak_a[] = {0x1, 0x2}, leak_b[] = {0x3, 0x4};
	touch(churn, 3, 0x100000, 12);
	uint32_t c = stack_of(churn, 3), a = stack_of(leak_a, 2), b = stack_of(leak_b, 2);
	/* in three pages: site a has 3 bytes for each of b's */
	for (int p = 0; p < 3; p++) {
		survivor(a, 0x100000 + p * PAGES_SIZE + 64, 300);
		survivor(b, 0x100000 + p * PAGES_SIZE + 1024, 100);
	}
	samples_window_end(&sm, 100);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(a), 9);
	CHECK_EQ(pages_of(b), 3);
	CHECK_EQ(pages_of(c), 0);
	CHECK_EQ(oc.pages_sampled, 12);
	CHECK(agg.stacks[a].flags & RM_STACK_SAMPLED);
	CHECK(!(agg.stacks[c].flags & RM_STACK_SAMPLED));
	CHECK_EQ(agg.stacks[a].out_bytes, 9 * PAGES_SIZE);
	CHECK(agg.stacks[a].out_bytes <= agg.stacks[a].alloc_bytes);
	/* given once: a second pass changes nothing; new pages of the same
	 * first toucher follow the same shares */
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(a), 9);
	touch(churn, 3, 0x200000, 4);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(a) + pages_of(b), 16);
	CHECK_EQ(pages_of(c), 0);
	/* a page given away and then given back is forgotten from its owner */
	pages_release(&pa, 0x100000, 0x100000 + 12 * PAGES_SIZE, 2);
	CHECK_EQ(pages_of(a) + pages_of(b), 4);
	teardown();
}

static void test_too_few_survivors_keep_the_first_toucher(void)
{
	setup();
	const uint64_t churn[] = {0xa, 0xb}, leak[] = {0x1};
	touch(churn, 2, 0x100000, 8);
	uint32_t c = stack_of(churn, 2), l = stack_of(leak, 1);
	survivor(l, 0x100000 + 16, 64);
	survivor(l, 0x101000 + 16, 64);
	survivor(l, 0x900000, 64); /* in no page held: no weight */
	samples_window_end(&sm, 100);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(c), 8);
	CHECK_EQ(oc.pages_sampled, 0);
	/* a third piece: now they go */
	survivor(l, 0x102000 + 16, 64);
	samples_window_end(&sm, 100);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(l), 8);
	teardown();
}

static void test_first_touchers_of_one_kind_pool_their_pages(void)
{
	setup();
	/* the same innermost frames; further out, a window's trampoline */
	const uint64_t clean[] = {0xa, 0xb, 0xc, 0xd, 0xe}, in_window[] = {0xa, 0xb, 0xc, 0x7f00};
	const uint64_t other[] = {0xa, 0xb, 0xf}, leak[] = {0x1};
	touch(clean, 5, 0x100000, 10);
	touch(in_window, 4, 0x200000, 3);
	touch(other, 3, 0x300000, 5);
	uint32_t l = stack_of(leak, 1), o = stack_of(other, 3);
	for (int p = 0; p < 3; p++)
		survivor(l, 0x200000 + p * PAGES_SIZE, 512);
	samples_window_end(&sm, 100);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(l), 13);
	CHECK_EQ(pages_of(o), 5); /* another kind: no survivor in its pages */
	teardown();
}

static void test_survivors_of_a_dead_stack_are_left_out(void)
{
	setup();
	const uint64_t churn[] = {0xa}, leak[] = {0x1};
	touch(churn, 1, 0x100000, 4);
	uint32_t l = stack_of(leak, 1);
	for (int p = 0; p < 4; p++)
		samples_alloc(&sm, 0x100000 + p * PAGES_SIZE, 64, 10, l,
			      agg.stacks[l].serial + 1); /* its id reused since */
	samples_window_end(&sm, 100);
	CHECK_EQ(page_owners_assign(&agg, &sm, &oc), 0);
	CHECK_EQ(pages_of(l), 0);
	teardown();
}

int main(void)
{
	RUN(test_survivors_are_old_enough_and_live);
	RUN(test_full_table_is_counted);
	RUN(test_pages_shared_by_survivor_bytes);
	RUN(test_too_few_survivors_keep_the_first_toucher);
	RUN(test_first_touchers_of_one_kind_pool_their_pages);
	RUN(test_survivors_of_a_dead_stack_are_left_out);
	return unit_done();
}
