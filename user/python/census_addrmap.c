// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "python/census_addrmap.h"
#include "util/hash.h"

static size_t slot_of(const struct addrmap *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)hash_mix64(key) & mask;
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

uint32_t addrmap_get(const struct addrmap *m, uint64_t key)
{
	if (!m->cap || !key)
		return ADDRMAP_NONE;
	size_t i = slot_of(m, key);
	return m->keys[i] ? m->vals[i] : ADDRMAP_NONE;
}

static int grow(struct addrmap *m, size_t cap)
{
	struct addrmap n = {.cap = cap};
	n.keys = calloc(cap, sizeof(*n.keys));
	n.vals = malloc(cap * sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t s = slot_of(&n, m->keys[i]);
		n.keys[s] = m->keys[i];
		n.vals[s] = m->vals[i];
		n.count++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int addrmap_reserve(struct addrmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;
	/* at most 5/8 full */
	while (n > cap / 8 * 5) {
		if (cap > SIZE_MAX / 4)
			return -1;
		cap *= 2;
	}
	return cap == m->cap ? 0 : grow(m, cap);
}

int addrmap_put(struct addrmap *m, uint64_t key, uint32_t val)
{
	if (!key || addrmap_reserve(m, m->count + 1))
		return -1;
	size_t i = slot_of(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

void addrmap_clear(struct addrmap *m)
{
	if (m->cap)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->count = 0;
}

void addrmap_free(struct addrmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

size_t addrmap_bytes(const struct addrmap *m)
{
	return m->cap * (sizeof(*m->keys) + sizeof(*m->vals));
}
