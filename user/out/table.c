// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The human-readable report table. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "out/table.h"
#include "util/fmt.h"

/* Frames printed per stack; the rest are summarised. */
#define MAX_TABLE_FRAMES 16

/* One line listing the non-zero drop counters, or "none". */
static void print_drops(const struct rm_drops *d, FILE *out)
{
	struct {
		const char *what;
		uint64_t n;
	} rows[] = {
	    {"alloc events lost (ring buffer full)", d->ringbuf_alloc},
	    {"free events lost (ring buffer full)", d->ringbuf_free},
	    {"calls untraced (thread map full)", d->thread_map_full},
	    {"nested calls too deep", d->nest_overflow},
	    {"native stacks unreadable", d->stack_errors},
	    {"native stacks truncated", d->stacks_truncated},
	    {"python stacks unreadable", d->py_errors},
	    {"python stacks truncated", d->py_truncated},
	    {"blocks untracked (address table full)", d->addr_table_full},
	    {"stacks merged (stack table full)", d->stack_table_full},
	};
	int any = 0;
	fputs("drops: ", out);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!rows[i].n)
			continue;
		fprintf(out, "%s%" PRIu64 " %s", any ? ", " : "", rows[i].n, rows[i].what);
		any = 1;
	}
	fputs(any ? "\n" : "none\n", out);
}

void report_text_print(const struct rm_report *r, unsigned top, FILE *out)
{
	char b1[32], b2[32], b3[32], fb[1024], when[32];
	time_t t = (time_t)r->unix_time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);

	fprintf(out, "\n[%s] leakbpf: pid %d (%s), %.1f s traced%s%s\n", when, r->pid,
		r->comm ? r->comm : "?", r->elapsed_s, r->final ? ", final report" : "",
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
	print_drops(&r->drops, out);
	if (r->python)
		fprintf(out, "python: %s\n", r->python);
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
		for (unsigned k = 0; k < show; k++) {
			const struct rm_frame *f = &s->frames[n - 1 - k];

			fprintf(out, "    %s%s\n", rm_frame_format(f, fb, sizeof(fb)),
				f->inlined ? " (inlined)" : "");
		}
		if (show < n)
			fprintf(out, "    ... %u more frames toward the root\n", n - show);
	}
	if (!shown)
		fputs("\nno outstanding allocations\n", out);
	fflush(out);
}
