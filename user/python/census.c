// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Census sessions: find the interpreter once (python/detect.c), then for
 * each census walk the heap, find the unreachable cycles, total by type
 * name, compare with the first and the previous census, name the holders of
 * what grows, and fill the report model (out/objects.h).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "python/census.h"
#include "python/census_holders.h"
#include "python/census_names.h"
#include "python/census_pause.h"
#include "python/census_types.h"
#include "python/census_unreachable.h"
#include "python/census_walk.h"
#include "python/detect.h"
#include "python/memory.h"
#include "target/elf_file.h"
#include "target/process.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/escape.h"
#include "util/intern.h"

#define MAX_ROWS      100000 /* distinct type names kept; the rest are one row */
#define OTHER_TYPES   "(other types)"
#define GROWING_TYPES 8
#define MAX_CENSUSES  100000
/* RSS growth (since the first census) that the Python heap must explain */
#define NATIVE_MIN_GROWTH (4ULL << 20)

struct tot {
	uint64_t count, bytes;
};

/* A type name's totals: at the first, the previous and this census. */
struct row {
	const char *name; /* the interner's copy */
	struct tot first, prev, cur;
};

struct census_session {
	struct census_options o;
	struct lb_target target;
	struct py_build b;
	struct census_target t;
	char describe[PATH_MAX * 4 + 64];
	char comm[64 * 4], cmdline[4096]; /* escaped */
	/* rows: type names, kept for the whole session */
	struct interner rows;
	struct row *row;
	size_t rows_cap;
	const char **row_names; /* for the holders */
	size_t names_cap;
	struct census_containers first_c, prev_c;
	struct obj_census *censuses;
	size_t ncensuses, censuses_cap;
	uint64_t censuses_dropped;
	uint64_t first_rss, first_bytes, prev_bytes;
	/* strings of the last report, and of the census being taken */
	struct interner scratch[2];
	int last_scratch;
	struct obj_type_row *types;
	struct obj_holder *holders;
	struct obj_unreachable_type *unreach_types;
};

/* --- finding the interpreter --- */

static uint64_t symbol(struct py_build *b, uint64_t bias, const char *name)
{
	uint64_t vaddr;
	return elf_file_symbol(b->elf, name, &vaddr, NULL, NULL) == 0 ? bias + vaddr : 0;
}

static int setup_target(struct census_session *s, char *err, size_t errlen)
{
	struct census_target *t = &s->t;
	struct py_build *b = &s->b;
	const struct census_layout *cl = census_layout_find(b->minor);
	uint64_t rt_vaddr;
	if (!cl) {
		snprintf(err, errlen, "CPython 3.%d: no object layout", b->minor);
		return -1;
	}
	memset(t, 0, sizeof(*t));
	t->pid = s->target.pid;
	t->minor = b->minor;
	t->pl = b->layout;
	t->cl = *cl;
	t->runtime = b->runtime;
	if (elf_file_symbol(b->elf, "_PyRuntime", &rt_vaddr, NULL, NULL)) {
		snprintf(err, errlen, "no _PyRuntime in %s", b->label);
		return -1;
	}
	uint64_t bias = b->runtime - rt_vaddr;
	if (b->minor >= 13) {
		uint8_t dbg[PY_DEBUG_OFFSETS_SIZE];
		char why[200];
		if (py_mem_read(t->pid, t->runtime, dbg, sizeof(dbg)) ||
		    census_layout_from_debug_offsets(dbg, sizeof(dbg), &t->cl, why, sizeof(why))) {
			snprintf(err, errlen, "CPython 3.%d: cannot use _Py_DebugOffsets",
				 b->minor);
			return -1;
		}
	}
	/* the interpreter's own mappings: its static types live there */
	for (size_t i = 0; i < s->target.nmaps; i++) {
		const struct lb_mapping *m = &s->target.maps[i];
		if (!m->path || strcmp(m->path, b->label))
			continue;
		if (t->nimage < 8) {
			t->image[t->nimage][0] = m->start;
			t->image[t->nimage++][1] = m->end;
		}
		if (m->perms[2] == 'x' && t->ntext < 8) {
			t->text[t->ntext][0] = m->start;
			t->text[t->ntext++][1] = m->end;
		}
	}
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
	    {"PyType_Type", offsetof(struct census_target, type_type)},
	    {"PyBaseObject_Type", offsetof(struct census_target, object_type)},
	    {"PyList_Type", offsetof(struct census_target, list_type)},
	    {"PyTuple_Type", offsetof(struct census_target, tuple_type)},
	    {"PyDict_Type", offsetof(struct census_target, dict_type)},
	    {"PySet_Type", offsetof(struct census_target, set_type)},
	    {"PyFrozenSet_Type", offsetof(struct census_target, frozenset_type)},
	    {"PyModule_Type", offsetof(struct census_target, module_type)},
	    {"PyCell_Type", offsetof(struct census_target, cell_type)},
	    {"PyUnicode_Type", offsetof(struct census_target, str_type)},
	    {"PyLong_Type", offsetof(struct census_target, long_type)},
	    {"PyBool_Type", offsetof(struct census_target, bool_type)},
	    {"PyByteArray_Type", offsetof(struct census_target, bytearray_type)},
	    {"PyCode_Type", offsetof(struct census_target, code_type)},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		uint64_t a = symbol(b, bias, syms[i].name);
		if (!a) {
			snprintf(err, errlen, "no %s in %s", syms[i].name, b->label);
			return -1;
		}
		memcpy((char *)t + syms[i].off, &a, sizeof(a));
	}
	/* the set dummy: a pointer to the dummy object */
	uint64_t dummy_ptr = symbol(b, bias, "_PySet_Dummy");
	if (dummy_ptr)
		py_mem_read(t->pid, dummy_ptr, &t->set_dummy, sizeof(t->set_dummy));
	/* shared builds keep their static functions in .symtab */
	t->subtype_dealloc = symbol(b, bias, "subtype_dealloc");
	if (t->subtype_dealloc && !census_in_text(t, t->subtype_dealloc))
		t->subtype_dealloc = 0;
	return 0;
}

struct census_session *census_open(pid_t pid, const struct census_options *o, char *err,
				   size_t errlen)
{
	char warn[PATH_MAX + 256];
	struct census_session *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	if (target_open(pid, &s->target, err, errlen)) {
		free(s);
		return NULL;
	}
	enum py_detect_result r = py_detect(&s->target, &s->b, warn, sizeof(warn));
	if (r != PY_DETECT_OK) {
		if (r == PY_DETECT_UNSUPPORTED) {
			/* "...; no Python frames" is the tracer's wording */
			char *tail = strstr(warn, "; no Python frames");
			if (tail)
				*tail = '\0';
			snprintf(err, errlen, "%s: no census possible", warn);
		} else {
			snprintf(err, errlen, "pid %d (%s) is not a CPython 3.8-3.13 process", pid,
				 s->target.comm);
		}
		target_close(&s->target);
		free(s);
		return NULL;
	}
	uint64_t probe;
	if (py_mem_read(pid, s->b.runtime, &probe, sizeof(probe))) {
		snprintf(err, errlen, "cannot read the memory of pid %d: %s%s", pid,
			 strerror(errno),
			 errno == EPERM ? " (run as root, or with CAP_SYS_PTRACE)" : "");
		elf_file_close(s->b.elf);
		target_close(&s->target);
		free(s);
		return NULL;
	}
	if (setup_target(s, err, errlen)) {
		census_close(s);
		return NULL;
	}
	/* what the target chose (its name, arguments, paths) is escaped once */
	char label[PATH_MAX * 4];
	escape_str(s->target.comm, NULL, s->comm, sizeof(s->comm));
	escape_str(s->target.cmdline ? s->target.cmdline : "", NULL, s->cmdline,
		   sizeof(s->cmdline));
	escape_str(s->b.label, NULL, label, sizeof(label));
	if (s->b.micro_known)
		snprintf(s->describe, sizeof(s->describe), "CPython %d.%d.%d (%s)", s->b.major,
			 s->b.minor, s->b.micro, label);
	else
		snprintf(s->describe, sizeof(s->describe), "CPython %d.%d (%s)", s->b.major,
			 s->b.minor, label);
	return s;
}

void census_close(struct census_session *s)
{
	if (!s)
		return;
	if (s->b.elf)
		elf_file_close(s->b.elf);
	target_close(&s->target);
	interner_clear(&s->rows);
	free(s->row);
	free(s->row_names);
	containers_free(&s->first_c);
	containers_free(&s->prev_c);
	free(s->censuses);
	interner_clear(&s->scratch[0]);
	interner_clear(&s->scratch[1]);
	free(s->types);
	free(s->holders);
	free(s->unreach_types);
	free(s);
}

/* --- rows --- */

static uint32_t row_of_name(struct census_session *s, const char *name)
{
	bool added;
	if (interner_count(&s->rows) >= MAX_ROWS && interner_find(&s->rows, name, strlen(name)) < 0)
		name = OTHER_TYPES;
	long r = interner_add(&s->rows, name, strlen(name), &added);
	if (r < 0 || ARRAY_RESERVE(s->row, s->rows_cap, (size_t)r + 1) ||
	    ARRAY_RESERVE(s->row_names, s->names_cap, (size_t)r + 1))
		return CT_NONE;
	if (added)
		s->row[r].name = s->row_names[r] = interner_key(&s->rows, (size_t)r, NULL);
	return (uint32_t)r;
}

static int by_growth(const void *a, const void *b)
{
	const struct obj_type_row *x = a, *y = b;
	if (x->count_growth != y->count_growth)
		return x->count_growth > y->count_growth ? -1 : 1;
	if (x->bytes_growth != y->bytes_growth)
		return x->bytes_growth > y->bytes_growth ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->type, y->type);
}

static int by_bytes(const void *a, const void *b)
{
	const struct obj_type_row *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->type, y->type);
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- one census --- */

static int fill_types(struct census_session *s, struct obj_report *r, bool first)
{
	size_t nrows = interner_count(&s->rows), n = 0;
	struct obj_type_row *rows = calloc(nrows ? nrows : 1, sizeof(*rows));
	if (!rows)
		return -1;
	r->count = r->bytes = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct row *w = &s->row[i];
		if (!w->cur.count && !w->first.count && !w->prev.count)
			continue;
		struct obj_type_row *t = &rows[n++];
		t->type = w->name;
		t->count = w->cur.count;
		t->bytes = w->cur.bytes;
		t->count_growth = (int64_t)(w->cur.count - w->first.count);
		t->bytes_growth = (int64_t)(w->cur.bytes - w->first.bytes);
		t->count_delta = (int64_t)(w->cur.count - w->prev.count);
		t->bytes_delta = (int64_t)(w->cur.bytes - w->prev.bytes);
		r->count += t->count;
		r->bytes += t->bytes;
	}
	qsort(rows, n, sizeof(*rows), first ? by_bytes : by_growth);
	free(s->types);
	s->types = rows;
	r->types = rows;
	r->ntypes = n;
	return 0;
}

/* Rows whose count grew most since the first census: growing[row] is their
 * rank (1: most), 0 for the others. */
static void growing_rows(struct census_session *s, uint8_t *growing)
{
	size_t nrows = interner_count(&s->rows);
	memset(growing, 0, nrows);
	for (int pick = 0; pick < GROWING_TYPES; pick++) {
		size_t best = SIZE_MAX;
		int64_t best_g = 0;
		for (size_t i = 0; i < nrows; i++) {
			int64_t g = (int64_t)(s->row[i].cur.count - s->row[i].first.count);
			if (!growing[i] && g > best_g) {
				best = i;
				best_g = g;
			}
		}
		if (best == SIZE_MAX)
			break;
		growing[best] = (uint8_t)(pick + 1);
	}
}

static void fill_unreachable(struct census_session *s, struct census_heap *h,
			     const uint32_t *type_row, const uint8_t *unreach, long found,
			     uint64_t candidates, struct obj_report *r)
{
	struct obj_unreachable *u = &r->unreachable;
	struct obj_unreachable_type *ut = NULL;
	memset(u, 0, sizeof(*u));
	free(s->unreach_types);
	s->unreach_types = NULL;
	if (found < 0) {
		u->why_not = "out of memory";
		return;
	}
	u->computed = true;
	u->candidates = candidates;
	size_t cap = 0;
	for (size_t i = 0; i < h->nobjs; i++) {
		if (!unreach[i])
			continue;
		uint32_t row = h->objs[i].type == CT_NONE ? CT_NONE : type_row[h->objs[i].type];
		const char *name = row == CT_NONE ? "?" : s->row_names[row];
		u->count++;
		u->bytes += h->objs[i].size;
		size_t k = 0;
		while (k < u->ntypes && ut[k].type != name)
			k++;
		if (k == u->ntypes) {
			if (ARRAY_RESERVE(ut, cap, k + 1))
				continue;
			ut[u->ntypes++] = (struct obj_unreachable_type){.type = name};
		}
		ut[k].count++;
		ut[k].bytes += h->objs[i].size;
	}
	/* most first */
	for (size_t i = 1; i < u->ntypes; i++)
		for (size_t j = i; j > 0 && ut[j].count > ut[j - 1].count; j--) {
			struct obj_unreachable_type t = ut[j];
			ut[j] = ut[j - 1];
			ut[j - 1] = t;
		}
	s->unreach_types = ut;
	u->types = ut;
}

static void fill_meta(struct census_session *s, struct obj_report *r)
{
	r->pid = s->target.pid;
	r->comm = s->comm;
	r->cmdline = s->cmdline;
	r->python = s->describe;
	r->interval_s = s->o.interval_s;
	r->paused = s->o.pause;
	r->max_objects = s->o.max_objects;
}

static void record_census(struct census_session *s, const struct obj_census *c)
{
	if (s->ncensuses >= MAX_CENSUSES ||
	    ARRAY_RESERVE(s->censuses, s->censuses_cap, s->ncensuses + 1)) {
		s->censuses_dropped++;
		return;
	}
	s->censuses[s->ncensuses++] = *c;
}

int census_take(struct census_session *s, struct obj_report *out, char *err, size_t errlen)
{
	struct census_pause pause;
	struct census_heap h;
	struct obj_census c = {0};
	struct obj_report report = {0}, *r = &report;
	bool first = s->ncensuses == 0 && !s->censuses_dropped;
	int ret = -1;
	uint8_t *unreach = NULL, *growing = NULL;
	uint32_t *type_row = NULL;
	struct obj_holder *holders = NULL;
	/* the last report's strings stay valid until this one replaces it */
	struct interner *scratch = &s->scratch[!s->last_scratch];

	interner_clear(scratch);
	if (!target_alive(s->target.pid)) {
		snprintf(err, errlen, "pid %d exited", (int)s->target.pid);
		return -1;
	}
	c.time = wall_time_s();
	uint64_t t0 = mono_ns();
	double cpu0 = cpu_s();
	if (s->o.pause && census_pause(s->target.pid, &pause, err, errlen))
		return -1;
	struct census_limits lim = {.max_objects = s->o.max_objects, .max_items = s->o.max_items};
	census_heap_init(&h, &s->t, lim, scratch);
	int walked = census_walk(&h, err, errlen);
	long found = -1;
	uint64_t candidates = 0;
	if (walked == 0) {
		unreach = calloc(h.nobjs ? h.nobjs : 1, 1);
		if (unreach)
			found = census_unreachable(&h, unreach, &candidates);
	}
	if (s->o.pause)
		c.paused_s = census_resume(&pause);
	if (walked)
		goto out;
	if (!target_alive(s->target.pid)) {
		/* what was read while it exited is no census */
		snprintf(err, errlen, "pid %d exited", (int)s->target.pid);
		goto out;
	}
	c.duration_s = (double)(mono_ns() - t0) / 1e9;

	/* totals by type name */
	type_row = malloc((h.ntypes ? h.ntypes : 1) * sizeof(*type_row));
	if (!type_row || !unreach) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < h.ntypes; i++)
		type_row[i] = row_of_name(s, h.types[i].name ? h.types[i].name : "?");
	size_t nrows = interner_count(&s->rows);
	for (size_t i = 0; i < nrows; i++)
		s->row[i].cur = (struct tot){0};
	for (size_t i = 0; i < h.nobjs; i++) {
		const struct cobj *o = &h.objs[i];
		if (!(o->flags & CO_READ) || o->type == CT_NONE || type_row[o->type] == CT_NONE)
			continue;
		s->row[type_row[o->type]].cur.count++;
		s->row[type_row[o->type]].cur.bytes += o->size;
		c.bytes += o->size;
	}
	for (size_t i = 0; first && i < nrows; i++)
		s->row[i].first = s->row[i].prev = s->row[i].cur;

	/* holders of what grows */
	growing = calloc(nrows ? nrows : 1, 1);
	holders = calloc(s->o.holders ? s->o.holders : 1, sizeof(*holders));
	if (!growing || !holders) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!first) {
		growing_rows(s, growing);
		struct holders_in in = {.type_row = type_row,
					.growing = growing,
					.row_names = s->row_names,
					.first = &s->first_c,
					.prev = &s->prev_c,
					.max = s->o.holders};
		r->nholders = census_holders(&h, &in, holders);
	}
	if ((first && containers_record(&s->first_c, &h, type_row)) ||
	    containers_record(&s->prev_c, &h, type_row) || fill_types(s, r, first)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* nothing fails past this point: the report is replaced */
	free(s->holders);
	s->holders = holders;
	holders = NULL;
	r->holders = s->holders;
	fill_unreachable(s, &h, type_row, unreach, found, candidates, r);

	/* this census */
	c.cpu_s = cpu_s() - cpu0;
	c.rss = target_rss(s->target.pid);
	c.objects = h.nobjs;
	c.gc_objects = h.st.gc_objects;
	c.torn = h.st.torn;
	c.retries = h.st.retries + h.st.list_restarts;
	c.invalid = h.st.invalid;
	c.truncated = h.st.truncated;
	c.lists_cut = h.st.lists_cut;
	c.bytes_read = h.st.reads.bytes;
	c.syscalls = h.st.reads.syscalls;
	c.mem_bytes = h.st.mem_bytes;
	if (first) {
		s->first_rss = c.rss;
		s->first_bytes = c.bytes;
		s->prev_bytes = c.bytes;
	}
	record_census(s, &c);
	fill_meta(s, r);
	r->censuses = s->censuses;
	r->ncensuses = s->ncensuses;
	r->censuses_dropped = s->censuses_dropped;
	r->count_growth = 0;
	for (size_t i = 0; i < r->ntypes; i++)
		r->count_growth += r->types[i].count_growth;
	r->bytes_growth = (int64_t)(c.bytes - s->first_bytes);
	r->bytes_delta = (int64_t)(c.bytes - s->prev_bytes);
	r->rss_growth = (int64_t)(c.rss - s->first_rss);
	r->native_growth = !first && r->rss_growth >= (int64_t)NATIVE_MIN_GROWTH &&
			   r->bytes_growth < r->rss_growth / 4;
	r->gc.known = h.gc.known;
	r->gc.enabled = h.gc.enabled;
	r->gc.collecting = h.gc.collecting;
	memcpy(r->gc.thresholds, h.gc.thresholds, sizeof(r->gc.thresholds));
	memcpy(r->gc.counts, h.gc.counts, sizeof(r->gc.counts));
	memcpy(r->gc.objects, h.st.gen_objects, sizeof(r->gc.objects));
	r->torn = c.torn;
	r->retries = c.retries;
	r->invalid = c.invalid;
	r->truncated = c.truncated + h.st.items_cut;
	r->lists_cut = c.lists_cut;
	r->opaque_gc = h.st.opaque_gc;
	r->bad_types = h.st.bad_types;
	s->prev_bytes = c.bytes;
	for (size_t i = 0; i < nrows; i++)
		s->row[i].prev = s->row[i].cur;
	s->last_scratch = !s->last_scratch;
	*out = report;
	ret = 0;
out:
	free(holders);
	free(unreach);
	free(growing);
	free(type_row);
	census_heap_free(&h);
	return ret;
}
