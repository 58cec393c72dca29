// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Address table and stack table: outstanding bytes per stack. */
#include <stdlib.h>
#include <string.h>
#include "account/aggregate.h"
#include "util/array.h"
#include "util/hash.h"
#include "util/u64_table.h"

/* Stack 0 collects allocations whose stack did not fit in the table. */
#define OVERFLOW_STACK 0

static uint64_t hash_stack(const struct agg_alloc *al)
{
	/* growth mode: a thread stack's pages are a stack of their own */
	uint64_t h = HASH_SEED ^ ((uint64_t)al->n_native << 16 | al->n_py) ^
		     (al->flags & RM_STACK_THREAD ? 1ULL << 40 : 0);
	for (unsigned i = 0; i < al->n_native; i++)
		h = hash_mix64(h ^ al->ips[i]);
	for (unsigned i = 0; i < al->n_py; i++)
		h = hash_mix64(h ^ al->py[i].code ^
			       ((uint64_t)al->py[i].lasti << 32 | al->py[i].tag));
	return h ? h : 1;
}

int agg_init(struct aggregate *a, uint64_t max_tracked, uint32_t max_stacks,
	     agg_frame_resolver resolve, void *resolve_ctx)
{
	memset(a, 0, sizeof(*a));
	a->max_tracked = max_tracked;
	a->max_stacks = max_stacks;
	a->resolve = resolve;
	a->resolve_ctx = resolve_ctx;
	u64_table_init(&a->blocks, sizeof(struct agg_block));
	a->index_cap = 1 << 12;
	a->index = calloc(a->index_cap, sizeof(*a->index));
	/* grows; -a keeps one aggregate per process */
	if (u64_table_reserve(&a->blocks, 1 << 11) || !a->index ||
	    ARRAY_RESERVE(a->stacks, a->stacks_cap, 256) ||
	    ARRAY_RESERVE(a->free_ids, a->free_cap, 256))
		return -1;
	a->stacks[OVERFLOW_STACK].used = true;
	a->nstacks = 1;
	return 0;
}

static void stack_release(struct agg_stack *s)
{
	free(s->ips);
	free(s->py);
	free(s->pyres);
	memset(s, 0, sizeof(*s));
}

void agg_free(struct aggregate *a)
{
	for (uint32_t i = 0; i < a->nstacks; i++)
		stack_release(&a->stacks[i]);
	free(a->stacks);
	free(a->free_ids);
	free(a->index);
	u64_table_free(&a->blocks);
	memset(a, 0, sizeof(*a));
}

/* ---- stack table ---- */

static void index_insert(uint32_t *index, uint64_t cap, const struct agg_stack *stacks, uint32_t id)
{
	uint64_t i = stacks[id].hash & (cap - 1);
	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = id + 1;
}

static int index_rebuild(struct aggregate *a, uint64_t cap)
{
	uint32_t *n = calloc(cap, sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t id = 1; id < a->nstacks; id++)
		if (a->stacks[id].used)
			index_insert(n, cap, a->stacks, id);
	free(a->index);
	a->index = n;
	a->index_cap = cap;
	return 0;
}

static bool stack_equal(const struct agg_stack *s, const struct agg_alloc *al)
{
	return s->n_native == al->n_native && s->n_py == al->n_py &&
	       (s->flags & RM_STACK_THREAD) == (al->flags & RM_STACK_THREAD) &&
	       (!s->n_native || !memcmp(s->ips, al->ips, s->n_native * sizeof(*s->ips))) &&
	       (!s->n_py || !memcmp(s->py, al->py, s->n_py * sizeof(*s->py)));
}

/* A free id, or a new one; free_ids has room for every id ever given. */
static uint32_t stack_new_id(struct aggregate *a)
{
	if (a->nfree)
		return a->free_ids[--a->nfree];
	if (a->nstacks == UINT32_MAX || ARRAY_RESERVE(a->stacks, a->stacks_cap, a->nstacks + 1) ||
	    ARRAY_RESERVE(a->free_ids, a->free_cap, a->nstacks + 1))
		return OVERFLOW_STACK;
	return a->nstacks++;
}

static uint32_t live_stacks(const struct aggregate *a)
{
	return a->nstacks - a->nfree;
}

static uint32_t stack_intern(struct aggregate *a, const struct agg_alloc *al)
{
	uint64_t h = hash_stack(al);
	uint64_t i = h & (a->index_cap - 1);
	for (; a->index[i]; i = (i + 1) & (a->index_cap - 1)) {
		struct agg_stack *s = &a->stacks[a->index[i] - 1];
		if (s->hash == h && stack_equal(s, al))
			return a->index[i] - 1;
	}
	if (live_stacks(a) >= a->max_stacks) {
		/* Compacting is a full scan: when it found nothing to drop, wait
		 * for a few thousand more overflows before trying again. */
		if (a->stack_table_full < a->compact_after || agg_compact(a) == 0) {
			if (a->stack_table_full >= a->compact_after)
				a->compact_after = a->stack_table_full + 4096;
			a->stack_table_full++;
			return OVERFLOW_STACK;
		}
	}
	uint32_t id = stack_new_id(a);
	if (id == OVERFLOW_STACK) {
		a->stack_table_full++;
		return OVERFLOW_STACK;
	}
	struct agg_stack *s = &a->stacks[id];
	memset(s, 0, sizeof(*s));
	s->hash = h;
	s->serial = ++a->next_serial;
	s->used = true;
	s->flags = al->flags;
	s->n_native = al->n_native;
	s->n_py = al->n_py;
	s->ips = malloc((s->n_native ? s->n_native : 1) * sizeof(*s->ips));
	s->py = malloc((s->n_py ? s->n_py : 1) * sizeof(*s->py));
	s->pyres = calloc(s->n_py ? s->n_py : 1, sizeof(*s->pyres));
	if (!s->ips || !s->py || !s->pyres) {
		stack_release(s);
		a->free_ids[a->nfree++] = id;
		a->stack_table_full++;
		return OVERFLOW_STACK;
	}
	if (s->n_native)
		memcpy(s->ips, al->ips, s->n_native * sizeof(*s->ips));
	if (s->n_py)
		memcpy(s->py, al->py, s->n_py * sizeof(*s->py));
	/* Code objects may be gone by report time: resolve them now. */
	for (unsigned k = 0; a->resolve && k < s->n_py; k++)
		a->resolve(a->resolve_ctx, &s->py[k], &s->pyres[k]);

	if ((uint64_t)live_stacks(a) * 2 > a->index_cap) {
		if (index_rebuild(a, a->index_cap * 2))
			a->stack_table_full++;
	} else {
		index_insert(a->index, a->index_cap, a->stacks, id);
	}
	return id;
}

uint32_t agg_compact(struct aggregate *a)
{
	uint32_t dropped = 0;
	for (uint32_t id = 1; id < a->nstacks; id++) {
		struct agg_stack *s = &a->stacks[id];
		if (!s->used || s->out_count)
			continue;
		stack_release(s);
		a->free_ids[a->nfree++] = id;
		dropped++;
	}
	if (dropped)
		index_rebuild(a, a->index_cap);
	a->stacks_released += dropped;
	return dropped;
}

/* ---- address table ---- */

static struct agg_block *block_find(struct aggregate *a, uint64_t addr)
{
	return u64_table_find(&a->blocks, addr);
}

static void forget(struct aggregate *a, struct agg_block *b)
{
	struct agg_stack *s = &a->stacks[b->stack];
	s->out_bytes -= b->size;
	s->out_count--;
	u64_table_remove(&a->blocks, b);
}

void agg_free_block(struct aggregate *a, uint64_t addr)
{
	a->counts.frees++;
	/* 0 marks an empty slot: no block has it */
	struct agg_block *b = addr ? block_find(a, addr) : NULL;
	if (!b) {
		/* allocated before attach, untracked, or a nested double report */
		a->counts.frees_unknown++;
		return;
	}
	forget(a, b);
}

/* Whether the address table has room for one more block; counts a miss. */
static bool block_room(struct aggregate *a)
{
	if (a->blocks.used >= a->max_tracked) {
		a->addr_table_full++;
		return false;
	}
	if (u64_table_reserve(&a->blocks, 1)) {
		a->addr_table_full++;
		return false;
	}
	return true;
}

static void block_add(struct aggregate *a, uint64_t addr, uint64_t size, uint64_t ts_ns,
		      uint32_t id)
{
	struct agg_stack *s = &a->stacks[id];
	struct agg_block *b = u64_table_add(&a->blocks, addr);
	b->size = size;
	b->ts_ns = ts_ns;
	b->stack = id;
	s->out_bytes += size;
	s->out_count++;
	s->alloc_bytes += size;
	s->alloc_count++;
	if (!s->first_ns)
		s->first_ns = ts_ns;
	s->last_ns = ts_ns;
}

void agg_alloc(struct aggregate *a, const struct agg_alloc *al)
{
	a->counts.allocs++;
	if (al->old_addr) {
		struct agg_block *old = block_find(a, al->old_addr);
		if (old)
			forget(a, old);
	}
	if (!al->addr)
		return; /* 0 marks an empty slot (the intake never sends it) */
	struct agg_block *b = block_find(a, al->addr);
	if (b) {
		/* A free we never saw (ring buffer drop): the old block is gone. */
		forget(a, b);
	}
	if (!block_room(a))
		return;
	block_add(a, al->addr, al->size, al->ts_ns, stack_intern(a, al));
}

uint32_t agg_intern(struct aggregate *a, const struct agg_alloc *al)
{
	return stack_intern(a, al);
}

bool agg_add_block(struct aggregate *a, uint64_t addr, uint64_t size, uint64_t ts_ns,
		   uint32_t stack)
{
	a->counts.allocs++;
	struct agg_block *b = addr ? block_find(a, addr) : NULL;
	if (b)
		forget(a, b);
	if (!addr || stack >= a->nstacks || !a->stacks[stack].used || !block_room(a))
		return false;
	block_add(a, addr, size, ts_ns, stack);
	return true;
}

const struct agg_block *agg_find_block(struct aggregate *a, uint64_t addr)
{
	return addr ? block_find(a, addr) : NULL;
}

bool agg_move_block(struct aggregate *a, uint64_t from, uint64_t to)
{
	struct agg_block *b = from ? block_find(a, from) : NULL;
	if (!b || !to || block_find(a, to))
		return false;
	struct agg_block moved = *b;
	u64_table_remove(&a->blocks, b);
	struct agg_block *n = u64_table_add(&a->blocks, to); /* room: one left, one comes */
	n->size = moved.size;
	n->ts_ns = moved.ts_ns;
	n->stack = moved.stack;
	n->origin = moved.origin;
	return true;
}

void agg_give_block(struct aggregate *a, struct agg_block *b, uint32_t to)
{
	struct agg_stack *from = &a->stacks[b->stack];
	from->out_bytes -= b->size;
	from->out_count--;
	b->stack = to;
	struct agg_stack *s = &a->stacks[to];
	s->out_bytes += b->size;
	s->out_count++;
	s->alloc_bytes += b->size;
	s->alloc_count++;
	if (!s->first_ns || b->ts_ns < s->first_ns)
		s->first_ns = b->ts_ns;
	if (b->ts_ns > s->last_ns)
		s->last_ns = b->ts_ns;
}

void agg_outstanding_older(const struct aggregate *a, uint64_t cutoff_ns, uint64_t *out_bytes,
			   uint64_t *out_count)
{
	for (uint64_t i = 0; i < a->blocks.cap; i++) {
		const struct agg_block *b = u64_table_at(&a->blocks, i);
		if (!b->addr || b->ts_ns > cutoff_ns)
			continue;
		out_bytes[b->stack] += b->size;
		out_count[b->stack]++;
	}
}

void agg_totals(const struct aggregate *a, struct agg_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < a->nstacks; i++)
		t->out_bytes += a->stacks[i].used ? a->stacks[i].out_bytes : 0;
	t->out_count = a->blocks.used;
	t->allocs = a->counts.allocs;
	t->frees = a->counts.frees;
	t->addr_table_full = a->addr_table_full;
	t->stack_table_full = a->stack_table_full;
}
