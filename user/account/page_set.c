// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Ordered page set: a radix tree of bitmap words in one hash table. */
#include <stdlib.h>
#include <string.h>
#include "account/page_set.h"
#include "util/array.h"
#include "util/u64_table.h"

#define FANOUT_BITS 6
/* 9 levels of 6 bits cover 54 bits of page number: every address >> 12. */
#define LEVELS	   9
#define PAGE_LIMIT (1ULL << 52)

static uint64_t node_key(unsigned level, uint64_t page)
{
	return (uint64_t)level << 58 | page >> (FANOUT_BITS * level);
}

/* Bit of `page`'s subtree in its node of `level`. */
static unsigned node_bit(unsigned level, uint64_t page)
{
	return (page >> (FANOUT_BITS * (level - 1))) & 63;
}

static struct ps_node *find(const struct page_set *s, uint64_t key)
{
	return u64_table_find(&s->nodes, key);
}

int page_set_init(struct page_set *s)
{
	memset(s, 0, sizeof(*s));
	u64_table_init(&s->nodes, sizeof(struct ps_node));
	return u64_table_reserve(&s->nodes, 1 << 9);
}

void page_set_free(struct page_set *s)
{
	u64_table_free(&s->nodes);
	s->count = 0;
}

void page_set_clear(struct page_set *s)
{
	u64_table_clear(&s->nodes);
	s->count = 0;
}

bool page_set_has(const struct page_set *s, uint64_t page)
{
	if (page >= PAGE_LIMIT)
		return false;
	const struct ps_node *n = find(s, node_key(1, page));
	return n && (n->bits >> node_bit(1, page) & 1);
}

int page_set_add(struct page_set *s, uint64_t page)
{
	if (page >= PAGE_LIMIT)
		return -1;
	/* room for a whole new path first, so that a failure changes nothing */
	if (u64_table_reserve(&s->nodes, LEVELS))
		return -1;
	for (unsigned level = 1; level <= LEVELS; level++) {
		uint64_t key = node_key(level, page), bit = 1ULL << node_bit(level, page);
		struct ps_node *n = find(s, key);
		if (n) {
			if (level == 1 && (n->bits & bit))
				return 0;
			n->bits |= bit;
			break; /* the node was there: its ancestors know it */
		}
		struct ps_node *added = u64_table_add(&s->nodes, key);
		added->bits = bit;
	}
	s->count++;
	return 1;
}

bool page_set_del(struct page_set *s, uint64_t page)
{
	if (page >= PAGE_LIMIT)
		return false;
	for (unsigned level = 1; level <= LEVELS; level++) {
		struct ps_node *n = find(s, node_key(level, page));
		uint64_t bit = 1ULL << node_bit(level, page);
		if (!n || !(n->bits & bit))
			return false; /* only possible at level 1: the page is absent */
		n->bits &= ~bit;
		if (level == 1)
			s->count--;
		if (n->bits)
			break;
		u64_table_remove(&s->nodes, n); /* empty: its parent forgets it too */
	}
	return true;
}

struct visit {
	const struct page_set *s;
	uint64_t lo, last; /* pages [lo, last] */
	uint64_t **out;
	size_t *n, *cap;
};

/* The members of [lo, last] under the node (level, prefix). */
static int visit(struct visit *v, unsigned level, uint64_t prefix)
{
	const struct ps_node *node = find(v->s, (uint64_t)level << 58 | prefix);
	if (!node)
		return 0;
	unsigned shift = FANOUT_BITS * (level - 1);
	uint64_t first_child = prefix << FANOUT_BITS;
	uint64_t bits = node->bits;
	/* keep the children whose span meets [lo, last] */
	uint64_t c_lo = v->lo >> shift, c_hi = v->last >> shift;
	if (c_lo > first_child)
		bits &= ~0ULL << (c_lo - first_child);
	if (c_hi < first_child + 63)
		bits &= ~0ULL >> (63 - (c_hi - first_child));
	while (bits) {
		unsigned i = (unsigned)__builtin_ctzll(bits);
		bits &= bits - 1;
		uint64_t child = first_child + i;
		if (level == 1) {
			if (ARRAY_RESERVE(*v->out, *v->cap, *v->n + 1))
				return -1;
			(*v->out)[(*v->n)++] = child;
		} else if (visit(v, level - 1, child)) {
			return -1;
		}
	}
	return 0;
}

int page_set_range(const struct page_set *s, uint64_t lo, uint64_t hi, uint64_t **out, size_t *n,
		   size_t *cap)
{
	if (hi > PAGE_LIMIT)
		hi = PAGE_LIMIT;
	if (lo >= hi || !s->count)
		return 0;
	struct visit v = {s, lo, hi - 1, out, n, cap};
	return visit(&v, LEVELS, 0);
}
