// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The table of one `leakbpf objects` census. Names come escaped from the
 * census; they are printed last on their line, so any length aligns. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "out/objects.h"
#include "util/fmt.h"
#include "util/outfile.h"

/* 1234567 -> "1,234,567"; with a sign when `sign`. */
static const char *num(int64_t v, bool sign, char *buf, size_t len)
{
	char digits[32];
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, a);
	size_t o = 0;
	if (v < 0)
		buf[o++] = '-';
	else if (sign)
		buf[o++] = '+';
	for (int i = 0; i < n && o + 2 < len; i++) {
		buf[o++] = digits[i];
		if ((n - i - 1) % 3 == 0 && i != n - 1)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

static void header(const struct obj_report *r, const struct obj_census *c, FILE *out)
{
	char when[32], a[32], b[32], x[32], y[32];
	time_t t = (time_t)c->time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(out, "[%s] leakbpf objects: pid %d (%s), %s, census %zu%s\n", when, r->pid, r->comm,
		r->python ? r->python : "CPython", r->ncensuses + (size_t)r->censuses_dropped,
		r->final ? ", final" : "");
	fprintf(out, "census: %s objects (%s tracked by the collector) in %.2f s, CPU %.2f s, ",
		num((int64_t)c->objects, false, a, sizeof(a)),
		num((int64_t)c->gc_objects, false, b, sizeof(b)), c->duration_s, c->cpu_s);
	fprintf(out, "%s read in %s reads; ", human_bytes((double)c->bytes_read, x, sizeof(x)),
		num((int64_t)c->syscalls, false, y, sizeof(y)));
	if (r->paused)
		fprintf(out, "target paused %.3f s\n", c->paused_s);
	else
		fprintf(out, "target not paused\n");
}

static void totals(const struct obj_report *r, const struct obj_census *c, FILE *out)
{
	char a[32], b[32], d[32], e[32], f[32];
	fprintf(out, "python heap: %s in %s objects", human_bytes((double)r->bytes, a, sizeof(a)),
		num((int64_t)r->count, false, b, sizeof(b)));
	if (r->ncensuses > 1)
		fprintf(out, " (%s, %s objects since the first census; %s since the previous)",
			signed_bytes(r->bytes_growth, d, sizeof(d)),
			num(r->count_growth, true, e, sizeof(e)),
			signed_bytes(r->bytes_delta, f, sizeof(f)));
	fprintf(out, "\ntarget RSS: %s", human_bytes((double)c->rss, a, sizeof(a)));
	if (r->ncensuses > 1)
		fprintf(out, " (%s since the first census)",
			signed_bytes(r->rss_growth, b, sizeof(b)));
	fputc('\n', out);
	if (r->native_growth)
		fprintf(out,
			"native growth: RSS grew %s since the first census while the Python heap "
			"grew %s: the memory grows outside the Python heap (C extensions, ctypes, "
			"native libraries); `leakbpf -p %d` finds the allocating stacks\n",
			signed_bytes(r->rss_growth, a, sizeof(a)),
			signed_bytes(r->bytes_growth, b, sizeof(b)), r->pid);
	fprintf(out,
		"reads: %s torn (containers that changed while read, after %s re-reads), %s "
		"invalid references",
		num((int64_t)r->torn, false, a, sizeof(a)),
		num((int64_t)r->retries, false, b, sizeof(b)),
		num((int64_t)r->invalid, false, d, sizeof(d)));
	if (r->lists_cut)
		fprintf(out, ", %s collector lists cut short",
			num((int64_t)r->lists_cut, false, e, sizeof(e)));
	if (r->truncated)
		fprintf(out, ", %s objects or items not read (limits)",
			num((int64_t)r->truncated, false, f, sizeof(f)));
	fputc('\n', out);
}

static void types(const struct obj_report *r, FILE *out, unsigned top)
{
	char a[32], b[32], c[32], d[32], e[32], f[32];
	bool growth = r->ncensuses > 1;
	fputc('\n', out);
	if (growth)
		fprintf(out, "%12s %12s %10s %11s %12s %12s  %s\n", "count", "since first",
			"previous", "bytes", "since first", "previous", "type (by growth)");
	else
		fprintf(out, "%12s %11s  %s\n", "count", "bytes", "type (by bytes)");
	for (size_t i = 0; i < r->ntypes && i < top; i++) {
		const struct obj_type_row *t = &r->types[i];
		if (growth)
			fprintf(out, "%12s %12s %10s %11s %12s %12s  %s\n",
				num((int64_t)t->count, false, a, sizeof(a)),
				num(t->count_growth, true, b, sizeof(b)),
				num(t->count_delta, true, c, sizeof(c)),
				human_bytes((double)t->bytes, d, sizeof(d)),
				signed_bytes(t->bytes_growth, e, sizeof(e)),
				signed_bytes(t->bytes_delta, f, sizeof(f)), t->type);
		else
			fprintf(out, "%12s %11s  %s\n", num((int64_t)t->count, false, a, sizeof(a)),
				human_bytes((double)t->bytes, d, sizeof(d)), t->type);
	}
	if (r->ntypes > top)
		fprintf(out, "%12s more types\n",
			num((int64_t)(r->ntypes - top), false, a, sizeof(a)));
}

static void holders(const struct obj_report *r, FILE *out)
{
	char a[32], b[32], c[32];
	if (r->ncensuses < 2)
		return;
	fprintf(out, "\nholders of what grows (items, since the first census, previous):\n");
	if (!r->nholders)
		fprintf(out, "  none: no container's item count grew with the types that grow\n");
	for (size_t i = 0; i < r->nholders; i++) {
		const struct obj_holder *h = &r->holders[i];
		fprintf(out, "%12s %12s %10s  %s  (%s%s)\n",
			num((int64_t)h->items, false, a, sizeof(a)),
			num(h->items_growth, true, b, sizeof(b)),
			num(h->items_delta, true, c, sizeof(c)), h->path, h->container,
			h->new_container ? ", new" : "");
		fprintf(out, "%37s  holds", "");
		for (size_t k = 0; k < h->nitem_types; k++)
			fprintf(out, "%s %s %s", k ? "," : "",
				num((int64_t)h->item_types[k].count, false, a, sizeof(a)),
				h->item_types[k].type);
		fputc('\n', out);
	}
}

static void unreachable(const struct obj_report *r, FILE *out)
{
	const struct obj_unreachable *u = &r->unreachable;
	char a[32], b[32];
	fputc('\n', out);
	if (!u->computed) {
		fprintf(out, "unreachable: not computed (%s)\n", u->why_not ? u->why_not : "?");
		return;
	}
	fprintf(out,
		"unreachable (cycles nothing outside references, as the collector would find "
		"them): %s objects, %s\n",
		num((int64_t)u->count, false, a, sizeof(a)),
		human_bytes((double)u->bytes, b, sizeof(b)));
	for (size_t i = 0; i < u->ntypes && i < 10; i++)
		fprintf(out, "%12s %11s  %s\n",
			num((int64_t)u->types[i].count, false, a, sizeof(a)),
			human_bytes((double)u->types[i].bytes, b, sizeof(b)), u->types[i].type);
}

static void gc(const struct obj_report *r, FILE *out)
{
	const struct obj_gc *g = &r->gc;
	char a[32], b[32], c[32], d[32];
	if (!g->known)
		return;
	fprintf(out,
		"collector: %s%s, thresholds %d/%d/%d, counts %d/%d/%d; objects per list %s/%s/%s, "
		"permanent %s",
		g->enabled ? "enabled" : "DISABLED (gc.disable())",
		g->collecting ? " (collecting now)" : "", g->thresholds[0], g->thresholds[1],
		g->thresholds[2], g->counts[0], g->counts[1], g->counts[2],
		num((int64_t)g->objects[0], false, a, sizeof(a)),
		num((int64_t)g->objects[1], false, b, sizeof(b)),
		num((int64_t)g->objects[2], false, c, sizeof(c)),
		num((int64_t)g->objects[3], false, d, sizeof(d)));
	if (r->opaque_gc)
		fprintf(out, "; %s of them of types whose references are not read",
			num((int64_t)r->opaque_gc, false, a, sizeof(a)));
	fputc('\n', out);
}

int objects_table_write(const struct obj_report *r, FILE *out, unsigned top)
{
	if (!r->ncensuses)
		return 0;
	const struct obj_census *c = &r->censuses[r->ncensuses - 1];
	header(r, c, out);
	totals(r, c, out);
	types(r, out, top);
	holders(r, out);
	unreachable(r, out);
	gc(r, out);
	fputc('\n', out);
	fflush(out);
	return stream_finish(out);
}
