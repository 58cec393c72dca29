// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The heap walk. The collector keeps every object it tracks in one of four
 * doubly linked lists (generations 0-2 and the permanent one, which
 * gc.freeze() fills), whose heads live in its state. Each list is followed
 * through a block cache, checking at every step that the next object links
 * back to the current one; a list that changes under the walk is walked
 * again from its head (twice at most), then kept as far as it was
 * consistent. What the lists hold and the frames' locals then seed the
 * reference walk (census_refs.c), which adds every object they reach.
 */
#include <stdio.h>
#include <string.h>
#include "python/census_refs.h"
#include "python/census_types.h"
#include "python/census_walk.h"
#include "util/array.h"

#define LIST_TRIES 3

uint64_t census_interp(const struct census_target *t)
{
	uint64_t interp = 0;
	struct read_stats st = {0};
	if (read_one(t->pid, t->runtime + t->cl.rt_interp_main, &interp, sizeof(interp), &st))
		return 0;
	return interp;
}

/* Base of the collector's state: in _PyRuntime (3.8), in the interpreter. */
static uint64_t gc_base(const struct census_target *t)
{
	if (t->cl.gc_in_runtime)
		return t->runtime + t->cl.gc_state;
	uint64_t interp = census_interp(t);
	return interp ? interp + t->cl.gc_state : 0;
}

static int read_gc_state(struct census_heap *h, uint64_t gcs)
{
	const struct census_layout *cl = &h->t->cl;
	uint8_t b[256];
	if (cl->gc_collecting + 4u > sizeof(b) ||
	    read_one(h->t->pid, gcs, b, cl->gc_collecting + 4u, &h->st.reads))
		return -1;
	int32_t v;
	memcpy(&v, b + cl->gc_enabled, 4);
	h->gc.enabled = v != 0;
	memcpy(&v, b + cl->gc_collecting, 4);
	h->gc.collecting = v != 0;
	for (int g = 0; g < 3; g++) {
		size_t gen = cl->gc_generations + (size_t)g * cl->gen_size;
		memcpy(&h->gc.thresholds[g], b + gen + cl->gen_threshold, 4);
		memcpy(&h->gc.counts[g], b + gen + cl->gen_count, 4);
	}
	h->gc.known = true;
	return 0;
}

/* Pointers in the collector's links carry flags in their low two bits. */
#define LINK(v) ((v) & ~(uint64_t)3)

/* Walk one list from its head. Returns 0 when it came back to its head,
 * 1 when it must be walked again (it changed), -1 when the heap is full. */
static int walk_list(struct census_heap *h, struct read_cache *c, uint64_t head, uint8_t gen,
		     size_t *added)
{
	uint8_t b[32];
	uint64_t cur = head, next;
	*added = 0;
	if (read_cached(c, head, b, 16))
		return 1;
	next = LINK(read_u64(b, 0));
	while (next != head) {
		uint64_t prev;
		if (!next || (next & 7) || read_cached(c, next, b, sizeof(b)))
			return 1;
		prev = LINK(read_u64(b, 8));
		if (prev != cur) {
			/* a stale block, or the list really changed: read again */
			if (read_one(h->t->pid, next, b, sizeof(b), &h->st.reads) ||
			    LINK(read_u64(b, 8)) != cur)
				return 1;
		}
		uint64_t obj = next + h->t->cl.gc_head_size;
		uint32_t before = (uint32_t)h->nobjs;
		uint32_t i = census_obj(h, obj, 0);
		if (i == CT_NONE)
			return h->nobjs >= h->lim.max_objects ? -1 : 1;
		if (i != before || (h->objs[i].flags & CO_GC))
			return 1; /* seen already: a loop, or an object that moved lists */
		h->objs[i].flags |= CO_GC;
		h->objs[i].gen = gen;
		/* learn the types now: which classes are Python's is decided
		 * from them before any reference is read */
		ctype_get(h, read_u64(b, 16 + 8));
		(*added)++;
		cur = next;
		next = LINK(read_u64(b, 0));
	}
	return 0;
}

static int walk_lists(struct census_heap *h, uint64_t gcs)
{
	const struct census_layout *cl = &h->t->cl;
	struct read_cache c;
	if (read_cache_init(&c, h->t->pid, CENSUS_CACHE_BYTES, &h->st.reads))
		return -1;
	h->st.mem_bytes += CENSUS_CACHE_BYTES;
	for (uint8_t g = 0; g < 4; g++) {
		uint64_t head = gcs + (g < 3 ? cl->gc_generations + (uint64_t)g * cl->gen_size
					     : cl->gc_permanent);
		for (int tries = 0; tries < LIST_TRIES; tries++) {
			size_t keep = h->nobjs, added;
			int r = walk_list(h, &c, head, g, &added);
			h->st.gen_objects[g] += added;
			if (r == 0)
				break;
			if (r < 0 || tries + 1 == LIST_TRIES) {
				/* keep what was consistent so far */
				h->st.lists_cut++;
				break;
			}
			/* forget this list's objects and walk it again */
			for (size_t i = keep; i < h->nobjs; i++)
				addrmap_put(&h->index, h->objs[i].addr, ADDRMAP_NONE);
			h->st.gen_objects[g] -= added;
			h->nobjs = keep;
			h->st.list_restarts++;
			read_cache_clear(&c);
		}
	}
	h->st.cache_hits = c.hits;
	h->st.cache_misses = c.misses;
	read_cache_free(&c);
	return 0;
}

int census_walk(struct census_heap *h, char *err, size_t errlen)
{
	uint64_t gcs = gc_base(h->t);
	if (!gcs || read_gc_state(h, gcs)) {
		snprintf(err, errlen,
			 "cannot read the collector's state of pid %d (interpreter not "
			 "initialised, or exiting)",
			 (int)h->t->pid);
		return -1;
	}
	if (walk_lists(h, gcs)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->st.gc_objects = h->nobjs;
	census_frames(h);
	ctype_classify_all(h);
	size_t chunk = census_chunk();
	for (size_t lo = 0; lo < h->nobjs;) {
		size_t hi = h->nobjs - lo < chunk ? h->nobjs : lo + chunk;
		if (census_read_refs(h, lo, hi)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		lo = hi;
	}
	ctype_name_all(h);
	h->st.objects = h->nobjs;
	for (size_t i = 0; i < h->nobjs; i++)
		if ((h->objs[i].flags & (CO_GC | CO_OPAQUE)) == (CO_GC | CO_OPAQUE))
			h->st.opaque_gc++;
	h->st.mem_bytes += h->objs_cap * sizeof(*h->objs) + h->edges_cap * sizeof(*h->edges) +
			   addrmap_bytes(&h->index) + addrmap_bytes(&h->type_index) +
			   h->types_cap * sizeof(*h->types);
	return 0;
}
