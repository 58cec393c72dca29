// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The target's unwind tables in the BPF rows array: one slice per file. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "target/process.h"
#include "unwind/cfi_store.h"
#include "unwind/cfi_table.h"
#include "util/array.h"
#include "util/clock.h"

struct span {
	uint32_t first, count;
};

/* Tables of files no longer mapped are kept (a library loaded again, or
 * the same file in the next program of an exec chain, is not built again)
 * until their room is needed, and at most this many. */
#define IDLE_MAX 256

struct cfi_module {
	uint64_t dev, ino, size; /* the file: a replaced one is another module */
	int64_t mtime_ns;
	char *name; /* as the target maps it, for messages */
	struct cfi_segment *segs;
	size_t nsegs;
	struct span rows; /* count 0: no table */
	bool dropped;	  /* had a table that did not fit */
	uint64_t pass;	  /* last pass a mapping used it: idle when older */
};

struct cfi_store {
	struct lb_cfi_row *rows;
	uint32_t cap;
	bool verbose;
	struct cfi_module *mods;
	size_t nmods, modcap;
	struct span *free; /* sorted, coalesced */
	size_t nfree, freecap;
	uint64_t pass;
	size_t dropped; /* since the start: modules whose table did not fit */
	uint64_t rows_dropped;
	uint64_t build_ns;
	size_t builds;
};

static int add_free(struct cfi_store *s, struct span sp)
{
	size_t i = 0;
	while (i < s->nfree && s->free[i].first < sp.first)
		i++;
	if (ARRAY_RESERVE(s->free, s->freecap, s->nfree + 1))
		return -1;
	memmove(&s->free[i + 1], &s->free[i], (s->nfree - i) * sizeof(*s->free));
	s->free[i] = sp;
	s->nfree++;
	/* coalesce with the neighbours */
	if (i + 1 < s->nfree && s->free[i].first + s->free[i].count == s->free[i + 1].first) {
		s->free[i].count += s->free[i + 1].count;
		memmove(&s->free[i + 1], &s->free[i + 2], (s->nfree - i - 2) * sizeof(*s->free));
		s->nfree--;
	}
	if (i > 0 && s->free[i - 1].first + s->free[i - 1].count == s->free[i].first) {
		s->free[i - 1].count += s->free[i].count;
		memmove(&s->free[i], &s->free[i + 1], (s->nfree - i - 1) * sizeof(*s->free));
		s->nfree--;
	}
	return 0;
}

/* First fit. Returns false when no free span is large enough. */
static bool take_span(struct cfi_store *s, uint32_t count, struct span *out)
{
	for (size_t i = 0; i < s->nfree; i++) {
		if (s->free[i].count < count)
			continue;
		*out = (struct span){s->free[i].first, count};
		s->free[i].first += count;
		s->free[i].count -= count;
		if (!s->free[i].count) {
			memmove(&s->free[i], &s->free[i + 1],
				(s->nfree - i - 1) * sizeof(*s->free));
			s->nfree--;
		}
		return true;
	}
	return false;
}

struct cfi_store *cfi_store_new(struct lb_cfi_row *rows, uint32_t capacity, bool verbose)
{
	struct cfi_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->rows = rows;
	s->cap = capacity;
	s->verbose = verbose;
	if (capacity && add_free(s, (struct span){0, capacity})) {
		free(s);
		return NULL;
	}
	return s;
}

void cfi_store_free(struct cfi_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		free(s->mods[i].name);
		free(s->mods[i].segs);
	}
	free(s->mods);
	free(s->free);
	free(s);
}

void cfi_store_begin(struct cfi_store *s)
{
	s->pass++;
}

static void forget(struct cfi_store *s, size_t i)
{
	free(s->mods[i].name);
	free(s->mods[i].segs);
	s->mods[i] = s->mods[--s->nmods];
}

/* Room for count rows: a free span, else the room of idle tables, oldest
 * first. Only tables idle since before the previous pass: the ranges the
 * programs read now were written at its end and name none of them, and no
 * walk in flight is that old. */
static bool make_room(struct cfi_store *s, uint32_t count, struct span *out)
{
	while (!take_span(s, count, out)) {
		size_t oldest = s->nmods;
		for (size_t i = 0; i < s->nmods; i++) {
			const struct cfi_module *m = &s->mods[i];
			if (m->rows.count && m->pass + 1 < s->pass &&
			    (oldest == s->nmods || m->pass < s->mods[oldest].pass))
				oldest = i;
		}
		if (oldest == s->nmods || add_free(s, s->mods[oldest].rows))
			return false;
		forget(s, oldest);
	}
	return true;
}

/* Build a table and copy it into a free slice. m keeps what it learnt
 * (segments; no table, no room) either way. */
static void load_module(struct cfi_store *s, struct cfi_module *m, int fd)
{
	struct cfi_table t;
	char why[256];
	uint64_t t0 = mono_ns();
	int rc = cfi_table_build(fd, m->name, s->cap, &t, why, sizeof(why));
	s->build_ns += mono_ns() - t0;
	s->builds++;
	if (rc) {
		if (s->verbose)
			fprintf(stderr, "leakbpf: no unwind table for %s (%s): frame pointers\n",
				m->name, why);
		return;
	}
	m->segs = t.segs;
	m->nsegs = t.nsegs;
	t.segs = NULL;
	struct span sp;
	if (t.nrows > UINT32_MAX || !make_room(s, (uint32_t)t.nrows, &sp)) {
		m->dropped = true;
		s->dropped++;
		s->rows_dropped += t.nrows;
		fprintf(stderr,
			"leakbpf: warning: no room left in the unwind table memory for %s (%zu "
			"rows): its frames are unwound with frame pointers\n",
			m->name, t.nrows);
		cfi_table_free(&t);
		return;
	}
	memcpy(&s->rows[sp.first], t.rows, t.nrows * sizeof(*t.rows));
	m->rows = sp;
	if (s->verbose)
		fprintf(stderr, "leakbpf: unwind table for %s: %zu rows from %s%s%s, %.1f ms\n",
			m->name, t.nrows, t.eh_frame ? ".eh_frame" : "",
			t.eh_frame && t.debug_frame ? " and " : "",
			t.debug_frame ? ".debug_frame" : "", (mono_ns() - t0) / 1e6);
	cfi_table_free(&t);
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static struct cfi_module *find_module(struct cfi_store *s, const struct stat *st)
{
	for (size_t i = 0; i < s->nmods; i++) {
		const struct cfi_module *m = &s->mods[i];
		if (m->dev == st->st_dev && m->ino == st->st_ino &&
		    m->size == (uint64_t)st->st_size && m->mtime_ns == mtime_ns(st))
			return &s->mods[i];
	}
	return NULL;
}

struct cfi_slice cfi_store_slice(struct cfi_store *s, const struct lb_target *t,
				 const struct lb_mapping *m)
{
	struct cfi_slice none = {0};
	char path[PATH_MAX];
	struct stat st;
	if (target_file_path(t, m, path, sizeof(path)))
		return none;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return none;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return none;
	}
	struct cfi_module *mod = find_module(s, &st);
	if (!mod) {
		/* built aside: making room may move the modules of the array */
		struct cfi_module nm = {
		    .dev = st.st_dev,
		    .ino = st.st_ino,
		    .size = (uint64_t)st.st_size,
		    .mtime_ns = mtime_ns(&st),
		    .name = strdup(m->path),
		};
		if (nm.name)
			load_module(s, &nm, fd);
		if (!nm.name || ARRAY_RESERVE(s->mods, s->modcap, s->nmods + 1)) {
			if (nm.rows.count)
				add_free(s, nm.rows);
			free(nm.name);
			free(nm.segs);
			close(fd);
			return none;
		}
		mod = &s->mods[s->nmods++];
		*mod = nm;
	}
	close(fd);
	mod->pass = s->pass;
	struct cfi_slice out = {0};
	if (!mod->rows.count)
		return out;
	struct cfi_table segs = {.segs = mod->segs, .nsegs = mod->nsegs};
	if (cfi_table_bias(&segs, m->start, m->offset, &out.bias))
		return out;
	out.first = mod->rows.first;
	out.count = mod->rows.count;
	return out;
}

/* Modules no mapping uses any more: what has no table is forgotten, tables
 * stay idle (make_room takes their room back), at most IDLE_MAX. */
void cfi_store_end(struct cfi_store *s)
{
	size_t idle = 0;
	for (size_t i = s->nmods; i-- > 0;) {
		if (s->mods[i].pass == s->pass)
			continue;
		if (!s->mods[i].rows.count)
			forget(s, i);
		else
			idle++;
	}
	while (idle > IDLE_MAX) {
		size_t oldest = s->nmods;
		for (size_t i = 0; i < s->nmods; i++)
			if (s->mods[i].pass != s->pass &&
			    (oldest == s->nmods || s->mods[i].pass < s->mods[oldest].pass))
				oldest = i;
		/* only tables idle since before the previous pass (make_room) */
		if (s->mods[oldest].pass + 1 >= s->pass)
			break;
		add_free(s, s->mods[oldest].rows);
		forget(s, oldest);
		idle--;
	}
}

void cfi_store_stats(const struct cfi_store *s, struct cfi_store_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < s->nmods; i++) {
		const struct cfi_module *m = &s->mods[i];
		if (m->rows.count)
			st->rows_used += m->rows.count;
		if (m->rows.count && m->pass == s->pass)
			st->modules++;
		else if (m->rows.count)
			st->idle++;
		else if (!m->dropped)
			st->no_cfi++;
	}
	st->dropped = s->dropped;
	st->rows_cap = s->cap;
	st->rows_dropped = s->rows_dropped;
	st->build_ms = s->build_ns / 1e6;
	st->builds = s->builds;
}
