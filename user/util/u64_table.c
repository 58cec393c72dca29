// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include "util/hash.h"
#include "util/u64_table.h"

#define MIN_CAP 64

static uint64_t home_of(uint64_t key, uint64_t cap)
{
	return hash_mix64(key) & (cap - 1);
}

static uint64_t slot_for(const unsigned char *slots, size_t esize, uint64_t cap, uint64_t key)
{
	uint64_t i = home_of(key, cap);
	for (;;) {
		uint64_t k = u64_table_key(slots + i * esize);
		if (!k || k == key)
			return i;
		i = (i + 1) & (cap - 1);
	}
}

void u64_table_init(struct u64_table *t, size_t esize)
{
	memset(t, 0, sizeof(*t));
	t->esize = esize;
}

void u64_table_free(struct u64_table *t)
{
	free(t->slots);
	u64_table_init(t, t->esize);
}

void u64_table_clear(struct u64_table *t)
{
	if (t->slots)
		memset(t->slots, 0, t->cap * t->esize);
	t->used = 0;
}

static int regrow(struct u64_table *t, uint64_t cap)
{
	unsigned char *n = calloc(cap, t->esize);
	if (!n)
		return -1;
	for (uint64_t i = 0; i < t->cap; i++) {
		const unsigned char *e = u64_table_at(t, i);
		uint64_t k = u64_table_key(e);
		if (k)
			memcpy(n + slot_for(n, t->esize, cap, k) * t->esize, e, t->esize);
	}
	free(t->slots);
	t->slots = n;
	t->cap = cap;
	return 0;
}

int u64_table_reserve(struct u64_table *t, uint64_t n)
{
	uint64_t cap = t->cap ? t->cap : MIN_CAP;
	if (n > UINT64_MAX / 16 - t->used)
		return -1;
	while ((t->used + n) * 10 > cap * 7) {
		if (cap > SIZE_MAX / 2 / t->esize)
			return -1;
		cap *= 2;
	}
	return cap == t->cap ? 0 : regrow(t, cap);
}

void *u64_table_find(const struct u64_table *t, uint64_t key)
{
	if (!t->cap || !key)
		return NULL;
	void *e = u64_table_at(t, slot_for(t->slots, t->esize, t->cap, key));
	return u64_table_key(e) ? e : NULL;
}

void *u64_table_add(struct u64_table *t, uint64_t key)
{
	unsigned char *e = u64_table_at(t, slot_for(t->slots, t->esize, t->cap, key));
	memset(e, 0, t->esize);
	memcpy(e, &key, sizeof(key));
	t->used++;
	return e;
}

void u64_table_remove(struct u64_table *t, void *entry)
{
	uint64_t mask = t->cap - 1;
	uint64_t i = (uint64_t)((unsigned char *)entry - t->slots) / t->esize, j = i;
	t->used--;
	for (;;) {
		memset(u64_table_at(t, i), 0, sizeof(uint64_t));
		uint64_t k;
		for (;;) {
			j = (j + 1) & mask;
			k = u64_table_key(u64_table_at(t, j));
			if (!k)
				return;
			uint64_t home = home_of(k, t->cap);
			/* j stays unless its home lies cyclically outside (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		memcpy(u64_table_at(t, i), u64_table_at(t, j), t->esize);
		i = j;
	}
}

size_t u64_table_bytes(const struct u64_table *t)
{
	return (size_t)t->cap * t->esize;
}
