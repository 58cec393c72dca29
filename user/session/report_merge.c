// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Several processes' reports as one (see report_merge.h). */
#include <stdlib.h>
#include <string.h>
#include "session/report_merge.h"

static void add_growth(struct rm_growth *g, const struct rm_growth *p)
{
	g->write_faults += p->write_faults;
	g->pages_resident += p->pages_resident;
	g->pages_known += p->pages_known;
	g->pages_released += p->pages_released;
	g->pages_moved += p->pages_moved;
	g->pages_gone += p->pages_gone;
	g->file_faults += p->file_faults;
	g->huge_pages += p->huge_pages;
	g->thread_stack_bytes += p->thread_stack_bytes;
	g->anon_rss += p->anon_rss;
	g->anon_rss_at_attach += p->anon_rss_at_attach;
	g->windows += p->windows;
	g->survivors += p->survivors;
	g->pages_sampled += p->pages_sampled;
	/* the same option for every process */
	g->window_s = p->window_s;
	g->window_every_s = p->window_every_s;
}

/* The numbers of one part, added into r. */
static void add_part(struct rm_report *r, const struct rm_report *pr)
{
	r->out_bytes += pr->out_bytes;
	r->out_count += pr->out_count;
	r->growth_bytes += pr->growth_bytes;
	r->counts.allocs += pr->counts.allocs;
	r->counts.frees += pr->counts.frees;
	r->counts.frees_unknown += pr->counts.frees_unknown;
	r->counts.nested_ignored += pr->counts.nested_ignored;
	r->counts.filtered += pr->counts.filtered;
	for (size_t i = 0; i < rm_drop_count; i++)
		*rm_drop_field(&r->drops, i) += rm_drop_value(&pr->drops, i);
	r->rss_bytes += pr->rss_bytes;
	r->rss_growth_bytes += pr->rss_growth_bytes;
	r->rss_at_attach += pr->rss_at_attach;
	add_growth(&r->growth, &pr->growth);
}

int report_merge(const struct rm_report *meta, struct merge_part *parts, size_t n, size_t limit,
		 struct built_report *out)
{
	memset(out, 0, sizeof(*out));
	size_t nstacks = 0, nframes = 0;
	for (size_t i = 0; i < n; i++) {
		nstacks += parts[i].r->nstacks;
		for (size_t k = 0; k < parts[i].r->nstacks; k++)
			nframes += parts[i].r->stacks[k].nframes + 1;
	}
	struct rm_process *procs = calloc(n ? n : 1, sizeof(*procs));
	out->stacks = calloc(nstacks ? nstacks : 1, sizeof(*out->stacks));
	out->frames = calloc(nframes ? nframes : 1, sizeof(*out->frames));
	if (!procs || !out->stacks || !out->frames) {
		free(procs);
		report_release(out);
		return -1;
	}
	struct rm_report *r = &out->r;
	*r = *meta;
	r->out_bytes = r->out_count = 0;
	r->growth_bytes = 0;
	r->rss_bytes = r->rss_at_attach = 0;
	r->rss_growth_bytes = 0;
	memset(&r->counts, 0, sizeof(r->counts));
	memset(&r->growth, 0, sizeof(r->growth));
	struct rm_frame *fp = out->frames;
	size_t ns = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rm_report *pr = parts[i].r;
		add_part(r, pr);
		procs[i] = parts[i].proc;
		procs[i].out_bytes = pr->out_bytes;
		procs[i].out_count = pr->out_count;
		for (size_t k = 0; k < pr->nstacks; k++) {
			struct rm_stack st = pr->stacks[k];
			fp[0] = (struct rm_frame){.function = parts[i].root};
			memcpy(fp + 1, st.frames, st.nframes * sizeof(*fp));
			st.frames = fp;
			st.nframes++;
			st.id = parts[i].serial << MERGE_ID_BITS |
				(st.id & ((1u << MERGE_ID_BITS) - 1));
			fp += st.nframes;
			out->stacks[ns++] = st;
		}
	}
	/* by the rule of each process's own report (equal outstanding bytes:
	 * most allocated first), so the merged table agrees with
	 * --per-process */
	qsort(out->stacks, ns, sizeof(*out->stacks), rm_stack_rank);
	r->stacks = out->stacks;
	r->nstacks = limit && ns > limit ? limit : ns;
	r->processes = procs;
	r->nprocesses = n;
	out->scratch = (uint64_t *)procs; /* freed with the report */
	return 0;
}
