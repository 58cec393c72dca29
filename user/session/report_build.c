// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Aggregate -> report model: filter by age, rank, symbolize, merge stacks. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "account/aggregate.h"
#include "python/support.h"
#include "session/report_build.h"
#include "symbols/symbolizer.h"
#include "target/process.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/hash.h"

struct ranked {
	uint32_t id;
	uint64_t out_bytes, out_count;
};

static uint64_t hash_frames(const struct rm_stack *st)
{
	uint64_t h = HASH_SEED;
	for (unsigned i = 0; i < st->nframes; i++) {
		const struct rm_frame *f = &st->frames[i];
		h = hash_str(h, f->function);
		h = hash_str(h, f->file);
		h = hash_u64(h, (uint64_t)f->line);
		if (!f->function)
			h = hash_u64(h, f->offset);
	}
	return h;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_frames(const struct rm_stack *a, const struct rm_stack *b)
{
	if (a->nframes != b->nframes)
		return false;
	for (unsigned i = 0; i < a->nframes; i++) {
		const struct rm_frame *x = &a->frames[i], *y = &b->frames[i];
		if (x->line != y->line || x->kind != y->kind || x->inlined != y->inlined ||
		    !same_str(x->function, y->function) || !same_str(x->file, y->file) ||
		    (!x->function && x->offset != y->offset))
			return false;
	}
	return true;
}

/* Fold stacks with identical frames into the first of them; returns the
 * new count (order kept otherwise). */
static size_t merge_same_frames(struct rm_stack *st, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	uint32_t *slot = calloc(cap, sizeof(*slot)); /* index + 1 */
	uint64_t *hash = calloc(n ? n : 1, sizeof(*hash));
	if (!slot || !hash) {
		free(slot);
		free(hash);
		return n; /* unmerged is still correct */
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = hash_frames(&st[i]);
		size_t j = h & (cap - 1);
		for (; slot[j]; j = (j + 1) & (cap - 1)) {
			struct rm_stack *d = &st[slot[j] - 1];
			if (hash[slot[j] - 1] != h || !same_frames(d, &st[i]))
				continue;
			d->out_bytes += st[i].out_bytes;
			d->out_count += st[i].out_count;
			d->alloc_bytes += st[i].alloc_bytes;
			d->alloc_count += st[i].alloc_count;
			d->growth_bytes += st[i].growth_bytes;
			d->growth_count += st[i].growth_count;
			d->flags |= st[i].flags;
			if (st[i].first_seen_s < d->first_seen_s)
				d->first_seen_s = st[i].first_seen_s;
			if (st[i].last_seen_s > d->last_seen_s)
				d->last_seen_s = st[i].last_seen_s;
			if (st[i].id < d->id)
				d->id = st[i].id;
			break;
		}
		if (slot[j])
			continue;
		st[kept] = st[i];
		hash[kept] = h;
		slot[j] = (uint32_t)++kept;
	}
	free(slot);
	free(hash);
	return kept;
}

/* The stack's baseline, or none (0) when the id was not its at the
 * previous report. */
static struct growth_baseline baseline_of(const struct report_builder *b, uint32_t id,
					  const struct agg_stack *s)
{
	if (id < b->base_cap && b->base[id].serial == s->serial)
		return b->base[id];
	return (struct growth_baseline){0};
}

static const struct rm_frame overflow_frame = {
    .function = "[stack table full: stacks merged]",
};

/* Growth mode: the root of the stacks whose pages are thread stacks. */
static const struct rm_frame thread_stack_frame = {
    .function = "[thread stack]",
};

/* Native frames to keep under the Python frames: from malloc's caller up
 * to (not including) the first interpreter frame. */
static unsigned native_keep(const struct report_builder *b, const struct agg_stack *s)
{
	if (b->native_all || !s->n_py || !b->py)
		return s->n_native;
	unsigned k = 0;
	/* An address in no module means the frame-pointer walk went astray
	 * (the interpreter has no frame pointers): nothing past it is real. */
	while (k < s->n_native && !py_is_interpreter_addr(b->py, s->ips[k]) &&
	       symbolizer_module_of(b->sym, s->ips[k]))
		k++;
	return k;
}

/* Native frames of s, inline frames included. */
static size_t native_frame_count(const struct report_builder *b, const struct agg_stack *s)
{
	size_t n = 0;
	for (unsigned i = native_keep(b, s); i-- > 0;)
		if (s->ips[i] >= 4096) /* as in build_frames */
			n += symbolizer_frame_count(b->sym, s->ips[i], true);
	return n;
}

/* Where the native walk stopped short of a root (bpf/cfi.bpf.h), the
 * stack says so in place of the frames it could not find. */
static const struct rm_frame anon_stop_frame = {
    .function = "[unwinding stopped at JIT or anonymous code]",
};
static const struct rm_frame stopped_frame = {
    .function = "[unwinding stopped: no unwind rule, or the stack is unreadable]",
};

/* s's frames into out[0..room), root first; returns how many. */
static unsigned build_frames(const struct report_builder *b, uint32_t id, const struct agg_stack *s,
			     struct rm_frame *out, size_t room)
{
	if (id == 0) {
		out[0] = overflow_frame;
		return 1;
	}
	unsigned n = 0;
	if (s->flags & RM_STACK_THREAD)
		out[n++] = thread_stack_frame;
	/* root first: outermost Python frame ... innermost, then native */
	for (unsigned i = s->n_py; i-- > 0;)
		out[n++] = s->pyres[i];
	if (s->flags & RM_STACK_NATIVE_ANON)
		out[n++] = anon_stop_frame;
	else if (s->flags & RM_STACK_NATIVE_STOPPED)
		out[n++] = stopped_frame;
	unsigned keep = native_keep(b, s);
	for (unsigned i = keep; i-- > 0;) {
		/* a frame-pointer walk through code without frame pointers ends in
		 * small garbage values: they are not frames */
		if (s->ips[i] < 4096)
			continue;
		/* one address, one frame or more: functions inlined there */
		n += symbolizer_frames(b->sym, s->ips[i], true, &out[n],
				       room > n ? (unsigned)(room - n) : 0);
	}
	return n;
}

int report_build(struct report_builder *b, const struct rm_drops *bpf_drops,
		 const struct rm_counts *bpf_counts, size_t limit, bool advance,
		 struct built_report *out)
{
	const struct aggregate *a = b->agg;
	uint64_t now = mono_ns();
	memset(out, 0, sizeof(*out));
	/* room for the new baselines first: advancing cannot fail halfway */
	if (advance && ARRAY_RESERVE(b->base, b->base_cap, a->nstacks))
		return -1;

	/* outstanding per stack, honouring -o */
	uint64_t *ob = NULL, *oc = NULL;
	if (b->min_age_s > 0) {
		out->scratch = calloc(2 * (size_t)a->nstacks, sizeof(uint64_t));
		if (!out->scratch)
			return -1;
		ob = out->scratch;
		oc = out->scratch + a->nstacks;
		uint64_t age = (uint64_t)(b->min_age_s * 1e9);
		agg_outstanding_older(a, now > age ? now - age : 0, ob, oc);
	}

	struct ranked *rk = calloc(a->nstacks ? a->nstacks : 1, sizeof(*rk));
	if (!rk)
		return -1;
	size_t nr = 0;
	uint64_t tot_b = 0, tot_c = 0;
	int64_t tot_growth = 0;
	uint64_t thread_b = 0;
	for (uint32_t id = 0; id < a->nstacks; id++) {
		const struct agg_stack *s = &a->stacks[id];
		if (!s->used || (!s->alloc_count && !s->out_count))
			continue;
		struct ranked r = {id, ob ? ob[id] : s->out_bytes, oc ? oc[id] : s->out_count};
		tot_b += r.out_bytes;
		if (s->flags & RM_STACK_THREAD)
			thread_b += r.out_bytes;
		tot_c += r.out_count;
		tot_growth += (int64_t)r.out_bytes - (int64_t)baseline_of(b, id, s).out_bytes;
		rk[nr++] = r;
	}

	size_t nframes = 0;
	for (size_t i = 0; i < nr; i++) {
		const struct agg_stack *s = &a->stacks[rk[i].id];
		nframes += s->n_py + native_frame_count(b, s) + 2;
	}
	out->stacks = calloc(nr ? nr : 1, sizeof(*out->stacks));
	out->frames = calloc(nframes ? nframes : 1, sizeof(*out->frames));
	if (!out->stacks || !out->frames) {
		free(rk);
		report_release(out);
		return -1;
	}
	struct rm_frame *fp = out->frames;
	double attach_s = b->attach_ns / 1e9;
	for (size_t i = 0; i < nr; i++) {
		const struct agg_stack *s = &a->stacks[rk[i].id];
		struct rm_stack *st = &out->stacks[i];
		st->id = rk[i].id;
		st->frames = fp;
		st->nframes = build_frames(b, rk[i].id, s, fp, out->frames + nframes - fp);
		fp += st->nframes;
		st->out_bytes = rk[i].out_bytes;
		st->out_count = rk[i].out_count;
		st->alloc_bytes = s->alloc_bytes;
		st->alloc_count = s->alloc_count;
		struct growth_baseline prev = baseline_of(b, rk[i].id, s);
		st->growth_bytes = (int64_t)st->out_bytes - (int64_t)prev.out_bytes;
		st->growth_count = (int64_t)st->out_count - (int64_t)prev.out_count;
		st->first_seen_s = s->first_ns ? s->first_ns / 1e9 - attach_s : 0;
		st->last_seen_s = s->last_ns ? s->last_ns / 1e9 - attach_s : 0;
		st->flags = s->flags;
	}
	/* Stacks that differ only in what is not shown (interpreter frames,
	 * instruction offsets on the same line) are one stack to the reader. */
	nr = merge_same_frames(out->stacks, nr);
	qsort(out->stacks, nr, sizeof(*out->stacks), rm_stack_rank);
	if (limit && nr > limit)
		nr = limit;

	struct rm_report *r = &out->r;
	*r = b->meta;
	r->unix_time = wall_time_s();
	r->elapsed_s = (now - b->attach_ns) / 1e9;
	r->interval_s = (now - (b->prev_ns ? b->prev_ns : b->attach_ns)) / 1e9;
	r->min_age_s = b->min_age_s;
	r->counts = a->counts;
	r->counts.nested_ignored = bpf_counts->nested_ignored;
	r->counts.filtered = bpf_counts->filtered;
	r->drops = *bpf_drops;
	r->drops.addr_table_full = a->addr_table_full;
	r->drops.stack_table_full = a->stack_table_full;
	r->rss_bytes = r->target_exited ? 0 : target_rss(r->pid);
	r->rss_at_attach = b->rss_attach;
	r->rss_growth_bytes = r->rss_bytes ? (int64_t)r->rss_bytes - (int64_t)b->rss_prev : 0;
	r->out_bytes = tot_b;
	r->out_count = tot_c;
	r->growth_bytes = tot_growth;
	r->growth.thread_stack_bytes = thread_b;
	r->stacks = out->stacks;
	r->nstacks = nr;

	if (advance) {
		/* The new baseline covers every stack, not only the ones shown. */
		for (uint32_t id = 0; id < a->nstacks; id++) {
			const struct agg_stack *s = &a->stacks[id];
			b->base[id] = (struct growth_baseline){
			    .serial = s->used ? s->serial : 0,
			    .out_bytes = ob ? ob[id] : s->out_bytes,
			    .out_count = oc ? oc[id] : s->out_count,
			};
		}
		b->prev_ns = now;
		if (r->rss_bytes)
			b->rss_prev = r->rss_bytes;
	}
	free(rk);
	return 0;
}

void report_builder_free(struct report_builder *b)
{
	free(b->base);
	b->base = NULL;
	b->base_cap = 0;
}

void report_release(struct built_report *br)
{
	free(br->stacks);
	free(br->frames);
	free(br->scratch);
	memset(br, 0, sizeof(*br));
}
