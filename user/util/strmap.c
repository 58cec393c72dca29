// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open-addressing hash of byte strings to insertion indices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/strmap.h"

struct strmap_key {
	char *s;
	size_t len;
	uint64_t hash;
};

struct strmap {
	struct strmap_key *keys; /* by index */
	size_t n, cap;
	long *slots; /* index or -1; size is a power of two */
	size_t nslots;
};

static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

struct strmap *strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nslots = 64;
	m->slots = malloc(m->nslots * sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	memset(m->slots, 0xff, m->nslots * sizeof(*m->slots));
	return m;
}

static size_t slot_of(const struct strmap *m, const void *key, size_t len, uint64_t h)
{
	size_t mask = m->nslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		long idx = m->slots[i];

		if (idx < 0)
			return i;
		const struct strmap_key *k = &m->keys[idx];
		if (k->hash == h && k->len == len && !memcmp(k->s, key, len))
			return i;
	}
}

static int grow_slots(struct strmap *m)
{
	size_t n = m->nslots * 2;
	long *slots = malloc(n * sizeof(*slots));

	if (!slots)
		return -1;
	memset(slots, 0xff, n * sizeof(*slots));
	for (size_t i = 0; i < m->n; i++) {
		size_t j = m->keys[i].hash & (n - 1);

		while (slots[j] >= 0)
			j = (j + 1) & (n - 1);
		slots[j] = (long)i;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

long strmap_find(const struct strmap *m, const void *key, size_t len)
{
	return m->slots[slot_of(m, key, len, hash_bytes(key, len))];
}

long strmap_intern(struct strmap *m, const void *key, size_t len, bool *added)
{
	uint64_t h = hash_bytes(key, len);
	size_t slot = slot_of(m, key, len, h);
	struct strmap_key *k;

	if (added)
		*added = false;
	if (m->slots[slot] >= 0)
		return m->slots[slot];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct strmap_key *keys = realloc(m->keys, cap * sizeof(*keys));

		if (!keys)
			return -1;
		m->keys = keys;
		m->cap = cap;
	}
	k = &m->keys[m->n];
	k->s = malloc(len + 1);
	if (!k->s)
		return -1;
	memcpy(k->s, key, len);
	k->s[len] = '\0';
	k->len = len;
	k->hash = h;
	m->slots[slot] = (long)m->n++;
	/* keep the load under 1/2 so probes stay short */
	if (m->n * 2 > m->nslots && grow_slots(m)) {
		free(m->keys[--m->n].s);
		m->slots[slot] = -1;
		return -1;
	}
	if (added)
		*added = true;
	return (long)m->n - 1;
}

const char *strmap_key(const struct strmap *m, size_t i, size_t *len)
{
	if (len)
		*len = m->keys[i].len;
	return m->keys[i].s;
}

size_t strmap_count(const struct strmap *m)
{
	return m->n;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i].s);
	free(m->keys);
	free(m->slots);
	free(m);
}
