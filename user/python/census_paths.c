// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Paths from roots to objects, for naming holders: a breadth-first search
 * from every module ("logging") and every frame's local ("__main__.main:q")
 * along items and attribute dicts, where going through an object's own
 * dict (a module's, a class's, an instance's __dict__) or a closure cell
 * costs nothing, so "logging.root.handlers" is two steps. Each step is then
 * named from its parent: ".attr" through an attribute dict or an instance's
 * values, "['key']" through a plain dict, "[i]" through a sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/census_holders.h"
#include "python/census_names.h"
#include "python/census_types.h"
#include "util/array.h"

#define MAX_DEPTH   12
#define UNSEEN	    0xff
#define PATH_MAX_CH 512

struct search {
	struct census_heap *h;
	uint8_t *cost;
	uint32_t *parent; /* CT_NONE at a root */
	const char **root_label;
	uint32_t *level, *next; /* objects of this cost and the next */
	size_t nlevel, nnext;
};

static uint8_t kind_of(const struct census_heap *h, uint32_t i)
{
	const struct ctype *ct = cobj_type(h, i);
	return ct ? ct->kind : CK_OPAQUE;
}

/* Free steps: into an object's own attribute dict, or a cell's content. */
static bool free_step(const struct census_heap *h, uint32_t from, uint32_t e)
{
	return CE_ROLE(e) == CR_ATTRS || kind_of(h, from) == CK_CELL;
}

static void visit(struct search *s, uint32_t obj, uint32_t from, uint8_t cost, bool same_level)
{
	if (s->cost[obj] != UNSEEN)
		return;
	s->cost[obj] = cost;
	s->parent[obj] = from;
	if (same_level)
		s->level[s->nlevel++] = obj;
	else
		s->next[s->nnext++] = obj;
}

/* The name of a module object, from __name__ in its dict. */
static const char *module_name(struct census_heap *h, uint32_t mod)
{
	const struct cobj *o = &h->objs[mod];
	for (uint32_t k = 0; k < o->nedges; k++) {
		uint32_t e = h->edges[o->edge_lo + k];
		if (CE_ROLE(e) != CR_ATTRS)
			continue;
		uint32_t v = census_dict_get(h, CE_INDEX(e), "__name__", &h->name_key);
		return v == CT_NONE ? NULL : census_pystr(h, h->objs[v].addr);
	}
	return NULL;
}

/* The module whose dict is `globals`, by name, or NULL. */
static const char *globals_module(struct census_heap *h, uint64_t globals)
{
	uint32_t d = addrmap_get(&h->index, globals);
	if (d == ADDRMAP_NONE)
		return NULL;
	uint32_t v = census_dict_get(h, d, "__name__", &h->name_key);
	return v == CT_NONE ? NULL : census_pystr(h, h->objs[v].addr);
}

struct named_root {
	uint32_t obj;
	const char *label;
};

static int by_label(const void *a, const void *b)
{
	const struct named_root *x = a, *y = b;
	/* __main__ first: the program's own names read best */
	bool mx = !strcmp(x->label, "__main__"), my = !strcmp(y->label, "__main__");
	if (mx != my)
		return mx ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* The roots, modules first (sorted by name, __main__ first), then locals;
 * *nmodules of them are modules. */
static size_t roots(struct census_heap *h, struct named_root **out, size_t *nmodules)
{
	struct named_root *r = NULL;
	size_t n = 0, cap = 0;
	char buf[PATH_MAX_CH];
	for (uint32_t i = 0; i < h->nobjs; i++) {
		if (kind_of(h, i) != CK_MODULE || !(h->objs[i].flags & CO_DONE))
			continue;
		const char *name = module_name(h, i);
		if (!name || ARRAY_RESERVE(r, cap, n + 1))
			continue;
		r[n++] = (struct named_root){.obj = i, .label = name};
	}
	qsort(r, n, sizeof(*r), by_label);
	*nmodules = n;
	for (size_t k = 0; k < h->nroots; k++) {
		const struct croot *cr = &h->roots[k];
		const char *mod = globals_module(h, cr->globals);
		snprintf(buf, sizeof(buf), "%s%s%s:%s", mod ? mod : "", mod ? "." : "", cr->func,
			 cr->var);
		const char *label = census_intern(h, buf);
		if (!label || ARRAY_RESERVE(r, cap, n + 1))
			continue;
		r[n++] = (struct named_root){.obj = cr->obj, .label = label};
	}
	*out = r;
	return n;
}

/* Position of child among parent's edges that a path may take, or -1. */
static long edge_pos(const struct census_heap *h, uint32_t parent, uint32_t child)
{
	const struct cobj *o = &h->objs[parent];
	for (uint32_t k = 0; k < o->nedges; k++) {
		uint32_t e = h->edges[o->edge_lo + k];
		if (CE_INDEX(e) == child && (CE_ROLE(e) == CR_ITEM || CE_ROLE(e) == CR_ATTRS))
			return k;
	}
	return -1;
}

/* repr() of a dict key, short. */
static void key_repr(struct census_heap *h, uint32_t key, char *out, size_t len)
{
	const struct ctype *ct = cobj_type(h, key);
	const char *s = ct && ct->kind == CK_STR ? census_pystr(h, h->objs[key].addr) : NULL;
	if (s)
		snprintf(out, len, "'%.60s%s'", s, strlen(s) > 60 ? "..." : "");
	else
		snprintf(out, len, "<%s>", ct && ct->name ? ct->name : "?");
}

/* The name of a slot of instance `obj` that holds `child`: read again. */
static const char *slot_name(struct census_heap *h, uint32_t obj, uint32_t child)
{
	const struct ctype *ct = cobj_type(h, obj);
	for (uint32_t i = 0; ct && i < ct->nslots; i++) {
		uint64_t v;
		const struct ctype_slot *sl = &h->slots[ct->slot0 + i];
		if (!read_one(h->t->pid, h->objs[obj].addr + sl->offset, &v, sizeof(v),
			      &h->st.reads) &&
		    v == h->objs[child].addr)
			return sl->name;
	}
	return NULL;
}

/* Append the step parent -> child to path. `attrs`: parent was reached as
 * an object's own dict, so its keys are attribute names. */
static void step(struct census_heap *h, uint32_t parent, uint32_t child, bool attrs, char *path,
		 size_t len)
{
	char part[128] = "";
	long k = edge_pos(h, parent, child);
	const struct cobj *o = &h->objs[parent];
	if (k < 0)
		return;
	uint32_t e = h->edges[o->edge_lo + k];
	if (CE_ROLE(e) == CR_ATTRS || kind_of(h, parent) == CK_CELL)
		return; /* transparent */
	uint32_t prev = k > 0 ? h->edges[o->edge_lo + k - 1] : 0;
	bool keyed = k > 0 && (CE_ROLE(prev) == CR_KEY || CE_ROLE(prev) == CR_NAME);
	uint8_t kind = kind_of(h, parent);
	if (keyed && (attrs || kind != CK_DICT)) {
		/* an attribute: through an object's dict, or instance values */
		const char *s = census_pystr(h, h->objs[CE_INDEX(prev)].addr);
		snprintf(part, sizeof(part), ".%s", s ? s : "?");
	} else if (keyed) {
		char kr[96];
		key_repr(h, CE_INDEX(prev), kr, sizeof(kr));
		snprintf(part, sizeof(part), "[%s]", kr);
	} else if (kind == CK_LIST || kind == CK_TUPLE || kind == CK_DEQUE) {
		uint32_t i = 0;
		for (long j = 0; j < k; j++)
			i += CE_ROLE(h->edges[o->edge_lo + j]) == CR_ITEM;
		if (i < o->items)
			snprintf(part, sizeof(part), "[%u]", i);
	} else if (kind == CK_SET) {
		snprintf(part, sizeof(part), "{...}");
	}
	if (!part[0]) {
		const char *s = slot_name(h, parent, child);
		snprintf(part, sizeof(part), ".%s", s ? s : "?");
	}
	size_t used = strlen(path);
	snprintf(path + used, len - used, "%s", part);
}

static const char *render(struct search *s, uint32_t obj)
{
	struct census_heap *h = s->h;
	uint32_t chain[MAX_DEPTH * 4 + 2];
	size_t n = 0;
	char path[PATH_MAX_CH];
	if (s->cost[obj] == UNSEEN)
		return NULL;
	for (uint32_t x = obj; x != CT_NONE && n < sizeof(chain) / sizeof(chain[0]);
	     x = s->parent[x])
		chain[n++] = x;
	if (s->parent[chain[n - 1]] != CT_NONE)
		return NULL; /* longer than the chain kept */
	snprintf(path, sizeof(path), "%s", s->root_label[chain[n - 1]]);
	bool attrs = kind_of(h, chain[n - 1]) == CK_MODULE;
	for (size_t i = n - 1; i > 0; i--) {
		uint32_t parent = chain[i], child = chain[i - 1];
		long k = edge_pos(h, parent, child);
		step(h, parent, child, attrs, path, sizeof(path));
		attrs = k >= 0 && CE_ROLE(h->edges[h->objs[parent].edge_lo + k]) == CR_ATTRS;
	}
	return census_intern(h, path);
}

/* One breadth-first search from roots r[0..nr). */
static void search(struct search *s, const struct named_root *r, size_t nr)
{
	struct census_heap *h = s->h;
	memset(s->cost, UNSEEN, h->nobjs);
	s->nlevel = s->nnext = 0;
	for (size_t k = 0; k < nr; k++) {
		if (s->cost[r[k].obj] == UNSEEN)
			s->root_label[r[k].obj] = r[k].label;
		visit(s, r[k].obj, CT_NONE, 0, true);
	}
	for (uint8_t cost = 0; cost <= MAX_DEPTH && s->nlevel; cost++) {
		for (size_t q = 0; q < s->nlevel; q++) {
			uint32_t x = s->level[q];
			const struct cobj *o = &h->objs[x];
			if (!(o->flags & CO_DONE))
				continue;
			for (uint32_t k = 0; k < o->nedges; k++) {
				uint32_t e = h->edges[o->edge_lo + k];
				if (CE_ROLE(e) != CR_ITEM && CE_ROLE(e) != CR_ATTRS)
					continue;
				bool free = free_step(h, x, e);
				visit(s, CE_INDEX(e), x, free ? cost : cost + 1, free);
			}
		}
		uint32_t *t = s->level;
		s->level = s->next;
		s->next = t;
		s->nlevel = s->nnext;
		s->nnext = 0;
	}
}

void census_paths(struct census_heap *h, const uint32_t *objs, size_t n, const char **paths)
{
	struct search s = {.h = h};
	struct named_root *r = NULL;
	size_t nr, nmodules = 0;
	if (!n)
		return;
	s.cost = malloc(h->nobjs);
	s.parent = malloc(h->nobjs * sizeof(*s.parent));
	s.root_label = malloc(h->nobjs * sizeof(*s.root_label));
	s.level = malloc(h->nobjs * sizeof(*s.level));
	s.next = malloc(h->nobjs * sizeof(*s.next));
	nr = roots(h, &r, &nmodules);
	if (!s.cost || !s.parent || !s.root_label || !s.level || !s.next)
		goto out;
	/* names from modules first: they outlive any frame; a frame's local
	 * names what no module reaches ("__main__.main:q.queue") */
	search(&s, r, nmodules);
	bool unnamed = false;
	for (size_t k = 0; k < n; k++)
		unnamed |= !(paths[k] = render(&s, objs[k]));
	if (unnamed && nr > nmodules) {
		search(&s, r, nr);
		for (size_t k = 0; k < n; k++)
			if (!paths[k])
				paths[k] = render(&s, objs[k]);
	}
out:
	free(r);
	free(s.cost);
	free(s.parent);
	free(s.root_label);
	free(s.level);
	free(s.next);
}
