// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report/bound.c: file outputs keep the top stacks and sum the others. */
#include <stdlib.h>
#include "unit.h"
#include "report/bound.h"

static struct rm_frame frame = {.function = "f"};

static struct rm_report report_of(struct rm_stack *s, size_t n)
{
	struct rm_report r = {.stacks = s, .nstacks = n};
	for (size_t i = 0; i < n; i++) {
		r.out_bytes += s[i].out_bytes;
		r.out_count += s[i].out_count;
	}
	return r;
}

static struct rm_stack stack(uint32_t id, uint64_t out_bytes, uint64_t alloc_bytes)
{
	return (struct rm_stack){.id = id,
				 .frames = &frame,
				 .nframes = 1,
				 .out_bytes = out_bytes,
				 .out_count = out_bytes / 10,
				 .alloc_bytes = alloc_bytes,
				 .alloc_count = alloc_bytes / 10,
				 .growth_bytes = 1,
				 .first_seen_s = id,
				 .last_seen_s = id + 1};
}

static void test_within_bound_is_unchanged(void)
{
	struct rm_stack s[3] = {stack(1, 300, 300), stack(2, 200, 200), stack(3, 0, 50)};
	struct rm_report r = report_of(s, 3);
	struct rm_bounded b;
	CHECK_EQ(rm_bound(&r, 3, &b), 0);
	CHECK(b.r.stacks == s && b.r.nstacks == 3 && b.r.other_stacks == 0);
	rm_bounded_free(&b);
	CHECK_EQ(rm_bound(&r, 0, &b), 0);
	CHECK(b.r.stacks == s && b.r.nstacks == 3);
	rm_bounded_free(&b);
}

static void test_others_are_summed_and_totals_add_up(void)
{
	struct rm_stack s[6] = {stack(1, 1000, 1000), stack(2, 500, 600), stack(3, 400, 400),
				stack(4, 300, 300),   stack(5, 200, 900), stack(6, 0, 70)};
	struct rm_report r = report_of(s, 6);
	struct rm_bounded b;
	CHECK_EQ(rm_bound(&r, 2, &b), 0);
	/* the top two, and the sum (900 bytes) placed by its bytes */
	CHECK_EQ(b.r.nstacks, 3);
	CHECK_EQ(b.r.other_stacks, 4);
	CHECK_EQ(b.r.stacks[0].id, 1);
	CHECK(b.r.stacks[1].flags & RM_STACK_OTHERS);
	CHECK_EQ(b.r.stacks[2].id, 2);
	const struct rm_stack *o = &b.r.stacks[1];
	CHECK_EQ(o->out_bytes, 400 + 300 + 200);
	CHECK_EQ(o->out_count, 40 + 30 + 20);
	CHECK_EQ(o->alloc_bytes, 400 + 300 + 900 + 70);
	CHECK_EQ(o->growth_bytes, 4);
	CHECK(o->first_seen_s == 3 && o->last_seen_s == 7);
	CHECK_EQ(o->nframes, 1);
	CHECK_STR(o->frames[0].function, "[4 other stacks]");
	uint64_t total = 0;
	for (size_t i = 0; i < b.r.nstacks; i++)
		total += b.r.stacks[i].out_bytes;
	CHECK_EQ(total, r.out_bytes);
	CHECK_EQ(b.r.out_bytes, r.out_bytes);

	/* bounded again (a snapshot read back): the old sum joins the new one */
	struct rm_bounded b2;
	CHECK_EQ(rm_bound(&b.r, 1, &b2), 0);
	CHECK_EQ(b2.r.nstacks, 2);
	CHECK_EQ(b2.r.other_stacks, 5);
	/* 1400 bytes: more than the stack kept, so first */
	CHECK_STR(b2.r.stacks[0].frames[0].function, "[5 other stacks]");
	CHECK_EQ(b2.r.stacks[0].out_bytes, 900 + 500);
	CHECK_EQ(b2.r.stacks[1].id, 1);
	/* and within its bound it stays as it is */
	struct rm_bounded b3;
	CHECK_EQ(rm_bound(&b.r, 2, &b3), 0);
	CHECK(b3.r.stacks == b.r.stacks && b3.r.other_stacks == 4);
	rm_bounded_free(&b3);
	rm_bounded_free(&b2);
	rm_bounded_free(&b);
}

int main(void)
{
	RUN(test_within_bound_is_unchanged);
	RUN(test_others_are_summed_and_totals_add_up);
	return unit_done();
}
