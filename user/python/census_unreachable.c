// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "python/census_refs.h"
#include "python/census_unreachable.h"

size_t census_find_unreachable(const struct cobj *objs, size_t n, const uint32_t *edges,
			       uint8_t *unreach, uint64_t *inconsistent)
{
	int64_t *refs = malloc(n * sizeof(*refs));
	uint32_t *stack = malloc(n * sizeof(*stack));
	size_t found = 0, top = 0;
	if (!refs || !stack) {
		free(refs);
		free(stack);
		memset(unreach, 0, n);
		return 0;
	}
	/* 1: start from the reference counts */
	for (size_t i = 0; i < n; i++)
		refs[i] = objs[i].refcnt;
	/* 2: subtract the references collected objects hold to each other */
	for (size_t i = 0; i < n; i++) {
		const struct cobj *o = &objs[i];
		if (!(o->flags & CO_GC) || !(o->flags & CO_DONE))
			continue;
		for (uint32_t k = 0; k < o->nedges; k++) {
			uint32_t e = edges[o->edge_lo + k];
			uint32_t j = CE_INDEX(e);
			if (CE_OWNED(e) && j < n && (objs[j].flags & CO_GC))
				refs[j]--;
		}
	}
	/* 3: roots: referenced from outside, or not enumerable */
	for (size_t i = 0; i < n; i++) {
		const struct cobj *o = &objs[i];
		unreach[i] = 0;
		if (!(o->flags & CO_GC))
			continue;
		bool root = refs[i] > 0 || !(o->flags & CO_READ) || !(o->flags & CO_DONE) ||
			    (o->flags & (CO_OPAQUE | CO_IMMORTAL | CO_TORN | CO_SEED));
		if (refs[i] < 0) {
			(*inconsistent)++;
			root = true;
		}
		if (root) {
			unreach[i] = 2; /* reached */
			stack[top++] = (uint32_t)i;
		} else {
			unreach[i] = 1; /* tentatively unreachable */
		}
	}
	/* 4: everything a reachable object references is reachable */
	while (top) {
		const struct cobj *o = &objs[stack[--top]];
		if (!(o->flags & CO_DONE))
			continue;
		for (uint32_t k = 0; k < o->nedges; k++) {
			uint32_t e = edges[o->edge_lo + k];
			uint32_t j = CE_INDEX(e);
			if (CE_OWNED(e) && j < n && unreach[j] == 1) {
				unreach[j] = 2;
				stack[top++] = j;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		unreach[i] = unreach[i] == 1;
		found += unreach[i];
	}
	free(refs);
	free(stack);
	return found;
}

long census_unreachable(struct census_heap *h, uint8_t *unreach, uint64_t *candidates)
{
	uint64_t inconsistent = 0;
	size_t n = census_find_unreachable(h->objs, h->nobjs, h->edges, unreach, &inconsistent);
	*candidates = n;
	if (!n)
		return 0;
	/* the second look: the candidates alone, read again */
	struct census_heap again;
	struct census_limits lim = h->lim;
	lim.max_objects = n;
	census_heap_init(&again, h->t, lim, h->names);
	again.classify = true;
	for (size_t i = 0; i < h->nobjs; i++)
		if (unreach[i] && census_obj(&again, h->objs[i].addr, CO_GC) == CT_NONE) {
			census_heap_free(&again);
			return -1;
		}
	again.closed = true;
	for (size_t lo = 0; lo < again.nobjs;) {
		size_t hi = again.nobjs - lo < census_chunk() ? again.nobjs : lo + census_chunk();
		if (census_read_refs(&again, lo, hi)) {
			census_heap_free(&again);
			return -1;
		}
		lo = hi;
	}
	uint8_t *still = malloc(again.nobjs ? again.nobjs : 1);
	if (!still) {
		census_heap_free(&again);
		return -1;
	}
	census_find_unreachable(again.objs, again.nobjs, again.edges, still, &inconsistent);
	long kept = 0;
	for (size_t i = 0; i < h->nobjs; i++) {
		if (!unreach[i])
			continue;
		uint32_t j = addrmap_get(&again.index, h->objs[i].addr);
		unreach[i] = j != ADDRMAP_NONE && still[j];
		kept += unreach[i];
	}
	h->st.reads.syscalls += again.st.reads.syscalls;
	h->st.reads.bytes += again.st.reads.bytes;
	free(still);
	census_heap_free(&again);
	return kept;
}
