// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The census's tables: objects by address, their edges, the roots. */
#include <stdlib.h>
#include <string.h>
#include "python/census_heap.h"
#include "util/array.h"

/* User-space addresses on x86_64 (47 bits). */
#define USER_TOP (1ULL << 47)

int census_heap_init(struct census_heap *h, struct census_target *t, struct census_limits lim,
		     struct interner *names)
{
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->lim = lim;
	h->names = names;
	h->classify = t->subtype_dealloc != 0;
	if (lim.max_objects > CE_MAX_INDEX)
		h->lim.max_objects = CE_MAX_INDEX;
	return 0;
}

void census_heap_free(struct census_heap *h)
{
	free(h->objs);
	free(h->edges);
	free(h->types);
	free(h->slots);
	free(h->roots);
	free(h->skeys);
	addrmap_free(&h->index);
	addrmap_free(&h->type_index);
	memset(h, 0, sizeof(*h));
}

uint32_t census_obj(struct census_heap *h, uint64_t addr, uint8_t flags)
{
	if (addr < 4096 || addr >= USER_TOP || (addr & 7))
		return CT_NONE;
	uint32_t i = addrmap_get(&h->index, addr);
	if (i != ADDRMAP_NONE) {
		h->objs[i].flags |= flags;
		return i;
	}
	if (h->closed)
		return CT_NONE;
	if (h->nobjs >= h->lim.max_objects || ARRAY_RESERVE(h->objs, h->objs_cap, h->nobjs + 1) ||
	    addrmap_put(&h->index, addr, (uint32_t)h->nobjs)) {
		h->st.truncated++;
		return CT_NONE;
	}
	struct cobj *o = &h->objs[h->nobjs];
	memset(o, 0, sizeof(*o));
	o->addr = addr;
	o->type = CT_NONE;
	o->flags = flags;
	return (uint32_t)h->nobjs++;
}

int census_edge(struct census_heap *h, enum crole role, uint32_t obj)
{
	/* edges are indexed by uint32_t like the objects */
	if (h->nedges >= UINT32_MAX - 1 || ARRAY_RESERVE(h->edges, h->edges_cap, h->nedges + 1)) {
		h->st.truncated++;
		return -1;
	}
	h->edges[h->nedges++] = CE_MAKE(role, obj);
	return 0;
}

void census_ref(struct census_heap *h, enum crole role, uint64_t addr)
{
	if (!addr || addr == h->t->set_dummy)
		return;
	uint32_t i = census_obj(h, addr, 0);
	if (i == CT_NONE) {
		if (addr < 4096 || addr >= USER_TOP || (addr & 7))
			h->st.invalid++;
		return;
	}
	census_edge(h, role, i);
}

int census_root(struct census_heap *h, const struct croot *r)
{
	if (ARRAY_RESERVE(h->roots, h->roots_cap, h->nroots + 1))
		return -1;
	h->roots[h->nroots++] = *r;
	return 0;
}

bool census_in_text(const struct census_target *t, uint64_t addr)
{
	for (size_t i = 0; i < t->ntext; i++)
		if (addr >= t->text[i][0] && addr < t->text[i][1])
			return true;
	return false;
}
