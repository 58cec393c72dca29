// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "python/census_addrmap.h"

/* 12 bytes an entry: the census maps millions of addresses. */
struct addrmap_entry {
	uint64_t key;
	uint32_t val;
} __attribute__((packed));

/* A zeroed struct addrmap is an empty map. */
static void ready(struct addrmap *m)
{
	if (!m->table.esize)
		u64_table_init(&m->table, sizeof(struct addrmap_entry));
}

uint32_t addrmap_get(const struct addrmap *m, uint64_t key)
{
	const struct addrmap_entry *e = m->table.esize ? u64_table_find(&m->table, key) : NULL;
	return e ? e->val : ADDRMAP_NONE;
}

int addrmap_reserve(struct addrmap *m, size_t n)
{
	ready(m);
	return n > m->table.used ? u64_table_reserve(&m->table, n - m->table.used) : 0;
}

int addrmap_put(struct addrmap *m, uint64_t key, uint32_t val)
{
	ready(m);
	struct addrmap_entry *e = u64_table_find(&m->table, key);
	if (!e) {
		if (!key || u64_table_reserve(&m->table, 1))
			return -1;
		e = u64_table_add(&m->table, key);
	}
	e->val = val;
	return 0;
}

void addrmap_clear(struct addrmap *m)
{
	u64_table_clear(&m->table);
}

void addrmap_free(struct addrmap *m)
{
	ready(m);
	u64_table_free(&m->table);
}

size_t addrmap_bytes(const struct addrmap *m)
{
	return u64_table_bytes(&m->table);
}
