// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The interner: copies in arena blocks (few allocations, no moves, one
 * free), an index array in insertion order, and an open-addressing table
 * of indices kept at most half full. */
#include <stdlib.h>
#include <string.h>
#include "util/array.h"
#include "util/hash.h"
#include "util/intern.h"

/* Blocks start small (an interner of a few keys stays small) and double up
 * to BLOCK_MAX; a longer key gets a block of its own. */
#define BLOCK_MIN 4096
#define BLOCK_MAX (64 * 1024)
#define SLOTS_MIN 64

struct intern_block {
	struct intern_block *next;
	size_t used, cap;
	char data[];
};

static uint64_t key_hash(const void *key, size_t len)
{
	return hash_mix64(hash_bytes(HASH_SEED, key, len));
}

struct interner *interner_new(void)
{
	return calloc(1, sizeof(struct interner));
}

void interner_clear(struct interner *in)
{
	while (in->blocks) {
		struct intern_block *next = in->blocks->next;

		free(in->blocks);
		in->blocks = next;
	}
	free(in->keys);
	free(in->slots);
	memset(in, 0, sizeof(*in));
}

void interner_free(struct interner *in)
{
	if (!in)
		return;
	interner_clear(in);
	free(in);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct interner *in, const void *key, size_t len, uint32_t h)
{
	size_t mask = in->nslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t s = in->slots[i];

		if (!s)
			return i;
		const struct intern_key *k = &in->keys[s - 1];
		if (k->hash == h && k->len == len && !memcmp(k->s, key, len))
			return i;
	}
}

long interner_find(const struct interner *in, const void *key, size_t len)
{
	if (!in->nslots || len >= UINT32_MAX)
		return -1;
	return (long)in->slots[slot_of(in, key, len, (uint32_t)key_hash(key, len))] - 1;
}

/* Room for one more index with the table at most half full. */
static int reserve_slot(struct interner *in)
{
	if ((in->nkeys + 1) * 2 <= in->nslots)
		return 0;
	size_t n = in->nslots ? in->nslots * 2 : SLOTS_MIN;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < in->nkeys; i++) {
		size_t j = in->keys[i].hash & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(in->slots);
	in->bytes += (n - in->nslots) * sizeof(*slots);
	in->slots = slots;
	in->nslots = n;
	return 0;
}

/* A NUL-terminated copy of key in the blocks. */
static const char *copy_in(struct interner *in, const void *key, size_t len)
{
	struct intern_block *b = in->blocks;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = b ? b->cap * 2 : BLOCK_MIN;

		if (cap > BLOCK_MAX)
			cap = BLOCK_MAX;
		bool own = len + 1 > cap; /* too long for a shared block */
		if (own)
			cap = len + 1;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		in->bytes += sizeof(*b) + cap;
		if (own && in->blocks) {
			/* behind the current block, which keeps filling */
			b->next = in->blocks->next;
			in->blocks->next = b;
		} else {
			b->next = in->blocks;
			in->blocks = b;
		}
	}
	char *p = b->data + b->used;

	memcpy(p, key, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

long interner_add(struct interner *in, const void *key, size_t len, bool *added)
{
	if (added)
		*added = false;
	if (len >= UINT32_MAX || in->nkeys >= UINT32_MAX - 1)
		return -1;
	uint32_t h = (uint32_t)key_hash(key, len);

	if (in->nslots) {
		uint32_t s = in->slots[slot_of(in, key, len, h)];

		if (s)
			return (long)s - 1;
	}
	size_t oldcap = in->capkeys;

	if (reserve_slot(in) || ARRAY_RESERVE(in->keys, in->capkeys, in->nkeys + 1))
		return -1;
	in->bytes += (in->capkeys - oldcap) * sizeof(*in->keys);
	const char *copy = copy_in(in, key, len);

	if (!copy)
		return -1;
	in->keys[in->nkeys] = (struct intern_key){copy, (uint32_t)len, h};
	in->slots[slot_of(in, key, len, h)] = (uint32_t)++in->nkeys;
	if (added)
		*added = true;
	return (long)in->nkeys - 1;
}

const char *interner_str(struct interner *in, const char *s)
{
	if (!s)
		return NULL;
	long i = interner_add(in, s, strlen(s), NULL);

	return i < 0 ? NULL : in->keys[i].s;
}

const char *interner_key(const struct interner *in, size_t i, size_t *len)
{
	if (len)
		*len = in->keys[i].len;
	return in->keys[i].s;
}

size_t interner_count(const struct interner *in)
{
	return in->nkeys;
}

size_t interner_bytes(const struct interner *in)
{
	return in->bytes;
}
