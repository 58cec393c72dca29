// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Self-contained interactive SVG flame graph of outstanding bytes.
 *
 * Stacks are merged into a tree (root "all" at the bottom, children sorted
 * by name like flamegraph.pl), widths proportional to bytes. Each drawn
 * frame is `<g class="fg" data-s=START data-b=BYTES data-d=DEPTH>` holding a
 * <title> (first line: the frame name), one `<rect class="f">` and a <text>.
 * Every other rectangle has another class. The embedded script adds zoom
 * (click), search (button, Ctrl-F, regex) and a details line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "out/formats.h"
#include "util/array.h"
#include "util/fmt.h"
#include "util/hash.h"
#include "util/utf8.h"
#include "util/outfile.h"

#define FG_WIDTH     1200  /* total image width, px */
#define FG_XPAD	     10	   /* left/right margin, px */
#define FG_FRAME_H   16	   /* row height, px (rect is 1px less) */
#define FG_TOP	     84	   /* header height, px */
#define FG_BOTTOM    34	   /* footer height, px */
#define FG_FONT	     12	   /* frame label font size, px */
#define FG_MIN_PX    0.1   /* frames narrower than this are not drawn */
#define FG_MAX_BOXES 20000 /* hard cap on drawn frames: bounds the file size */
#define FG_LABEL_MAX 1024  /* longest frame label kept (as the folded output) */

/* One stack's frame labels, kept so stacks can be sorted by name. */
struct fg_path {
	const struct rm_stack *st;
	unsigned n;    /* labels: st->nframes, or 1 ("[unknown]") for none */
	char **labels; /* root first */
};

/* Like the folded output, a stack without frames shows as "[unknown]". */
static enum rm_frame_kind path_kind(const struct fg_path *p, unsigned i)
{
	return p->st->nframes ? p->st->frames[i].kind : RM_FRAME_NATIVE;
}

static const char *path_function(const struct fg_path *p, unsigned i)
{
	const char *fn = p->st->nframes ? p->st->frames[i].function : NULL;

	return fn ? fn : p->labels[i];
}

/* A node of the merged tree, stored in pre-order (the order a sorted walk
 * creates them in), so layout needs no child lists. */
struct fg_node {
	const char *name;
	uint64_t hash; /* colour seed, from the function name */
	uint64_t bytes;
	uint64_t count;
	uint64_t start; /* bytes left of this node within the root */
	unsigned depth; /* root is 0 */
	enum rm_frame_kind kind;
	bool drawn;
};

struct fg_tree {
	struct fg_node *v;
	size_t n, cap;
	unsigned max_depth;
};

/* What the draw pass needs to know besides the tree. */
struct fg_view {
	uint64_t total;
	size_t drawn;
	size_t omitted;
	unsigned max_depth; /* deepest drawn row */
	int height;
};

/* Colour seed of a frame: FNV-1a of its function name. */
static uint64_t name_hash(const char *s)
{
	return hash_bytes(HASH_SEED, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s that encodes a character XML 1.0
 * allows in text, or 0 when it is not one. Control characters (C0, DEL,
 * C1) and the characters that reorder text (bidi) are excluded on
 * purpose: the name is the first line of the tooltip, and a label must
 * read as the frame is. */
static size_t xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	int n = utf8_seq_len((const char *)s, &cp);

	if (!n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff ||
	    utf8_reorders(cp))
		return 0;
	return n;
}

/* Bytes of s that one '?' stands for when xml_char_len(s) is 0: a whole
 * character refused, or one invalid byte. */
static size_t refused_len(const unsigned char *s)
{
	int n = utf8_seq_len((const char *)s, NULL);
	return n ? n : 1;
}

/* Number of characters xml_text() would print for s. */
static size_t text_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, len;

	while (*p) {
		len = xml_char_len(p);
		p += len ? len : refused_len(p);
		n++;
	}
	return n;
}

/* Write at most max characters of s as XML text; anything XML cannot carry
 * or a label must not show (invalid UTF-8, control characters, bidi
 * formatting) becomes '?'. */
static void xml_text(FILE *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;

	for (; *p && max; max--) {
		len = xml_char_len(p);
		if (!len) {
			fputc('?', out);
			p += refused_len(p);
			continue;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			fwrite(p, 1, len, out);
		}
		p += len;
	}
}

/* Fixed point with 2 decimals, by hand: printf("%f") follows LC_NUMERIC
 * and a decimal comma would break the SVG. Clamped so that the conversion
 * below stays defined (NaN, negative or absurd inputs). */
static void put_fixed2(FILE *out, double v)
{
	unsigned long long c;

	if (!(v > 0))
		v = 0;
	if (v > 1e15)
		v = 1e15;
	c = (unsigned long long)(v * 100.0 + 0.5);

	fprintf(out, "%llu.%02llu", c / 100, c % 100);
}

static void put_percent(FILE *out, uint64_t part, uint64_t total)
{
	put_fixed2(out, total ? 100.0 * (double)part / (double)total : 0.0);
	fputc('%', out);
}

static void paths_free(struct fg_path *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned j = 0; p[i].labels && j < p[i].n; j++)
			free(p[i].labels[j]);
		free(p[i].labels);
	}
	free(p);
}

/* Format the labels of every stack with outstanding bytes. */
static struct fg_path *paths_make(const struct rm_report *r, size_t *np)
{
	struct fg_path *p = calloc(r->nstacks ? r->nstacks : 1, sizeof(*p));
	char buf[FG_LABEL_MAX];
	size_t n = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct rm_stack *st = &r->stacks[i];

		if (!st->out_bytes)
			continue;
		p[n].st = st;
		p[n].n = st->nframes ? st->nframes : 1;
		p[n].labels = calloc(p[n].n, sizeof(char *));
		n++;
		if (!p[n - 1].labels)
			goto fail;
		for (unsigned j = 0; j < p[n - 1].n; j++) {
			snprintf(buf, sizeof(buf), "[unknown]");
			if (st->nframes)
				rm_frame_format(&st->frames[j], buf, sizeof(buf));
			p[n - 1].labels[j] = strdup(buf);
			if (!p[n - 1].labels[j])
				goto fail;
		}
	}
	*np = n;
	return p;
fail:
	paths_free(p, n);
	errno = ENOMEM;
	return NULL;
}

/* Frame-wise name order; ids break ties so the output is deterministic. */
static int path_cmp(const void *a, const void *b)
{
	const struct fg_path *x = a, *y = b;
	unsigned nx = x->n, ny = y->n;
	int c;

	for (unsigned i = 0; i < nx && i < ny; i++) {
		c = strcmp(x->labels[i], y->labels[i]);
		if (c)
			return c;
		c = (int)path_kind(x, i) - (int)path_kind(y, i);
		if (c)
			return c;
	}
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return x->st->id < y->st->id ? -1 : x->st->id > y->st->id;
}

/* Frames two consecutive sorted paths share from the root. */
static unsigned common_prefix(const struct fg_path *a, const struct fg_path *b)
{
	unsigned i = 0;

	while (i < a->n && i < b->n && !strcmp(a->labels[i], b->labels[i]) &&
	       path_kind(a, i) == path_kind(b, i))
		i++;
	return i;
}

static int tree_push(struct fg_tree *t, const char *name, uint64_t hash, unsigned depth,
		     enum rm_frame_kind kind)
{
	if (ARRAY_RESERVE(t->v, t->cap, t->n + 1))
		return -1;
	t->v[t->n] = (struct fg_node){.name = name, .hash = hash, .depth = depth, .kind = kind};
	if (depth > t->max_depth)
		t->max_depth = depth;
	t->n++;
	return 0;
}

/* Merge sorted paths into a pre-order node array: a path reuses the nodes
 * of the prefix it shares with the previous one and appends the rest. */
static int tree_build(struct fg_tree *t, const struct fg_path *p, size_t np)
{
	unsigned maxf = 0;
	size_t *open;

	for (size_t i = 0; i < np; i++)
		if (p[i].n > maxf)
			maxf = p[i].n;
	open = calloc(maxf + 1, sizeof(*open));
	if (!open || tree_push(t, "all", 0, 0, RM_FRAME_NATIVE))
		goto fail;
	for (size_t i = 0; i < np; i++) {
		const struct rm_stack *st = p[i].st;
		unsigned c = i ? common_prefix(&p[i - 1], &p[i]) : 0;

		t->v[0].bytes += st->out_bytes;
		t->v[0].count += st->out_count;
		for (unsigned d = 1; d <= p[i].n; d++) {
			if (d > c) {
				if (tree_push(t, p[i].labels[d - 1],
					      name_hash(path_function(&p[i], d - 1)), d,
					      path_kind(&p[i], d - 1)))
					goto fail;
				open[d] = t->n - 1;
			}
			t->v[open[d]].bytes += st->out_bytes;
			t->v[open[d]].count += st->out_count;
		}
	}
	free(open);
	return 0;
fail:
	free(open);
	errno = ENOMEM;
	return -1;
}

/* Start offsets: in pre-order a node's children begin where it begins and
 * siblings follow each other; cursor[d] is the next free offset on row d. */
static int tree_layout(struct fg_tree *t)
{
	uint64_t *cursor = calloc(t->max_depth + 2, sizeof(*cursor));

	if (!cursor) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct fg_node *nd = &t->v[i];

		nd->start = cursor[nd->depth];
		cursor[nd->depth] += nd->bytes;
		cursor[nd->depth + 1] = nd->start;
	}
	free(cursor);
	return 0;
}

/* Rank for the box cap: wider first, and on ties parents (shallower) before
 * children, so any prefix of the ranking is closed under "parent of". */
struct fg_rank {
	uint64_t bytes;
	unsigned depth;
	size_t idx;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct fg_rank *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Keep only the FG_MAX_BOXES best ranked of the n drawn nodes. */
static int cap_boxes(struct fg_tree *t, size_t n)
{
	struct fg_rank *rk = malloc(n * sizeof(*rk));
	size_t k = 0;

	if (!rk) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].drawn)
			rk[k++] = (struct fg_rank){t->v[i].bytes, t->v[i].depth, i};
	qsort(rk, n, sizeof(*rk), rank_cmp);
	for (k = FG_MAX_BOXES; k < n; k++)
		t->v[rk[k].idx].drawn = false;
	free(rk);
	return 0;
}

/* Decide what gets drawn: frames at least FG_MIN_PX wide, at most
 * FG_MAX_BOXES of them. A child never has more bytes than its parent, so
 * the width rule drops whole subtrees and never orphans a frame. */
static int view_plan(struct fg_view *v, struct fg_tree *t)
{
	double fw = FG_WIDTH - 2 * FG_XPAD;
	size_t n = 0;

	v->total = t->n ? t->v[0].bytes : 0;
	for (size_t i = 0; i < t->n; i++) {
		struct fg_node *nd = &t->v[i];

		nd->drawn = v->total && (double)nd->bytes * fw >= FG_MIN_PX * (double)v->total;
		n += nd->drawn;
	}
	if (n > FG_MAX_BOXES && cap_boxes(t, n))
		return -1;
	v->drawn = 0;
	v->max_depth = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].drawn)
			continue;
		v->drawn++;
		if (t->v[i].depth > v->max_depth)
			v->max_depth = t->v[i].depth;
	}
	/* with nothing outstanding the lone empty root is not a frame */
	v->omitted = v->total ? t->n - v->drawn : 0;
	v->height = FG_TOP + (int)(v->max_depth + 1) * FG_FRAME_H + FG_BOTTOM;
	return 0;
}

/* Deterministic colour: native frames in warm red/orange/yellow, Python
 * frames in cool blue/green, the root in grey. */
static void node_fill(const struct fg_node *nd, char *buf, size_t len)
{
	unsigned a = nd->hash & 0xff, b = (nd->hash >> 8) & 0xff, c = (nd->hash >> 16) & 0xff;

	if (nd->depth == 0)
		snprintf(buf, len, "rgb(200,200,205)");
	else if (nd->kind == RM_FRAME_PYTHON)
		snprintf(buf, len, "rgb(%u,%u,%u)", 40 + 70 * a / 255, 150 + 80 * b / 255,
			 195 + 60 * c / 255);
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 205 + 50 * a / 255, 230 * b / 255,
			 55 * c / 255);
}

/* The visible label: as much of the name as fits, ".." marking a cut. */
static void put_label(FILE *out, const char *name, double w)
{
	double fit = (w - 6.0) / (FG_FONT * 0.59);
	size_t n = fit > 0 ? (size_t)fit : 0, len;

	if (n < 3)
		return;
	len = text_chars(name);
	if (len <= n) {
		xml_text(out, name, len);
		return;
	}
	xml_text(out, name, n - 2);
	fputs("..", out);
}

static void put_node(FILE *out, const struct fg_view *v, const struct fg_node *nd)
{
	double fw = FG_WIDTH - 2 * FG_XPAD;
	double x = FG_XPAD + fw * (double)nd->start / (double)v->total;
	double w = fw * (double)nd->bytes / (double)v->total;
	int y = v->height - FG_BOTTOM - (int)(nd->depth + 1) * FG_FRAME_H;
	char human[32], fill[32];

	fmt_bytes((double)nd->bytes, 2, human, sizeof(human));
	node_fill(nd, fill, sizeof(fill));
	fprintf(out, "<g class=\"fg\" data-s=\"%llu\" data-b=\"%llu\" data-d=\"%u\" data-k=\"%s\">",
		(unsigned long long)nd->start, (unsigned long long)nd->bytes, nd->depth,
		nd->kind == RM_FRAME_PYTHON ? "py" : "native");
	fputs("<title>", out);
	xml_text(out, nd->name, SIZE_MAX);
	fprintf(out, "\n%s (%llu bytes), ", human, (unsigned long long)nd->bytes);
	put_percent(out, nd->bytes, v->total);
	fprintf(out, " of outstanding, %llu allocation%s</title>", (unsigned long long)nd->count,
		nd->count == 1 ? "" : "s");
	fputs("<rect class=\"f\" x=\"", out);
	put_fixed2(out, x);
	fprintf(out, "\" y=\"%d\" width=\"", y);
	put_fixed2(out, w);
	fprintf(out, "\" height=\"%d\" rx=\"2\" ry=\"2\" fill=\"%s\"/><text x=\"", FG_FRAME_H - 1,
		fill);
	put_fixed2(out, x + 3);
	fprintf(out, "\" y=\"%d\">", y + FG_FRAME_H - 5);
	put_label(out, nd->name, w);
	fputs("</text></g>\n", out);
}

/* Interactivity (assets/flamegraph.js) and style (assets/flamegraph.css),
 * embedded at build time (Makefile, scripts/embed.sh). The script reads
 * everything from the DOM (names from the first <title> line, geometry from
 * data-*), so no report text goes through JS. */
extern const unsigned char asset_flamegraph_js[], asset_flamegraph_css[];
extern const size_t asset_flamegraph_js_len, asset_flamegraph_css_len;

/* "drops: none" or every nonzero loss counter: always shown, so a reader
 * knows how much to trust the picture. */
static void put_drops(FILE *out, const struct rm_drops *d)
{
	bool any = false;

	fputs("drops:", out);
	for (size_t i = 0; i < rm_drop_count; i++) {
		uint64_t v = rm_drop_value(d, i);

		if (!v)
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "", rm_drop_list[i].key,
			(unsigned long long)v);
		any = true;
	}
	if (!any)
		fputs(" none", out);
}

static void put_header(FILE *out, const struct rm_report *r, const struct fg_tree *t,
		       const struct fg_view *v, const char *title)
{
	char human[32];

	fmt_bytes((double)v->total, 2, human, sizeof(human));
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" id=\"leakbpf-fg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
		"data-xpad=\"%d\" data-fw=\"%d\" data-font=\"%d\" data-total=\"%llu\" "
		"data-frames=\"%zu\" data-omitted=\"%zu\">\n",
		FG_WIDTH, v->height, FG_WIDTH, v->height, FG_XPAD, FG_WIDTH - 2 * FG_XPAD, FG_FONT,
		(unsigned long long)v->total, v->drawn, v->omitted);
	fprintf(out,
		"<!-- leakbpf flame graph: %zu merged frames, %zu drawn, %zu omitted "
		"(narrower than 0.1 px or beyond %d boxes) -->\n",
		t->n, v->drawn, v->omitted, FG_MAX_BOXES);
	fputs("<style><![CDATA[\n", out);
	fwrite(asset_flamegraph_css, 1, asset_flamegraph_css_len, out);
	fputs("]]></style>\n", out);
	fprintf(
	    out,
	    "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f4\"/>\n",
	    FG_WIDTH, v->height);
	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"24\">", FG_WIDTH / 2);
	xml_text(out, title ? title : "leakbpf: outstanding memory", SIZE_MAX);
	fprintf(out,
		"</text>\n<text class=\"hdr\" x=\"%d\" y=\"46\">Outstanding: %s (%llu bytes) in "
		"%llu allocations",
		FG_XPAD, human, (unsigned long long)v->total,
		(unsigned long long)(t->n ? t->v[0].count : 0));
	fprintf(out, " | pid %d (", r->pid);
	xml_text(out, r->comm ? r->comm : "?", SIZE_MAX);
	fputs(") | elapsed ", out);
	put_fixed2(out, r->elapsed_s > 0 ? r->elapsed_s : 0);
	fputs(" s", out);
	if (r->min_age_s > 0) {
		fputs(" | only allocations older than ", out);
		put_fixed2(out, r->min_age_s);
		fputs(" s", out);
	}
	if (r->target_exited)
		fputs(" | target exited", out);
	fprintf(out, "</text>\n<text class=\"hdr\" id=\"drops\" x=\"%d\" y=\"64\">", FG_XPAD);
	put_drops(out, &r->drops);
	fprintf(out,
		"</text>\n<text class=\"btn\" id=\"unzoom\" x=\"%d\" y=\"24\" "
		"style=\"display:none\">Reset Zoom</text>\n",
		FG_XPAD);
	fprintf(out,
		"<text class=\"btn\" id=\"search\" x=\"%d\" y=\"24\" "
		"text-anchor=\"end\">Search</text>\n",
		FG_WIDTH - FG_XPAD);
	if (!v->total)
		fprintf(out,
			"<text class=\"hdr\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">No "
			"outstanding allocations</text>\n",
			FG_WIDTH / 2, FG_TOP + FG_FRAME_H - 4);
}

static void put_footer(FILE *out, const struct fg_view *v)
{
	fprintf(out, "<text class=\"hdr\" id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", FG_XPAD,
		v->height - 12);
	fprintf(
	    out,
	    "<text class=\"hdr\" id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n",
	    FG_WIDTH - FG_XPAD, v->height - 12);
	fputs("<script type=\"text/ecmascript\"><![CDATA[\n", out);
	fwrite(asset_flamegraph_js, 1, asset_flamegraph_js_len, out);
	fputs("]]></script>\n</svg>\n", out);
}

static int render(const struct rm_report *r, FILE *out, const char *title, struct fg_tree *t)
{
	struct fg_view v = {0};

	if (tree_layout(t) || view_plan(&v, t))
		return -1;
	put_header(out, r, t, &v, title);
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].drawn)
			put_node(out, &v, &t->v[i]);
	put_footer(out, &v);
	return stream_finish(out);
}

int flamegraph_write(const struct rm_report *r, FILE *out, const char *title)
{
	struct fg_tree t = {0};
	struct fg_path *p;
	size_t np = 0;
	int ret = -1;

	p = paths_make(r, &np);
	if (!p)
		return -1;
	qsort(p, np, sizeof(*p), path_cmp);
	if (!tree_build(&t, p, np))
		ret = render(r, out, title, &t);
	free(t.v);
	paths_free(p, np);
	return ret;
}
