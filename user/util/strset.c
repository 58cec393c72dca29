// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Interned strings in arena blocks: few allocations, one free. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/strset.h"

#define ARENA_BLOCK (64 * 1024)

struct strset_block {
	struct strset_block *next;
	size_t used, cap;
	char data[];
};

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static char *arena_dup(struct strset *in, const char *str, size_t len)
{
	struct strset_block *b = in->blocks;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = in->blocks;
		b->used = 0;
		b->cap = cap;
		in->blocks = b;
	}
	char *p = b->data + b->used;

	memcpy(p, str, len + 1);
	b->used += len + 1;
	return p;
}

static bool grow(struct strset *in)
{
	size_t cap = in->cap ? in->cap * 2 : 1024;
	const char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < in->cap; i++) {
		if (!in->slots[i])
			continue;
		size_t j = hash_str(in->slots[i]) & (cap - 1);

		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = in->slots[i];
	}
	free(in->slots);
	in->slots = slots;
	in->cap = cap;
	return true;
}

const char *strset_add(struct strset *in, const char *str)
{
	if (!str)
		return NULL;
	if (in->count * 2 >= in->cap && !grow(in))
		return NULL;
	size_t j = hash_str(str) & (in->cap - 1);

	for (; in->slots[j]; j = (j + 1) & (in->cap - 1))
		if (!strcmp(in->slots[j], str))
			return in->slots[j];
	char *copy = arena_dup(in, str, strlen(str));

	if (copy) {
		in->slots[j] = copy;
		in->count++;
	}
	return copy;
}

void strset_free(struct strset *in)
{
	while (in->blocks) {
		struct strset_block *next = in->blocks->next;

		free(in->blocks);
		in->blocks = next;
	}
	free(in->slots);
}
