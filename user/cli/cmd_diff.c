// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `leakbpf diff A B`: what grew between two snapshots, like tracemalloc's
 * Snapshot.compare_to. Stacks are matched by their frame texts, since ids
 * are only stable within one run (and snapshots may come from two runs).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/commands.h"
#include "out/registry.h"
#include "out/table.h"
#include "snapshot/snapshot.h"
#include "util/array.h"
#include "util/escape.h"
#include "util/fmt.h"
#include "util/intern.h"
#include "util/json.h"
#include "util/outfile.h"

/* Frames printed per stack; the rest are summarised (as in the table). */
#define DIFF_MAX_FRAMES 16

static const char diff_usage[] =
    "Usage: leakbpf diff SNAPSHOT_A SNAPSHOT_B [-T N] [--json FILE|-]\n"
    "\n"
    "Show the stacks whose outstanding bytes grew most from snapshot A to B,\n"
    "and the target's RSS growth between them.\n"
    "\n"
    "  -T, --top N        stacks shown (default 10)\n"
    "      --json FILE|-  write every changed stack as JSON (schema leakbpf/diff/v1)\n"
    "  -h, --help         this help\n";

/* One stack, by frame texts, in both snapshots. */
struct diff_entry {
	const struct rm_stack *stack; /* from B when there, else from A */
	uint64_t a_bytes, a_count, b_bytes, b_count;
	int64_t growth_bytes, growth_count;
};

struct diff {
	const struct rm_report *a, *b;
	const char *path_a, *path_b;
	struct interner *keys;
	struct diff_entry *e; /* by key index */
	size_t n, cap;
};

/* Frame texts joined by NUL bytes: the identity of a stack across runs.
 * The sum of the stacks a bounded file left out is one stack whatever
 * their number. */
static char *stack_key(const struct rm_stack *s, size_t *len)
{
	size_t cap = 0, n = 0;
	char *key = NULL, text[1024];

	if (s->flags & RM_STACK_OTHERS) {
		*len = sizeof("[other stacks]");
		return strdup("[other stacks]");
	}
	for (unsigned i = 0; i < s->nframes; i++) {
		size_t l = strlen(rm_frame_format(&s->frames[i], text, sizeof(text))) + 1;

		if (ARRAY_RESERVE(key, cap, n + l)) {
			free(key);
			return NULL;
		}
		memcpy(key + n, text, l);
		n += l;
	}
	*len = n;
	return key ? key : strdup("");
}

static int add_report(struct diff *d, const struct rm_report *r, bool is_b)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct rm_stack *s = &r->stacks[i];
		size_t len;
		char *key = stack_key(s, &len);
		bool added;
		long idx = key ? interner_add(d->keys, key, len, &added) : -1;
		struct diff_entry *e;

		free(key);
		if (idx < 0)
			return -1;
		if (added) {
			if (ARRAY_RESERVE(d->e, d->cap, d->n + 1))
				return -1;
			memset(&d->e[d->n++], 0, sizeof(*d->e));
		}
		e = &d->e[idx];
		/* stacks that print alike in one snapshot are summed */
		if (is_b) {
			e->b_bytes += s->out_bytes;
			e->b_count += s->out_count;
		} else {
			e->a_bytes += s->out_bytes;
			e->a_count += s->out_count;
		}
		if (!e->stack || is_b)
			e->stack = s;
	}
	return 0;
}

static int by_growth(const void *pa, const void *pb)
{
	const struct diff_entry *a = pa, *b = pb;

	if (a->growth_bytes != b->growth_bytes)
		return a->growth_bytes > b->growth_bytes ? -1 : 1;
	if (a->growth_count != b->growth_count)
		return a->growth_count > b->growth_count ? -1 : 1;
	if (a->b_bytes != b->b_bytes)
		return a->b_bytes > b->b_bytes ? -1 : 1;
	return 0;
}

/* Drop unchanged stacks and sort the rest, largest growth first. */
static void rank(struct diff *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct diff_entry *e = &d->e[i];

		e->growth_bytes = (int64_t)(e->b_bytes - e->a_bytes);
		e->growth_count = (int64_t)(e->b_count - e->a_count);
		if (e->growth_bytes || e->growth_count)
			d->e[k++] = *e;
	}
	d->n = k;
	qsort(d->e, d->n, sizeof(*d->e), by_growth);
}

static const char *clock_of(double unix_time, char *buf, size_t len)
{
	time_t t = (time_t)unix_time;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void print_header(const struct diff *d, FILE *out)
{
	const struct rm_report *a = d->a, *b = d->b;
	char t1[32], t2[32], b1[32], b2[32], b3[32];

	fprintf(out, "leakbpf diff: pid %d (", b->pid);
	escape_put(out, b->comm ? b->comm : "?", NULL);
	fputs(")\n  A: ", out);
	escape_put(out, d->path_a, NULL);
	fprintf(out, ", %s, %.1f s traced\n  B: ", clock_of(a->unix_time, t1, 32), a->elapsed_s);
	escape_put(out, d->path_b, NULL);
	fprintf(out, ", %s, %.1f s traced (%.1f s later)\n", clock_of(b->unix_time, t2, 32),
		b->elapsed_s, b->unix_time - a->unix_time);
	if (a->pid != b->pid)
		fprintf(out, "note: A is pid %d, B is pid %d: comparing different processes\n",
			a->pid, b->pid);
	if (b->unix_time < a->unix_time)
		fputs("note: A is newer than B: growth is shown from A to B\n", out);
	fprintf(out,
		"outstanding: %s in %" PRIu64 " blocks -> %s in %" PRIu64 " blocks (%s, %+" PRId64
		" blocks)\n",
		human_bytes((double)a->out_bytes, b1, 32), a->out_count,
		human_bytes((double)b->out_bytes, b2, 32), b->out_count,
		signed_bytes((int64_t)(b->out_bytes - a->out_bytes), b3, 32),
		(int64_t)(b->out_count - a->out_count));
	if (a->rss_bytes && b->rss_bytes)
		fprintf(out, "target RSS: %s -> %s (%s)\n",
			human_bytes((double)a->rss_bytes, b1, 32),
			human_bytes((double)b->rss_bytes, b2, 32),
			signed_bytes((int64_t)(b->rss_bytes - a->rss_bytes), b3, 32));
	else
		fputs("target RSS: unknown in one snapshot (target gone)\n", out);
	/* what each snapshot could not see bounds what the diff can say */
	fputs("A ", out);
	table_print_drops(&a->drops, out);
	fputs("B ", out);
	table_print_drops(&b->drops, out);
}

static void print_diff(const struct diff *d, unsigned top, FILE *out)
{
	char b1[32], b2[32];
	unsigned shown = 0;
	int64_t rest_bytes = 0, shrunk_bytes = 0;
	size_t rest = 0, shrunk = 0;

	print_header(d, out);
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_entry *e = &d->e[i];
		const struct rm_stack *s = e->stack;

		if (e->growth_bytes < 0 || (e->growth_bytes == 0 && e->growth_count < 0)) {
			shrunk++;
			shrunk_bytes += e->growth_bytes;
			continue;
		}
		if (shown == top) {
			rest++;
			rest_bytes += e->growth_bytes;
			continue;
		}
		shown++;
		fprintf(out, "\n#%u %s (%+" PRId64 " blocks) to %s in %" PRIu64 " blocks%s\n",
			shown, signed_bytes(e->growth_bytes, b1, 32), e->growth_count,
			human_bytes((double)e->b_bytes, b2, 32), e->b_count,
			e->a_count ? "" : " (new)");
		unsigned n = s->nframes, show = n > DIFF_MAX_FRAMES ? DIFF_MAX_FRAMES : n;
		for (unsigned k = 0; k < show; k++) /* leaf first, like the table */
			table_print_frame(&s->frames[n - 1 - k], out);
		if (show < n)
			fprintf(out, "    ... %u more frames toward the root\n", n - show);
	}
	if (!shown)
		fputs("\nno stack grew\n", out);
	if (rest)
		fprintf(out, "\n... %zu more stacks grew by %s in total (-T to see more)\n", rest,
			signed_bytes(rest_bytes, b1, 32));
	if (shrunk)
		fprintf(out, "%s%zu stacks shrank by %s in total\n", rest ? "" : "\n", shrunk,
			signed_bytes(shrunk_bytes, b1, 32));
	fflush(out);
}

static void put_side(FILE *out, const char *name, const char *path, const struct rm_report *r)
{
	fprintf(out, "\"%s\":{\"path\":", name);
	json_put_string(out, path);
	fprintf(out, ",\"pid\":%d,\"time\":", r->pid);
	json_put_double(out, r->unix_time);
	fputs(",\"elapsed_s\":", out);
	json_put_double(out, r->elapsed_s);
	fprintf(out,
		",\"outstanding_bytes\":%" PRIu64 ",\"outstanding_count\":%" PRIu64
		",\"rss_bytes\":%" PRIu64 "}",
		r->out_bytes, r->out_count, r->rss_bytes);
}

static int write_json(const struct diff *d, FILE *out)
{
	char fb[1024];

	fputs("{\"schema\":\"leakbpf/diff/v1\",", out);
	put_side(out, "a", d->path_a, d->a);
	putc(',', out);
	put_side(out, "b", d->path_b, d->b);
	fputs(",\n\"interval_s\":", out);
	json_put_double(out, d->b->unix_time - d->a->unix_time);
	fprintf(out,
		",\"growth_bytes\":%" PRId64 ",\"growth_count\":%" PRId64
		",\"rss_growth_bytes\":%" PRId64 ",\n\"stacks\":[",
		(int64_t)(d->b->out_bytes - d->a->out_bytes),
		(int64_t)(d->b->out_count - d->a->out_count),
		(int64_t)(d->b->rss_bytes - d->a->rss_bytes));
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_entry *e = &d->e[i];

		fprintf(out,
			"%s{\"growth_bytes\":%" PRId64 ",\"growth_count\":%" PRId64
			",\"outstanding_bytes\":%" PRIu64 ",\"outstanding_count\":%" PRIu64
			",\"previous_bytes\":%" PRIu64 ",\"previous_count\":%" PRIu64
			",\"frames\":[",
			i ? ",\n" : "\n", e->growth_bytes, e->growth_count, e->b_bytes, e->b_count,
			e->a_bytes, e->a_count);
		for (unsigned k = 0; k < e->stack->nframes; k++) {
			if (k)
				putc(',', out);
			json_put_string(out, rm_frame_format(&e->stack->frames[k], fb, sizeof(fb)));
		}
		fputs("]}", out);
	}
	fputs("\n]}\n", out);
	return stream_finish(out);
}

static int write_json_ctx(const void *d, FILE *out)
{
	return write_json(d, out);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, 'T'},
	    {"json", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct diff d = {0};
	const char *json = NULL;
	unsigned top = 10;
	char err[512];
	int c, rc = 1;

	optind = 0; /* getopt state starts afresh for the subcommand */
	while ((c = getopt_long(argc, argv, ":T:h", longopts, NULL)) != -1) {
		if (c == 'T') {
			if (!(top = cmd_parse_top(optarg))) {
				fputs("Try 'leakbpf diff --help'.\n", stderr);
				return 2;
			}
		} else if (c == 'j') {
			json = optarg;
		} else if (c == 'h') {
			fputs(diff_usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "leakbpf diff: %s %s\n",
				c == ':' ? "missing argument to" : "unknown option",
				argv[optind - 1]);
			fputs("Try 'leakbpf diff --help'.\n", stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fputs("leakbpf diff: needs two snapshots, A (older) and B (newer)\n"
		      "Try 'leakbpf diff --help'.\n",
		      stderr);
		return 2;
	}
	d.path_a = argv[optind];
	d.path_b = argv[optind + 1];
	if (!(d.a = snapshot_load(d.path_a, err, sizeof(err))) ||
	    !(d.b = snapshot_load(d.path_b, err, sizeof(err)))) {
		fprintf(stderr, "leakbpf: %s\n", err);
		goto out;
	}
	d.keys = interner_new();
	if (!d.keys || add_report(&d, d.a, false) || add_report(&d, d.b, true)) {
		fprintf(stderr, "leakbpf: out of memory\n");
		goto out;
	}
	rank(&d);
	if (!json || strcmp(json, "-"))
		print_diff(&d, top, stdout);
	rc = json && out_write_file(json, "diff", write_json_ctx, &d) ? 1 : 0;
out:
	interner_free(d.keys);
	free(d.e);
	snapshot_report_free((struct rm_report *)d.a);
	snapshot_report_free((struct rm_report *)d.b);
	return rc;
}
