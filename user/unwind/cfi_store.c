// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The traced processes' unwind tables in the BPF rows array: one slice per
 * file, shared by every process that maps it. */
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
#include "util/escape.h"

struct span {
	uint32_t first, count;
};

/* Tables of files no longer mapped are kept (a library loaded again, or
 * the same file in the next program of an exec chain, is not built again)
 * until their room is needed, and at most this many. */
#define IDLE_MAX 256

struct cfi_module {
	uint64_t id;		 /* what users remember it by (modules move) */
	uint64_t dev, ino, size; /* the file: a replaced one is another module */
	int64_t mtime_ns;
	char *name; /* as the target first mapped it, for messages */
	struct cfi_segment *segs;
	size_t nsegs;
	struct span rows;   /* count 0: no table */
	bool dropped;	    /* had a table that did not fit */
	uint32_t users;	    /* users whose last pass named it: idle at 0 */
	uint64_t seen;	    /* last pass that named it */
	uint64_t idle_pass; /* the pass in or after which users fell to 0 */
	uint64_t idle_ns;   /* and when (mono_ns) */
};

/* The modules a user's last pass named (cur) and its pass under way
 * named so far (next), by id. */
struct cfi_user {
	uint64_t *cur, *next;
	size_t ncur, capcur, nnext, capnext;
	uint64_t tables_full; /* modules it named whose table did not fit */
};

struct cfi_store {
	struct lb_cfi_row *rows;
	uint32_t cap;
	bool verbose;
	uint64_t grace_ns; /* an idle table's rows are kept at least this long */
	struct cfi_module *mods;
	size_t nmods, modcap;
	struct span *free; /* sorted, coalesced */
	size_t nfree, freecap;
	uint64_t pass; /* passes of every user, counted */
	uint64_t next_id;
	size_t nusers;
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

struct cfi_store *cfi_store_new(struct lb_cfi_row *rows, uint32_t capacity, uint64_t grace_ns,
				bool verbose)
{
	struct cfi_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->rows = rows;
	s->cap = capacity;
	s->verbose = verbose;
	s->grace_ns = grace_ns;
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

static void forget(struct cfi_store *s, size_t i)
{
	free(s->mods[i].name);
	free(s->mods[i].segs);
	s->mods[i] = s->mods[--s->nmods];
}

static struct cfi_module *module_by_id(struct cfi_store *s, uint64_t id)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i].id == id)
			return &s->mods[i];
	return NULL;
}

/* Whether an idle table's room may be given to another: no user names it,
 * not even in the pass under way, it went idle before this pass began, and
 * a grace period ago. The ranges that named it were rewritten when it went
 * idle (at the end of that pass, or before its user left), so the programs
 * read other ranges now; the passes of several processes may follow each
 * other closely, the grace is what no walk in flight outlasts. */
static bool reusable(const struct cfi_store *s, const struct cfi_module *m, uint64_t now)
{
	return m->rows.count && !m->users && m->seen != s->pass && m->idle_pass < s->pass &&
	       now - m->idle_ns >= s->grace_ns;
}

/* The reusable table idle the longest, or s->nmods. */
static size_t oldest_reusable(const struct cfi_store *s)
{
	size_t oldest = s->nmods;
	uint64_t now = mono_ns();
	for (size_t i = 0; i < s->nmods; i++)
		if (reusable(s, &s->mods[i], now) &&
		    (oldest == s->nmods || s->mods[i].idle_pass < s->mods[oldest].idle_pass))
			oldest = i;
	return oldest;
}

/* Room for count rows: a free span, else the room of reusable idle tables,
 * oldest first. */
static bool make_room(struct cfi_store *s, uint32_t count, struct span *out)
{
	while (!take_span(s, count, out)) {
		size_t oldest = oldest_reusable(s);
		if (oldest == s->nmods || add_free(s, s->mods[oldest].rows))
			return false;
		forget(s, oldest);
	}
	return true;
}

/* Modules no user names: what has no table is forgotten (tried again if
 * mapped again), tables stay idle, at most IDLE_MAX of them. */
static void sweep(struct cfi_store *s)
{
	size_t idle = 0;
	for (size_t i = s->nmods; i-- > 0;) {
		if (s->mods[i].users || s->mods[i].seen == s->pass)
			continue;
		if (!s->mods[i].rows.count)
			forget(s, i);
		else
			idle++;
	}
	for (; idle > IDLE_MAX; idle--) {
		size_t oldest = oldest_reusable(s);
		if (oldest == s->nmods || add_free(s, s->mods[oldest].rows))
			break;
		forget(s, oldest);
	}
}

/* A user stops naming the modules of ids. */
static void drop_users(struct cfi_store *s, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cfi_module *m = module_by_id(s, ids[i]);
		if (m && m->users && !--m->users) {
			m->idle_pass = s->pass;
			m->idle_ns = mono_ns();
		}
	}
}

struct cfi_user *cfi_store_join(struct cfi_store *s)
{
	struct cfi_user *u = calloc(1, sizeof(*u));
	if (u)
		s->nusers++;
	return u;
}

void cfi_store_leave(struct cfi_store *s, struct cfi_user *u)
{
	if (!u)
		return;
	drop_users(s, u->cur, u->ncur);
	s->nusers--;
	free(u->cur);
	free(u->next);
	free(u);
	sweep(s);
}

uint64_t cfi_user_tables_full(const struct cfi_user *u)
{
	return u ? u->tables_full : 0;
}

void cfi_store_begin(struct cfi_store *s, struct cfi_user *u)
{
	s->pass++;
	u->nnext = 0;
}

/* Build a table and copy it into a free slice. m keeps what it learnt
 * (segments; no table, no room) either way. */
static void load_module(struct cfi_store *s, struct cfi_module *m, int fd)
{
	struct cfi_table t;
	char why[256];
	uint64_t t0 = mono_ns();
	char name[4 * PATH_MAX]; /* the target's path, escaped for the terminal */
	escape_str(m->name, NULL, name, sizeof(name));
	int rc = cfi_table_build(fd, m->name, s->cap, &t, why, sizeof(why));
	s->build_ns += mono_ns() - t0;
	s->builds++;
	if (rc) {
		if (s->verbose)
			fprintf(stderr, "leakbpf: no unwind table for %s (%s): frame pointers\n",
				name, why);
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
			name, t.nrows);
		cfi_table_free(&t);
		return;
	}
	memcpy(&s->rows[sp.first], t.rows, t.nrows * sizeof(*t.rows));
	m->rows = sp;
	if (s->verbose)
		fprintf(stderr, "leakbpf: unwind table for %s: %zu rows from %s%s%s, %.1f ms\n",
			name, t.nrows, t.eh_frame ? ".eh_frame" : "",
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

/* Whether u's previous pass named the module of id. */
static bool named_before(const struct cfi_user *u, uint64_t id)
{
	for (size_t i = 0; i < u->ncur; i++)
		if (u->cur[i] == id)
			return true;
	return false;
}

struct cfi_slice cfi_store_slice(struct cfi_store *s, struct cfi_user *u, const struct lb_target *t,
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
		    .id = ++s->next_id,
		    .idle_pass = s->pass,
		    .idle_ns = mono_ns(),
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
	/* the pass names it (passes do not interleave: seen is this one's) */
	if (mod->seen != s->pass) {
		if (ARRAY_RESERVE(u->next, u->capnext, u->nnext + 1))
			return none; /* not named: its rows could go */
		u->next[u->nnext++] = mod->id;
		if (mod->dropped && !named_before(u, mod->id))
			u->tables_full++;
		mod->seen = s->pass;
	}
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

/* The modules u's pass named gain u as a user first, then those of its
 * previous pass lose it: a module it still maps never looks idle. */
void cfi_store_end(struct cfi_store *s, struct cfi_user *u)
{
	for (size_t i = 0; i < u->nnext; i++) {
		struct cfi_module *m = module_by_id(s, u->next[i]);
		if (m)
			m->users++;
	}
	drop_users(s, u->cur, u->ncur);
	uint64_t *ids = u->cur;
	size_t cap = u->capcur;
	u->cur = u->next;
	u->ncur = u->nnext;
	u->capcur = u->capnext;
	u->next = ids;
	u->capnext = cap;
	u->nnext = 0;
	sweep(s);
}

void cfi_store_stats(const struct cfi_store *s, struct cfi_store_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < s->nmods; i++) {
		const struct cfi_module *m = &s->mods[i];
		if (m->rows.count)
			st->rows_used += m->rows.count;
		if (m->rows.count && m->users)
			st->modules++;
		else if (m->rows.count)
			st->idle++;
		else if (!m->dropped)
			st->no_cfi++;
	}
	st->users = s->nusers;
	st->dropped = s->dropped;
	st->rows_cap = s->cap;
	st->rows_dropped = s->rows_dropped;
	st->build_ms = s->build_ns / 1e6;
	st->builds = s->builds;
}
