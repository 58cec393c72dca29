// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Ordered page set: a radix tree of bitmap words in one hash table. */
#include <stdlib.h>
#include <string.h>
#include "account/page_set.h"
#include "util/array.h"
#include "util/hash.h"

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

static uint64_t slot_of(uint64_t key, uint64_t cap)
{
	return hash_mix64(key) & (cap - 1);
}

static struct ps_node *find(const struct page_set *s, uint64_t key)
{
	for (uint64_t i = slot_of(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i].key == key)
			return &s->slots[i];
		if (!s->slots[i].key)
			return NULL;
	}
}

static void put(struct ps_node *slots, uint64_t cap, struct ps_node n)
{
	uint64_t i = slot_of(n.key, cap);
	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i] = n;
}

static int grow(struct page_set *s)
{
	uint64_t cap = s->cap * 2;
	struct ps_node *n = calloc(cap, sizeof(*n));
	if (!n)
		return -1;
	for (uint64_t i = 0; i < s->cap; i++)
		if (s->slots[i].key)
			put(n, cap, s->slots[i]);
	free(s->slots);
	s->slots = n;
	s->cap = cap;
	return 0;
}

/* Backward-shift deletion: probe chains stay intact without tombstones. */
static void remove_node(struct page_set *s, struct ps_node *node)
{
	uint64_t mask = s->cap - 1;
	uint64_t i = (uint64_t)(node - s->slots), j = i;
	s->used--;
	for (;;) {
		s->slots[i].key = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!s->slots[j].key)
				return;
			uint64_t k = slot_of(s->slots[j].key, s->cap);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		s->slots[i] = s->slots[j];
		i = j;
	}
}

int page_set_init(struct page_set *s)
{
	memset(s, 0, sizeof(*s));
	s->cap = 1 << 10;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	return s->slots ? 0 : -1;
}

void page_set_free(struct page_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

void page_set_clear(struct page_set *s)
{
	memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->used = s->count = 0;
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
	if ((s->used + LEVELS) * 10 > s->cap * 7 && grow(s))
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
		put(s->slots, s->cap, (struct ps_node){key, bit});
		s->used++;
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
		remove_node(s, n); /* empty: its parent forgets it too */
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
