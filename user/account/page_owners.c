// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pages given to the allocation stacks whose survivors fill them. */
#include <stdlib.h>
#include "account/page_owners.h"
#include "account/pages.h"
#include "util/hash.h"
#include "util/search.h"

/* Bytes of the survivors of one stack in the pages of one kind of first
 * toucher. */
struct weight {
	uint64_t key; /* of kind and stack, mixed (nonzero) */
	uint64_t kind;
	uint32_t stack;
	uint64_t bytes;
	uint64_t pieces; /* survivor pages */
};

struct site {
	uint64_t kind;
	uint32_t stack;
	uint64_t bytes, pieces, given;
};

/* The sites of one kind of first toucher: sites[at, at + n), heaviest
 * first. */
struct group {
	uint64_t kind;
	size_t at, n;
	uint64_t bytes, pieces, given;
};

/* Native frames of a first toucher that make its kind. */
#define KIND_NATIVE 3

/* The kind of a first-touching stack: its Python frames and its innermost
 * native ones. The frames further out may differ for the same path: in a
 * window the return probes' trampoline stands for a caller's return
 * address, and the native walk ends there. Kinds per stack id, computed
 * once per pass (0: not yet). */
static uint64_t kind_of(const struct aggregate *agg, uint32_t id, uint64_t *kinds)
{
	if (kinds[id])
		return kinds[id];
	const struct agg_stack *st = &agg->stacks[id];
	unsigned nn = st->n_native < KIND_NATIVE ? st->n_native : KIND_NATIVE;
	uint64_t h = HASH_SEED ^ ((uint64_t)nn << 16 | st->n_py) ^
		     (st->flags & RM_STACK_THREAD ? 1ULL << 40 : 0);
	for (unsigned i = 0; i < nn; i++)
		h = hash_mix64(h ^ st->ips[i]);
	for (unsigned i = 0; i < st->n_py; i++)
		h = hash_mix64(h ^ st->py[i].code ^ (uint64_t)st->py[i].lasti << 32);
	return kinds[id] = h ? h : 1;
}

/* A survivor's pages looked at, at most (a large block's are its own). */
#define SURVIVOR_PAGES 64

static bool live_stack(const struct aggregate *agg, const struct sample_block *sb)
{
	return sb->stack < agg->nstacks && agg->stacks[sb->stack].used &&
	       agg->stacks[sb->stack].serial == sb->serial;
}

static uint32_t first_toucher(const struct agg_block *b)
{
	return b->origin ? b->origin - 1 : b->stack;
}

static uint64_t weight_key(uint64_t kind, uint32_t stack)
{
	uint64_t k = hash_mix64(kind ^ hash_mix64(stack + 1ULL));
	return k ? k : 1;
}

/* Add the survivor's bytes in each held page to the weights of its first
 * toucher's kind: 0, or -1 without memory. */
static int weigh(struct aggregate *agg, const struct sample_block *sb, struct u64_table *w,
		 uint64_t *kinds)
{
	uint64_t end = sb->addr + sb->size < sb->addr ? UINT64_MAX : sb->addr + sb->size;
	uint64_t first = sb->addr >> PAGES_SHIFT, n = 0;
	for (uint64_t p = first; p << PAGES_SHIFT < end && n < SURVIVOR_PAGES; p++, n++) {
		const struct agg_block *b = agg_find_block(agg, p << PAGES_SHIFT);
		if (!b)
			continue;
		uint64_t lo = p << PAGES_SHIFT, hi = lo + PAGES_SIZE;
		lo = lo > sb->addr ? lo : sb->addr;
		hi = hi < end ? hi : end;
		uint64_t kind = kind_of(agg, first_toucher(b), kinds);
		uint64_t key = weight_key(kind, sb->stack);
		struct weight *e = u64_table_find(w, key);
		if (!e) {
			if (u64_table_reserve(w, 1))
				return -1;
			e = u64_table_add(w, key);
			e->kind = kind;
			e->stack = sb->stack;
		} else if (e->kind != kind || e->stack != sb->stack) {
			continue; /* two pairs of one 64-bit key: the later one is left out */
		}
		e->bytes += hi - lo;
		e->pieces++;
	}
	return 0;
}

static int by_kind_then_bytes(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* The weights as sites sorted by kind of first toucher, heaviest first,
 * and one group per kind with its PAGE_OWNERS_MAX_SITES heaviest. */
static int groups_of(const struct u64_table *w, struct site **sites_out, struct group **groups_out,
		     size_t *ngroups)
{
	struct site *sites = calloc(w->used ? w->used : 1, sizeof(*sites));
	struct group *groups = calloc(w->used ? w->used : 1, sizeof(*groups));
	if (!sites || !groups) {
		free(sites);
		free(groups);
		return -1;
	}
	size_t n = 0, ng = 0;
	for (uint64_t i = 0; i < w->cap; i++) {
		const struct weight *e = u64_table_at(w, i);
		if (!e->key)
			continue;
		sites[n++] = (struct site){e->kind, e->stack, e->bytes, e->pieces, 0};
	}
	qsort(sites, n, sizeof(*sites), by_kind_then_bytes);
	for (size_t i = 0; i < n; i++) {
		if (!ng || groups[ng - 1].kind != sites[i].kind)
			groups[ng++] = (struct group){.kind = sites[i].kind, .at = i};
		struct group *g = &groups[ng - 1];
		if (g->n < PAGE_OWNERS_MAX_SITES) {
			g->n++;
			g->bytes += sites[i].bytes;
		}
		g->pieces += sites[i].pieces;
	}
	*sites_out = sites;
	*groups_out = groups;
	*ngroups = ng;
	return 0;
}

static struct group *group_of(struct group *groups, size_t n, uint64_t kind)
{
	size_t i = SORTED_LOWER(groups, n, .kind, kind);
	return i < n && groups[i].kind == kind ? &groups[i] : NULL;
}

/* The site furthest below its share of the group's pages given so far,
 * the next page included. */
static struct site *next_site(struct site *sites, struct group *g)
{
	struct site *best = NULL;
	double best_gap = 0;
	for (size_t i = g->at; i < g->at + g->n; i++) {
		double share = (double)sites[i].bytes / (double)g->bytes;
		double gap = share * (double)(g->given + 1) - (double)sites[i].given;
		if (!best || gap > best_gap) {
			best = &sites[i];
			best_gap = gap;
		}
	}
	return best;
}

int page_owners_assign(struct aggregate *agg, const struct samples *s, struct page_owners_counts *c)
{
	struct u64_table w;
	u64_table_init(&w, sizeof(struct weight));
	uint64_t *kinds = calloc(agg->nstacks ? agg->nstacks : 1, sizeof(*kinds));
	if (!kinds)
		return -1;
	int rc = 0;
	for (uint64_t i = 0; i < s->blocks.cap && !rc; i++) {
		const struct sample_block *sb = u64_table_at(&s->blocks, i);
		if (sb->addr && sb->survivor && live_stack(agg, sb))
			rc = weigh(agg, sb, &w, kinds);
	}
	struct site *sites = NULL;
	struct group *groups = NULL;
	size_t ng = 0;
	if (!rc)
		rc = groups_of(&w, &sites, &groups, &ng);
	u64_table_free(&w);
	if (rc) {
		free(kinds);
		return -1;
	}
	for (uint64_t i = 0; ng && i < agg->blocks.cap; i++) {
		struct agg_block *b = u64_table_at(&agg->blocks, i);
		if (!b->addr || b->origin)
			continue;
		struct group *g = group_of(groups, ng, kind_of(agg, b->stack, kinds));
		if (!g || g->pieces < PAGE_OWNERS_MIN_SURVIVORS || !g->bytes)
			continue;
		struct site *to = next_site(sites, g);
		to->given++;
		g->given++;
		b->origin = b->stack + 1;
		if (to->stack == b->stack)
			continue; /* its own survivors: it keeps the page */
		agg_give_block(agg, b, to->stack);
		agg->stacks[to->stack].flags |= RM_STACK_SAMPLED;
		c->pages_sampled++;
	}
	free(kinds);
	free(sites);
	free(groups);
	return 0;
}
