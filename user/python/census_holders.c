// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "python/census_holders.h"
#include "util/array.h"

static bool is_container(const struct census_heap *h, size_t i)
{
	const struct ctype *ct = cobj_type(h, i);
	return ct && (h->objs[i].flags & CO_DONE) &&
	       (ct->kind == CK_LIST || ct->kind == CK_TUPLE || ct->kind == CK_DICT ||
		ct->kind == CK_SET || ct->kind == CK_DEQUE);
}

static uint32_t row_of(const struct census_heap *h, const uint32_t *type_row, size_t i)
{
	return h->objs[i].type == CT_NONE ? CT_NONE : type_row[h->objs[i].type];
}

int containers_record(struct census_containers *c, const struct census_heap *h,
		      const uint32_t *type_row)
{
	addrmap_clear(&c->index);
	c->n = 0;
	for (size_t i = 0; i < h->nobjs; i++) {
		if (!is_container(h, i) || !h->objs[i].items)
			continue;
		if (ARRAY_RESERVE(c->c, c->cap, c->n + 1) ||
		    addrmap_put(&c->index, h->objs[i].addr, (uint32_t)c->n))
			return -1;
		c->c[c->n].items = h->objs[i].items;
		c->c[c->n].row = row_of(h, type_row, i);
		c->n++;
	}
	return 0;
}

void containers_free(struct census_containers *c)
{
	addrmap_free(&c->index);
	free(c->c);
	memset(c, 0, sizeof(*c));
}

/* Items of this container then (0 when it was not kept, or was another
 * type's); *found says whether it was there. */
static uint32_t items_then(const struct census_containers *c, uint64_t addr, uint32_t row,
			   bool *found)
{
	uint32_t k = c ? addrmap_get(&c->index, addr) : ADDRMAP_NONE;
	*found = k != ADDRMAP_NONE && c->c[k].row == row;
	return *found ? c->c[k].items : 0;
}

struct cand {
	uint32_t obj;
	uint64_t growing_items;
	int64_t growth, delta;
	bool fresh;
	uint32_t ranks; /* bit r: holds objects of the type that grows r-th most */
	const char *path;
};

static int by_growth(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->growth != y->growth)
		return x->growth > y->growth ? -1 : 1;
	/* at equal growth, a container with a name before one without */
	if (!x->path != !y->path)
		return x->path ? -1 : 1;
	if (x->growing_items != y->growing_items)
		return x->growing_items > y->growing_items ? -1 : 1;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

/* The most frequent types of a holder's items. */
static void item_types(const struct census_heap *h, const struct holders_in *in, uint32_t obj,
		       struct obj_holder *out)
{
	struct {
		uint32_t row;
		uint64_t n;
	} top[16];
	size_t ntop = 0;
	const struct cobj *o = &h->objs[obj];
	for (uint32_t k = 0; k < o->nedges; k++) {
		uint32_t e = h->edges[o->edge_lo + k];
		if (CE_ROLE(e) != CR_ITEM)
			continue;
		uint32_t row = row_of(h, in->type_row, CE_INDEX(e));
		if (row == CT_NONE)
			continue;
		size_t j = 0;
		while (j < ntop && top[j].row != row)
			j++;
		if (j == ntop) {
			if (ntop == 16)
				continue;
			top[ntop].row = row;
			top[ntop++].n = 0;
		}
		top[j].n++;
	}
	out->nitem_types = 0;
	for (size_t pick = 0; pick < OBJ_ITEM_TYPES && pick < ntop; pick++) {
		size_t best = pick;
		for (size_t j = pick + 1; j < ntop; j++)
			if (top[j].n > top[best].n)
				best = j;
		typeof(top[0]) t = top[pick];
		top[pick] = top[best];
		top[best] = t;
		out->item_types[out->nitem_types].type = in->row_names[top[pick].row];
		out->item_types[out->nitem_types++].count = top[pick].n;
	}
}

/* Dicts that are an object's own attributes (__dict__ of instances,
 * modules, classes): what they hold is named through their owner. */
static uint8_t *attribute_dicts(const struct census_heap *h)
{
	uint8_t *attrs = calloc(h->nobjs ? h->nobjs : 1, 1);
	for (size_t i = 0; attrs && i < h->nedges; i++)
		if (CE_ROLE(h->edges[i]) == CR_ATTRS && CE_INDEX(h->edges[i]) < h->nobjs)
			attrs[CE_INDEX(h->edges[i])] = 1;
	return attrs;
}

/* Choose up to max candidates (sorted by growth): first the most grown
 * holder of each type that grows, in the order of the types' growth, then
 * a second one each, then the rest by growth. Chosen ones are moved to the
 * front, the others keep their order; returns how many to keep. */
static size_t choose(struct cand *c, size_t nc, size_t max)
{
	size_t n = 0;
	for (int round = 0; round < 2; round++)
		for (unsigned r = 1; r <= 31 && n < max; r++)
			for (size_t k = n; k < nc; k++) {
				if (!(c[k].ranks & (1u << r)))
					continue;
				struct cand t = c[k];
				memmove(c + n + 1, c + n, (k - n) * sizeof(*c));
				c[n++] = t;
				break;
			}
	(void)n; /* the rest follow, still by growth */
	return nc < max ? nc : max;
}

size_t census_holders(struct census_heap *h, const struct holders_in *in, struct obj_holder *out)
{
	struct cand *c = NULL;
	size_t nc = 0, cap = 0;
	uint8_t *attrs = attribute_dicts(h);
	if (!attrs)
		return 0;
	for (size_t i = 0; i < h->nobjs; i++) {
		const struct cobj *o = &h->objs[i];
		if (!is_container(h, i) || !o->items || attrs[i])
			continue;
		uint64_t g = 0;
		uint32_t ranks = 0;
		for (uint32_t k = 0; k < o->nedges; k++) {
			uint32_t e = h->edges[o->edge_lo + k];
			uint32_t row = row_of(h, in->type_row, CE_INDEX(e));
			if (CE_ROLE(e) == CR_ITEM && row != CT_NONE && in->growing[row]) {
				g++;
				ranks |= 1u << (in->growing[row] & 31);
			}
		}
		if (!g)
			continue;
		uint32_t row = row_of(h, in->type_row, i);
		bool found_first, found_prev;
		uint32_t then = items_then(in->first, o->addr, row, &found_first);
		uint32_t before = items_then(in->prev, o->addr, row, &found_prev);
		int64_t growth = (int64_t)o->items - then;
		if (growth <= 0 || (!found_first && o->items < HOLDER_MIN_ITEMS))
			continue;
		if (ARRAY_RESERVE(c, cap, nc + 1))
			break;
		c[nc++] = (struct cand){.obj = (uint32_t)i,
					.growing_items = g,
					.growth = growth,
					.delta = (int64_t)o->items - before,
					.fresh = !found_first,
					.ranks = ranks};
	}
	free(attrs);
	qsort(c, nc, sizeof(*c), by_growth);
	size_t n = choose(c, nc, in->max);
	uint32_t *objs = malloc((n ? n : 1) * sizeof(*objs));
	const char **paths = calloc(n ? n : 1, sizeof(*paths));
	if (!objs || !paths)
		n = 0;
	for (size_t k = 0; k < n; k++)
		objs[k] = c[k].obj;
	census_paths(h, objs, n, paths);
	for (size_t k = 0; k < n; k++)
		c[k].path = paths[k];
	qsort(c, n, sizeof(*c), by_growth);
	for (size_t k = 0; k < n; k++) {
		const struct cobj *o = &h->objs[c[k].obj];
		struct obj_holder *ho = &out[k];
		memset(ho, 0, sizeof(*ho));
		ho->path = c[k].path ? c[k].path : "?";
		uint32_t row = row_of(h, in->type_row, c[k].obj);
		ho->container = row == CT_NONE ? "?" : in->row_names[row];
		ho->addr = o->addr;
		ho->items = o->items;
		ho->items_growth = c[k].growth;
		ho->items_delta = c[k].delta;
		ho->new_container = c[k].fresh;
		ho->growing_items = c[k].growing_items;
		item_types(h, in, c[k].obj, ho);
	}
	free(objs);
	free(paths);
	free(c);
	return n;
}
