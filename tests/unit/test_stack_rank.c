// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report/model.c's rank of stacks, and session/report_merge.c ranking
 * several processes' stacks by it. */
#include <stdlib.h>
#include "unit.h"
#include "report/model.h"
#include "session/report_merge.h"

static struct rm_frame frame = {.function = "f"};

static struct rm_stack stack(uint32_t id, uint64_t out_bytes, uint64_t alloc_bytes)
{
	return (struct rm_stack){.id = id,
				 .frames = &frame,
				 .nframes = 1,
				 .out_bytes = out_bytes,
				 .alloc_bytes = alloc_bytes};
}

static void test_rank(void)
{
	struct rm_stack s[] = {stack(7, 0, 10),	  stack(3, 100, 5), stack(2, 0, 10),
			       stack(9, 100, 50), stack(1, 0, 900), stack(4, 200, 0)};
	size_t n = sizeof(s) / sizeof(*s);
	qsort(s, n, sizeof(*s), rm_stack_rank);
	/* outstanding, then allocated, then id */
	uint32_t want[] = {4, 9, 3, 1, 2, 7};
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(s[i].id, want[i]);
	CHECK_EQ(rm_stack_rank(&s[0], &s[0]), 0);
	CHECK(rm_stack_rank(&s[4], &s[5]) < 0 && rm_stack_rank(&s[5], &s[4]) > 0);
}

static struct rm_report report_of(const struct rm_stack *s, size_t n)
{
	struct rm_report r = {.stacks = s, .nstacks = n};
	for (size_t i = 0; i < n; i++)
		r.out_bytes += s[i].out_bytes;
	return r;
}

/* Each process's stacks keep the order of its own report, and stacks of
 * several processes with equal outstanding bytes go by allocated bytes. */
static void test_merge_ranks_as_one_report(void)
{
	struct rm_stack a[] = {stack(1, 100, 100), stack(3, 0, 500), stack(2, 0, 50)};
	struct rm_stack b[] = {stack(1, 100, 300), stack(2, 0, 10)};
	struct rm_report ra = report_of(a, 3), rb = report_of(b, 2), meta = {0};
	struct merge_part parts[] = {
	    {.r = &ra, .root = "process 10 (a)", .serial = 0, .proc = {.pid = 10}},
	    {.r = &rb, .root = "process 20 (b)", .serial = 1, .proc = {.pid = 20}},
	};
	struct built_report out;
	CHECK_EQ(report_merge(&meta, parts, 2, 0, &out), 0);
	CHECK_EQ(out.r.nstacks, 5);
	CHECK_EQ(out.r.out_bytes, 200);
	struct {
		const char *root;
		uint32_t id;
	} want[] = {{"process 20 (b)", 1},
		    {"process 10 (a)", 1},
		    {"process 10 (a)", 3},
		    {"process 10 (a)", 2},
		    {"process 20 (b)", 2}};
	for (size_t i = 0; i < 5 && i < out.r.nstacks; i++) {
		const struct rm_stack *st = &out.r.stacks[i];
		CHECK(!strcmp(st->frames[0].function, want[i].root));
		CHECK_EQ(st->id & ((1u << MERGE_ID_BITS) - 1), want[i].id);
		CHECK_EQ(st->nframes, 2);
	}
	report_release(&out);
	/* a limit keeps the first of that order */
	CHECK_EQ(report_merge(&meta, parts, 2, 3, &out), 0);
	CHECK_EQ(out.r.nstacks, 3);
	CHECK_EQ(out.r.stacks[2].alloc_bytes, 500);
	report_release(&out);
}

int main(void)
{
	RUN(test_rank);
	RUN(test_merge_ranks_as_one_report);
	return unit_done();
}
