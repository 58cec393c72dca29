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

/* The totals line: "outstanding: 1.2 MiB in 40 blocks (+4 KiB in the last
 * 5.0 s)", or its growth-mode form with resident pages. */
static void print_held(const struct rm_report *r, const char *what, const char *units,
		       const char *older, FILE *out)
{
	char b1[32], b2[32];
	fprintf(out, "%s: %s in %" PRIu64 " %s (%s in the last %.1f s)", what,
		human_bytes((double)r->out_bytes, b1, sizeof(b1)), r->out_count, units,
		signed_bytes(r->growth_bytes, b2, sizeof(b2)), r->interval_s);
	if (r->min_age_s > 0)
		fprintf(out, ", only %s older than %.3g s", older, r->min_age_s);
	fputc('\n', out);
}

/* Growth mode: the pages, and how much of the anonymous RSS growth they
 * explain. */
static void print_growth(const struct rm_report *r, FILE *out)
{
	const struct rm_growth *g = &r->growth;
	char b1[32], b2[32], b3[32];
	print_held(r, "resident", "pages held by the stacks", "pages", out);
	if (g->anon_rss) {
		int64_t grown = (int64_t)g->anon_rss - (int64_t)g->anon_rss_at_attach;
		fprintf(out, "anonymous RSS: %s (%s since attach)",
			human_bytes((double)g->anon_rss, b1, sizeof(b1)),
			signed_bytes(grown, b2, sizeof(b2)));
		if (grown > 0)
			fprintf(out, ": the stacks explain %.0f%% of that growth",
				100.0 * (double)r->out_bytes / (double)grown);
		fputc('\n', out);
	}
	fprintf(out,
		"pages: %" PRIu64 " made resident, %" PRIu64 " given back, %" PRIu64
		" moved, %" PRIu64 " no longer resident; %" PRIu64
		" faults on pages already held, %" PRIu64
		" on file-backed mappings (not counted)\n",
		g->pages_resident, g->pages_released, g->pages_moved, g->pages_gone, g->pages_known,
		g->file_faults);
	if (g->windows || g->window_s > 0)
		fprintf(out,
			"allocation windows: %" PRIu64 " of %.3g s every %.3g s, %" PRIu64
			" blocks survived them; %" PRIu64
			" pages given to the stacks whose blocks stay in them (the others stay "
			"with the stack that first touched them)\n",
			g->windows, g->window_s, g->window_every_s, g->survivors, g->pages_sampled);
	else if (r->out_bytes && r->pid) /* -a: no windows */
		fprintf(out,
			"each page is held by the stack that first touched it (--alloc-windows: "
			"by the allocations that stay in it)\n");
	if (g->thread_stack_bytes || g->huge_pages)
		fprintf(out, "thread stacks: %s (under [thread stack]); huge pages: %" PRIu64 "\n",
			human_bytes((double)g->thread_stack_bytes, b3, sizeof(b3)), g->huge_pages);
}

/* Several processes traced: each with what it holds, its RSS, its drops. */
static void print_traced(const struct rm_report *r, FILE *out)
{
	char b1[32], b2[32];
	fprintf(out, "processes (each stack's root frame names its process):\n");
	for (size_t i = 0; i < r->nprocesses; i++) {
		const struct rm_process *p = &r->processes[i];
		fprintf(out, "  %7d ", p->pid);
		escape_put(out, p->comm ? p->comm : "?", NULL);
		if (p->parent)
			fprintf(out, " (child of %d)", p->parent);
		fprintf(out, ": %s %s in %" PRIu64 " %s",
			r->mode == RM_MODE_GROWTH ? "held" : "outstanding",
			human_bytes((double)p->out_bytes, b1, sizeof(b1)), p->out_count,
			r->mode == RM_MODE_GROWTH ? "pages" : "blocks");
		if (p->exited)
			fputs(", exited", out);
		else if (p->rss_bytes)
			fprintf(out, ", RSS %s", human_bytes((double)p->rss_bytes, b2, sizeof(b2)));
		if (p->drops_lost)
			fprintf(out, ", %" PRIu64 " lost", p->drops_lost);
		fputs(p->python ? ", Python stacks\n" : "\n", out);
	}
}

/* -a: the processes, by the pages they made resident lately. */
static void print_processes(const struct rm_report *r, unsigned top, FILE *out)
{
	char b1[32], b2[32], b3[32], b4[32];
	if (!r->nprocesses)
		return;
	if (r->pid) {
		print_traced(r, out);
		return;
	}
	fprintf(out, "processes by growth (made resident in the last %.1f s and still held):\n",
		r->interval_s);
	for (size_t i = 0; i < r->nprocesses && i < top; i++) {
		const struct rm_process *p = &r->processes[i];
		fprintf(out, "  %7d ", p->pid);
		escape_put(out, p->comm ? p->comm : "?", NULL);
		fprintf(out, ": +%s recent, %s held, anonymous RSS %s (%s since attach)%s\n",
			human_bytes((double)p->recent_bytes, b1, sizeof(b1)),
			human_bytes((double)p->out_bytes, b2, sizeof(b2)),
			human_bytes((double)p->anon_rss, b3, sizeof(b3)),
			signed_bytes((int64_t)p->anon_rss - (int64_t)p->anon_rss_at_attach, b4,
				     sizeof(b4)),
			p->python ? ", Python stacks" : "");
	}
	if (r->nprocesses > top)
		fprintf(out, "  ... %zu more processes\n", r->nprocesses - top);
}

void report_text_print(const struct rm_report *r, unsigned top, FILE *out)
{
	char b1[32], b2[32], b3[32], when[32];
	time_t t = (time_t)r->unix_time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);

	bool growth = r->mode == RM_MODE_GROWTH;
	if (r->pid && r->nprocesses) {
		fprintf(out, "\n[%s] leakbpf: %zu processes", when, r->nprocesses);
	} else if (r->pid) {
		fprintf(out, "\n[%s] leakbpf: pid %d (", when, r->pid);
		escape_put(out, r->comm ? r->comm : "?", NULL); /* the target names itself */
		fputc(')', out);
	} else {
		fprintf(out, "\n[%s] leakbpf: every process", when);
	}
	fprintf(out, ", %.1f s traced%s%s%s\n", r->elapsed_s, growth ? ", growth mode" : "",
		r->final ? ", final report" : "",
		r->target_exited ? (r->nprocesses && r->pid ? ", all exited" : ", target exited")
				 : "");
	if (r->execs)
		fprintf(out,
			"the target executed a new program (%u time%s): the numbers are the "
			"new program's, since then\n",
			r->execs, r->execs > 1 ? "s" : "");
	if (growth) {
		print_growth(r, out);
	} else {
		print_held(r, "outstanding", "blocks", "blocks", out);
	}
	if (r->rss_bytes)
		fprintf(out, "target RSS: %s (%s since the last report, %s since attach)\n",
			human_bytes((double)r->rss_bytes, b1, sizeof(b1)),
			signed_bytes(r->rss_growth_bytes, b2, sizeof(b2)),
			signed_bytes((int64_t)r->rss_bytes - (int64_t)r->rss_at_attach, b3,
				     sizeof(b3)));
	if (!growth)
		fprintf(out,
			"events: %" PRIu64 " allocs, %" PRIu64 " frees (%" PRIu64
			" of blocks allocated before attach or untracked)\n",
			r->counts.allocs, r->counts.frees, r->counts.frees_unknown);
	table_print_drops(&r->drops, out);
	print_processes(r, top, out);
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
		fprintf(
		    out,
		    growth ? "\n#%u %s resident in %" PRIu64 " pages, %s in %.1f s (made "
			     "resident %s in %" PRIu64 " since attach)%s%s\n"
			   : "\n#%u %s outstanding in %" PRIu64 " blocks, %s in %.1f s (allocated "
			     "%s in %" PRIu64 " since attach)%s%s\n",
		    shown, human_bytes((double)s->out_bytes, b1, sizeof(b1)), s->out_count,
		    signed_bytes(s->growth_bytes, b2, sizeof(b2)), r->interval_s,
		    human_bytes((double)s->alloc_bytes, b3, sizeof(b3)), s->alloc_count,
		    s->flags & (RM_STACK_NATIVE_TRUNC | RM_STACK_PY_TRUNC) ? " [truncated]" : "",
		    s->flags & RM_STACK_SAMPLED ? " [sampled: its blocks stay in these pages]"
						: "");
		unsigned n = s->nframes;
		unsigned show = n > MAX_TABLE_FRAMES ? MAX_TABLE_FRAMES : n;
		for (unsigned k = 0; k < show; k++)
			table_print_frame(&s->frames[n - 1 - k], out);
		if (show < n)
			fprintf(out, "    ... %u more frames toward the root\n", n - show);
	}
	if (!shown)
		fputs(growth ? "\nno pages held\n" : "\nno outstanding allocations\n", out);
	fflush(out);
}
