// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The report as JSON, schema "leakbpf/v1" (doc/json-schema.md). One stack
 * per line keeps large files greppable and diffable. */
#include <errno.h>
#include <inttypes.h>
#include "out/formats.h"
#include "util/json.h"
#include "util/outfile.h"

static void put_key(FILE *out, const char *key)
{
	json_put_string(out, key);
	putc(':', out);
}

static void put_u64(FILE *out, const char *key, uint64_t v)
{
	put_key(out, key);
	fprintf(out, "%" PRIu64, v);
}

static void put_i64(FILE *out, const char *key, int64_t v)
{
	put_key(out, key);
	fprintf(out, "%" PRId64, v);
}

static void put_dbl(FILE *out, const char *key, double v)
{
	put_key(out, key);
	json_put_double(out, v);
}

static void put_str(FILE *out, const char *key, const char *v)
{
	put_key(out, key);
	json_put_string(out, v);
}

static void put_bool(FILE *out, const char *key, bool v)
{
	put_key(out, key);
	fputs(v ? "true" : "false", out);
}

static void write_meta(const struct rm_report *r, FILE *out)
{
	put_str(out, "schema", "leakbpf/v1");
	putc(',', out);
	put_str(out, "mode", r->mode == RM_MODE_GROWTH ? "growth" : "exact");
	putc(',', out);
	put_str(out, "leakbpf_version", r->leakbpf_version);
	putc(',', out);
	put_i64(out, "pid", r->pid);
	putc(',', out);
	put_str(out, "comm", r->comm);
	putc(',', out);
	put_str(out, "cmdline", r->cmdline);
	putc(',', out);
	put_str(out, "kernel", r->kernel);
	putc(',', out);
	put_str(out, "python", r->python);
	putc(',', out);
	put_str(out, "allocator_note", r->allocator_note);
	fputs(",\n", out);
	put_dbl(out, "time", r->unix_time);
	putc(',', out);
	put_dbl(out, "elapsed_s", r->elapsed_s);
	putc(',', out);
	put_dbl(out, "interval_s", r->interval_s);
	putc(',', out);
	put_dbl(out, "min_age_s", r->min_age_s);
	putc(',', out);
	put_bool(out, "final", r->final);
	putc(',', out);
	put_bool(out, "target_exited", r->target_exited);
	putc(',', out);
	put_key(out, "exit_status");
	if (r->target_exited && r->exit_status >= 0)
		fprintf(out, "%d", r->exit_status);
	else
		fputs("null", out);
	putc(',', out);
	put_u64(out, "execs", r->execs);
	fputs(",\n", out);
}

static void write_counts(const struct rm_report *r, FILE *out)
{
	const struct rm_counts *c = &r->counts;
	const struct rm_drops *d = &r->drops;

	fputs("\"counts\":{", out);
	put_u64(out, "allocs", c->allocs);
	putc(',', out);
	put_u64(out, "frees", c->frees);
	putc(',', out);
	put_u64(out, "frees_unknown", c->frees_unknown);
	putc(',', out);
	put_u64(out, "nested_ignored", c->nested_ignored);
	putc(',', out);
	put_u64(out, "filtered", c->filtered);
	fputs("},\n\"drops\":{", out);
	for (size_t i = 0; i < rm_drop_count; i++) {
		if (i)
			putc(',', out);
		put_u64(out, rm_drop_list[i].key, rm_drop_value(d, i));
	}
	fputs("},\n", out);
}

static void write_probes(const struct rm_report *r, FILE *out)
{
	fputs("\"probes\":[", out);
	for (size_t i = 0; i < r->nprobes; i++) {
		const struct rm_probe *p = &r->probes[i];

		fputs(i ? ",{" : "{", out);
		put_str(out, "name", p->name);
		putc(',', out);
		put_str(out, "module", p->module);
		putc(',', out);
		put_str(out, "status", p->status);
		putc('}', out);
	}
	fputs("],\n", out);
}

static void write_memory(const struct rm_report *r, FILE *out)
{
	fputs("\"rss\":{", out);
	put_u64(out, "bytes", r->rss_bytes);
	putc(',', out);
	put_i64(out, "growth_bytes", r->rss_growth_bytes);
	putc(',', out);
	put_u64(out, "at_attach", r->rss_at_attach);
	fputs("},\n\"totals\":{", out);
	put_u64(out, "outstanding_bytes", r->out_bytes);
	putc(',', out);
	put_u64(out, "outstanding_count", r->out_count);
	putc(',', out);
	put_i64(out, "growth_bytes", r->growth_bytes);
	fputs("},\n", out);
}

/* Growth mode: where the pages came from; keys are struct rm_growth's. */
static void write_growth(const struct rm_report *r, FILE *out)
{
	const struct rm_growth *g = &r->growth;
	if (r->mode != RM_MODE_GROWTH)
		return;
	fputs("\"growth\":{", out);
#define FIELD(f) put_u64(out, #f, g->f)
	FIELD(write_faults);
	putc(',', out);
	FIELD(pages_resident);
	putc(',', out);
	FIELD(pages_known);
	putc(',', out);
	FIELD(pages_released);
	putc(',', out);
	FIELD(pages_moved);
	putc(',', out);
	FIELD(pages_gone);
	putc(',', out);
	FIELD(file_faults);
	putc(',', out);
	FIELD(huge_pages);
	putc(',', out);
	FIELD(thread_stack_bytes);
	putc(',', out);
	FIELD(anon_rss);
	putc(',', out);
	FIELD(anon_rss_at_attach);
	putc(',', out);
	FIELD(windows);
	putc(',', out);
	put_dbl(out, "window_s", g->window_s);
	putc(',', out);
	put_dbl(out, "window_every_s", g->window_every_s);
	putc(',', out);
	FIELD(survivors);
	putc(',', out);
	FIELD(pages_sampled);
#undef FIELD
	fputs("},\n", out);
}

/* -a: the processes, ranked (keys are struct rm_process's). */
static void write_processes(const struct rm_report *r, FILE *out)
{
	if (!r->nprocesses)
		return;
	fputs("\"processes\":[", out);
	for (size_t i = 0; i < r->nprocesses; i++) {
		const struct rm_process *p = &r->processes[i];
		fputs(i ? ",\n{" : "\n{", out);
		put_i64(out, "pid", p->pid);
		putc(',', out);
		put_str(out, "comm", p->comm);
		putc(',', out);
		put_str(out, "python", p->python);
		putc(',', out);
		put_u64(out, "outstanding_bytes", p->out_bytes);
		putc(',', out);
		put_u64(out, "outstanding_count", p->out_count);
		putc(',', out);
		put_u64(out, "recent_bytes", p->recent_bytes);
		putc(',', out);
		put_u64(out, "anon_rss", p->anon_rss);
		putc(',', out);
		put_u64(out, "rss_bytes", p->rss_bytes);
		putc(',', out);
		put_u64(out, "drops_lost", p->drops_lost);
		putc(',', out);
		put_i64(out, "parent", p->parent);
		fprintf(out, ",\"exited\":%s", p->exited ? "true" : "false");
		putc(',', out);
		put_u64(out, "anon_rss_at_attach", p->anon_rss_at_attach);
		putc('}', out);
	}
	fputs("],\n", out);
}

static void write_flags(uint32_t flags, FILE *out)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	    {RM_STACK_NATIVE_TRUNC, "native_truncated"}, {RM_STACK_PY_TRUNC, "python_truncated"},
	    {RM_STACK_PY_MISSING, "python_missing"},	 {RM_STACK_OTHERS, "other_stacks"},
	    {RM_STACK_THREAD, "thread_stack"},		 {RM_STACK_SAMPLED, "sampled"},
	};
	bool first = true;

	fputs("\"flags\":[", out);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		if (!first)
			putc(',', out);
		json_put_string(out, names[i].name);
		first = false;
	}
	putc(']', out);
}

static void write_frame(const struct rm_frame *f, FILE *out)
{
	char text[RM_FRAME_TEXT_MAX];

	putc('{', out);
	put_str(out, "function", f->function);
	putc(',', out);
	put_str(out, "file", f->file);
	putc(',', out);
	put_i64(out, "line", f->line);
	putc(',', out);
	put_str(out, "module", f->module);
	putc(',', out);
	put_u64(out, "offset", f->offset);
	putc(',', out);
	put_str(out, "kind", f->kind == RM_FRAME_PYTHON ? "python" : "native");
	putc(',', out);
	if (f->inlined) { /* only where true: other frames read as before */
		put_bool(out, "inlined", true);
		putc(',', out);
	}
	put_str(out, "text", rm_frame_format(f, text, sizeof(text)));
	putc('}', out);
}

static void write_stack(const struct rm_stack *s, FILE *out)
{
	putc('{', out);
	put_u64(out, "id", s->id);
	putc(',', out);
	put_u64(out, "outstanding_bytes", s->out_bytes);
	putc(',', out);
	put_u64(out, "outstanding_count", s->out_count);
	putc(',', out);
	put_u64(out, "allocated_bytes", s->alloc_bytes);
	putc(',', out);
	put_u64(out, "allocated_count", s->alloc_count);
	putc(',', out);
	put_i64(out, "growth_bytes", s->growth_bytes);
	putc(',', out);
	put_i64(out, "growth_count", s->growth_count);
	putc(',', out);
	put_dbl(out, "first_seen_s", s->first_seen_s);
	putc(',', out);
	put_dbl(out, "last_seen_s", s->last_seen_s);
	putc(',', out);
	write_flags(s->flags, out);
	fputs(",\"frames\":[", out);
	for (unsigned i = 0; i < s->nframes; i++) {
		if (i)
			putc(',', out);
		write_frame(&s->frames[i], out);
	}
	fputs("]}", out);
}

int json_write(const struct rm_report *r, FILE *out)
{
	putc('{', out);
	write_meta(r, out);
	write_counts(r, out);
	write_probes(r, out);
	write_memory(r, out);
	/* only in a file bounded by --output-stacks: readers of older files
	 * see the same document as before */
	if (r->other_stacks) {
		put_u64(out, "other_stacks", r->other_stacks);
		fputs(",\n", out);
	}
	write_growth(r, out);
	write_processes(r, out);
	fputs("\"stacks\":[", out);
	for (size_t i = 0; i < r->nstacks; i++) {
		fputs(i ? ",\n" : "\n", out);
		write_stack(&r->stacks[i], out);
	}
	fputs("\n]}\n", out);
	return stream_finish(out);
}
