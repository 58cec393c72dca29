// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `leakbpf objects --json`: schema "leakbpf/objects/v1" (doc/json-schema.md).
 * One type, holder or census per line keeps large files greppable. */
#include <inttypes.h>
#include "out/objects.h"
#include "util/json.h"
#include "util/outfile.h"

/* Members are written as `sep "key":value`; sep is "" for the first. */
static void key(FILE *out, const char *sep, const char *k)
{
	fputs(sep, out);
	json_put_string(out, k);
	putc(':', out);
}

static void u64(FILE *out, const char *sep, const char *k, uint64_t v)
{
	key(out, sep, k);
	fprintf(out, "%" PRIu64, v);
}

static void i64(FILE *out, const char *sep, const char *k, int64_t v)
{
	key(out, sep, k);
	fprintf(out, "%" PRId64, v);
}

static void dbl(FILE *out, const char *sep, const char *k, double v)
{
	key(out, sep, k);
	json_put_double(out, v);
}

static void str(FILE *out, const char *sep, const char *k, const char *v)
{
	key(out, sep, k);
	json_put_string(out, v);
}

static void boolean(FILE *out, const char *sep, const char *k, bool v)
{
	key(out, sep, k);
	fputs(v ? "true" : "false", out);
}

static void census(FILE *out, const struct obj_census *c)
{
	dbl(out, "{", "time", c->time);
	dbl(out, ",", "duration_s", c->duration_s);
	dbl(out, ",", "cpu_s", c->cpu_s);
	dbl(out, ",", "paused_s", c->paused_s);
	u64(out, ",", "rss", c->rss);
	u64(out, ",", "objects", c->objects);
	u64(out, ",", "gc_objects", c->gc_objects);
	u64(out, ",", "bytes", c->bytes);
	u64(out, ",", "torn", c->torn);
	u64(out, ",", "retries", c->retries);
	u64(out, ",", "invalid", c->invalid);
	u64(out, ",", "truncated", c->truncated);
	u64(out, ",", "lists_cut", c->lists_cut);
	u64(out, ",", "bytes_read", c->bytes_read);
	u64(out, ",", "reads", c->syscalls);
	u64(out, ",", "memory", c->mem_bytes);
	putc('}', out);
}

static void types(FILE *out, const struct obj_report *r)
{
	key(out, ",\n", "types");
	putc('[', out);
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct obj_type_row *t = &r->types[i];
		str(out, i ? ",\n{" : "\n{", "type", t->type);
		u64(out, ",", "count", t->count);
		u64(out, ",", "bytes", t->bytes);
		i64(out, ",", "count_growth", t->count_growth);
		i64(out, ",", "bytes_growth", t->bytes_growth);
		i64(out, ",", "count_delta", t->count_delta);
		i64(out, ",", "bytes_delta", t->bytes_delta);
		putc('}', out);
	}
	putc(']', out);
}

static void holders(FILE *out, const struct obj_report *r)
{
	char addr[32];
	key(out, ",\n", "holders");
	putc('[', out);
	for (size_t i = 0; i < r->nholders; i++) {
		const struct obj_holder *h = &r->holders[i];
		str(out, i ? ",\n{" : "\n{", "path", h->path);
		str(out, ",", "container", h->container);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, h->addr);
		str(out, ",", "address", addr);
		u64(out, ",", "items", h->items);
		i64(out, ",", "items_growth", h->items_growth);
		i64(out, ",", "items_delta", h->items_delta);
		boolean(out, ",", "new", h->new_container);
		u64(out, ",", "growing_items", h->growing_items);
		key(out, ",", "item_types");
		putc('{', out);
		for (size_t k = 0; k < h->nitem_types; k++)
			u64(out, k ? "," : "", h->item_types[k].type, h->item_types[k].count);
		fputs("}}", out);
	}
	putc(']', out);
}

static void unreachable(FILE *out, const struct obj_report *r)
{
	const struct obj_unreachable *u = &r->unreachable;
	key(out, ",\n", "unreachable");
	boolean(out, "{", "computed", u->computed);
	if (!u->computed) {
		str(out, ",", "why_not", u->why_not);
		putc('}', out);
		return;
	}
	u64(out, ",", "count", u->count);
	u64(out, ",", "bytes", u->bytes);
	u64(out, ",", "candidates", u->candidates);
	key(out, ",", "types");
	putc('{', out);
	for (size_t k = 0; k < u->ntypes; k++)
		u64(out, k ? "," : "", u->types[k].type, u->types[k].count);
	putc('}', out);
	key(out, ",", "type_bytes");
	putc('{', out);
	for (size_t k = 0; k < u->ntypes; k++)
		u64(out, k ? "," : "", u->types[k].type, u->types[k].bytes);
	fputs("}}", out);
}

static void ints(FILE *out, const int *v, size_t n)
{
	putc('[', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? "," : "", v[i]);
	putc(']', out);
}

static void gc(FILE *out, const struct obj_report *r)
{
	const struct obj_gc *g = &r->gc;
	key(out, ",\n", "gc");
	if (!g->known) {
		fputs("null", out);
		return;
	}
	boolean(out, "{", "enabled", g->enabled);
	boolean(out, ",", "collecting", g->collecting);
	key(out, ",", "thresholds");
	ints(out, g->thresholds, 3);
	key(out, ",", "counts");
	ints(out, g->counts, 3);
	key(out, ",", "objects");
	fprintf(out, "[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", g->objects[0],
		g->objects[1], g->objects[2], g->objects[3]);
	putc('}', out);
}

int objects_json_write(const struct obj_report *r, FILE *out)
{
	const struct obj_census *last = r->ncensuses ? &r->censuses[r->ncensuses - 1] : NULL;
	str(out, "{", "schema", "leakbpf/objects/v1");
	str(out, ",", "leakbpf_version", r->leakbpf_version);
	i64(out, ",", "pid", r->pid);
	str(out, ",", "comm", r->comm);
	str(out, ",", "cmdline", r->cmdline);
	str(out, ",", "python", r->python);
	dbl(out, ",", "interval_s", r->interval_s);
	boolean(out, ",", "paused", r->paused);
	boolean(out, ",", "final", r->final);
	key(out, ",\n", "censuses");
	putc('[', out);
	for (size_t i = 0; i < r->ncensuses; i++) {
		fputs(i ? ",\n" : "\n", out);
		census(out, &r->censuses[i]);
	}
	putc(']', out);
	u64(out, ",\n", "censuses_dropped", r->censuses_dropped);
	u64(out, ",", "count", r->count);
	u64(out, ",", "bytes", r->bytes);
	i64(out, ",", "count_growth", r->count_growth);
	i64(out, ",", "bytes_growth", r->bytes_growth);
	u64(out, ",", "rss", last ? last->rss : 0);
	i64(out, ",", "rss_growth", r->rss_growth);
	boolean(out, ",", "native_growth", r->native_growth);
	key(out, ",\n", "reads");
	u64(out, "{", "torn", r->torn);
	u64(out, ",", "retries", r->retries);
	u64(out, ",", "invalid", r->invalid);
	u64(out, ",", "truncated", r->truncated);
	u64(out, ",", "lists_cut", r->lists_cut);
	u64(out, ",", "opaque_gc", r->opaque_gc);
	u64(out, ",", "bad_types", r->bad_types);
	u64(out, ",", "max_objects", r->max_objects);
	putc('}', out);
	gc(out, r);
	unreachable(out, r);
	holders(out, r);
	types(out, r);
	fputs("}\n", out);
	fflush(out);
	return stream_finish(out);
}
