// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report/bound.h"

static void add_to(struct rm_stack *sum, const struct rm_stack *s, bool first)
{
	sum->out_bytes += s->out_bytes;
	sum->out_count += s->out_count;
	sum->alloc_bytes += s->alloc_bytes;
	sum->alloc_count += s->alloc_count;
	sum->growth_bytes += s->growth_bytes;
	sum->growth_count += s->growth_count;
	if (first || s->first_seen_s < sum->first_seen_s)
		sum->first_seen_s = s->first_seen_s;
	if (first || s->last_seen_s > sum->last_seen_s)
		sum->last_seen_s = s->last_seen_s;
}

int rm_bound(const struct rm_report *in, size_t max, struct rm_bounded *out)
{
	struct rm_stack sum = {.id = UINT32_MAX, .flags = RM_STACK_OTHERS};
	size_t regular = 0, kept = 0, n = 0, summed = 0, sums = 0;
	uint64_t others;
	bool placed = false;

	memset(out, 0, sizeof(*out));
	out->r = *in;
	for (size_t i = 0; i < in->nstacks; i++)
		regular += !(in->stacks[i].flags & RM_STACK_OTHERS);
	if (!max || regular <= max)
		return 0;

	for (size_t i = 0; i < in->nstacks; i++) {
		const struct rm_stack *s = &in->stacks[i];

		if (s->flags & RM_STACK_OTHERS)
			sums++;
		else if (kept++ < max)
			continue;
		add_to(&sum, s, !summed++);
	}
	others = regular - max + (sums ? (in->other_stacks ? in->other_stacks : sums) : 0);
	out->stacks = calloc(max + 1, sizeof(*out->stacks));
	if (!out->stacks)
		return -1;
	snprintf(out->other_name, sizeof(out->other_name), "[%" PRIu64 " other stacks]", others);
	out->other.function = out->other_name;
	out->other.kind = RM_FRAME_NATIVE;
	sum.frames = &out->other;
	sum.nframes = 1;
	/* kept stacks in their order, the sum where its bytes put it */
	kept = 0;
	for (size_t i = 0; i < in->nstacks && kept < max; i++) {
		const struct rm_stack *s = &in->stacks[i];

		if (s->flags & RM_STACK_OTHERS)
			continue;
		if (!placed && sum.out_bytes > s->out_bytes) {
			out->stacks[n++] = sum;
			placed = true;
		}
		out->stacks[n++] = *s;
		kept++;
	}
	if (!placed)
		out->stacks[n++] = sum;
	out->r.stacks = out->stacks;
	out->r.nstacks = n;
	out->r.other_stacks = others;
	return 0;
}

void rm_bounded_free(struct rm_bounded *b)
{
	free(b->stacks);
	memset(b, 0, sizeof(*b));
}
