// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The human-readable report table. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "out/table.h"
#include "util/escape.h"
#include "util/fmt.h"

/* Frames printed per stack; the rest are summarised. */
#define MAX_TABLE_FRAMES 16

void table_print_drops(const struct rm_drops *d, FILE *out)
{
	int any = 0;
	fputs("drops: ", out);
	for (size_t i = 0; i < rm_drop_count; i++) {
		uint64_t n = rm_drop_value(d, i);
		if (!n)
			continue;
		fprintf(out, "%s%" PRIu64 " %s", any ? ", " : "", n, rm_drop_list[i].text);
		any = 1;
	}
	fputs(any ? "\n" : "none\n", out);
}

void table_print_frame(const struct rm_frame *f, FILE *out)
{
	char fb[1024];
	fputs("    ", out);
	escape_put(out, rm_frame_format(f, fb, sizeof(fb)), NULL);
	fputs(f->inlined ? " (inlined)\n" : "\n", out);
}

void report_text_print(const struct rm_report *r, unsigned top, FILE *out)
{
	char b1[32], b2[32], b3[32], when[32];
	time_t t = (time_t)r->unix_time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);

	fprintf(out, "\n[%s] leakbpf: pid %d (", when, r->pid);
	escape_put(out, r->comm ? r->comm : "?", NULL); /* the target names itself */
	fprintf(out, "), %.1f s traced%s%s\n", r->elapsed_s, r->final ? ", final report" : "",
		r->target_exited ? ", target exited" : "");
	fprintf(out, "outstanding: %s in %" PRIu64 " blocks (%s in the last %.1f s)",
		human_bytes((double)r->out_bytes, b1, sizeof(b1)), r->out_count,
		signed_bytes(r->growth_bytes, b2, sizeof(b2)), r->interval_s);
	if (r->min_age_s > 0)
		fprintf(out, ", only blocks older than %.3g s", r->min_age_s);
	fputc('\n', out);
	if (r->rss_bytes)
		fprintf(out, "target RSS: %s (%s since the last report, %s since attach)\n",
			human_bytes((double)r->rss_bytes, b1, sizeof(b1)),
			signed_bytes(r->rss_growth_bytes, b2, sizeof(b2)),
			signed_bytes((int64_t)r->rss_bytes - (int64_t)r->rss_at_attach, b3,
				     sizeof(b3)));
	fprintf(out,
		"events: %" PRIu64 " allocs, %" PRIu64 " frees (%" PRIu64
		" of blocks allocated before attach or untracked)\n",
		r->counts.allocs, r->counts.frees, r->counts.frees_unknown);
	table_print_drops(&r->drops, out);
	if (r->python) {
		fputs("python: ", out);
		escape_put(out, r->python, NULL);
		fputc('\n', out);
	}
	if (r->allocator_note)
		fprintf(out, "python allocator: %s\n", r->allocator_note);

	unsigned shown = 0;
	for (size_t i = 0; i < r->nstacks && shown < top; i++) {
		const struct rm_stack *s = &r->stacks[i];
		if (!s->out_bytes)
			continue;
		shown++;
		fprintf(out,
			"\n#%u %s outstanding in %" PRIu64 " blocks, %s in %.1f s (allocated %s "
			"in %" PRIu64 " since attach)%s\n",
			shown, human_bytes((double)s->out_bytes, b1, sizeof(b1)), s->out_count,
			signed_bytes(s->growth_bytes, b2, sizeof(b2)), r->interval_s,
			human_bytes((double)s->alloc_bytes, b3, sizeof(b3)), s->alloc_count,
			s->flags & (RM_STACK_NATIVE_TRUNC | RM_STACK_PY_TRUNC) ? " [truncated]"
									       : "");
		unsigned n = s->nframes;
		unsigned show = n > MAX_TABLE_FRAMES ? MAX_TABLE_FRAMES : n;
		for (unsigned k = 0; k < show; k++)
			table_print_frame(&s->frames[n - 1 - k], out);
		if (show < n)
			fprintf(out, "    ... %u more frames toward the root\n", n - show);
	}
	if (!shown)
		fputs("\nno outstanding allocations\n", out);
	fflush(out);
}
