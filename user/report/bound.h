/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The size of file outputs, bounded: the stacks with most outstanding bytes
 * as they are, and every other stack summed into one "[N other stacks]"
 * stack (flag RM_STACK_OTHERS), so totals still add up. 8,192 long Python
 * stacks made a 395 MB folded file and an 811 MB JSON without it.
 */
#ifndef REPORT_BOUND_H
#define REPORT_BOUND_H

#include "report/model.h"

/* Default stacks per file output (--output-stacks). */
#define RM_OUTPUT_STACKS 1000

/* A report with at most `max` stacks besides the summed one. */
struct rm_bounded {
	struct rm_report r;
	struct rm_stack *stacks; /* NULL when r is the input as it was */
	struct rm_frame other;
	char other_name[48];
};

/* View `in` with at most max stacks (0: all) kept as they are, the others
 * summed into one placed by its bytes; a stack already summed (a bounded
 * snapshot read back) joins the new sum. The view shares in's frames and
 * strings. 0, or -1 (no memory). */
int rm_bound(const struct rm_report *in, size_t max, struct rm_bounded *out);
void rm_bounded_free(struct rm_bounded *b);

#endif
