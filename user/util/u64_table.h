/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one open-addressing table for integer keys: fixed-size entries whose
 * first 8 bytes are a nonzero uint64 key (0 marks an empty slot), linear
 * probing on a power-of-two capacity, at most 70% full, and backward-shift
 * deletion so that probe chains stay intact without tombstones. The
 * aggregate's address table, the growth mode's page set and the census's
 * address maps are each one of these with their own entry type.
 */
#ifndef UTIL_U64_TABLE_H
#define UTIL_U64_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct u64_table {
	unsigned char *slots;
	size_t esize;	    /* bytes per entry, the key first */
	uint64_t cap, used; /* cap: a power of two, or 0 before the first reserve */
};

/* An empty table of esize-byte entries; no memory until the first reserve. */
void u64_table_init(struct u64_table *t, size_t esize);
void u64_table_free(struct u64_table *t);
/* Forget every entry, keeping the memory. */
void u64_table_clear(struct u64_table *t);
/* Room for n more entries without growing: 0, or -1 without memory
 * (the table unchanged). */
int u64_table_reserve(struct u64_table *t, uint64_t n);
/* The entry of key, or NULL. */
void *u64_table_find(const struct u64_table *t, uint64_t key);
/* A new entry for key (absent, nonzero), its other bytes zero; call after
 * u64_table_reserve made room. */
void *u64_table_add(struct u64_table *t, uint64_t key);
/* Remove an entry returned by find or add; other entries may move. */
void u64_table_remove(struct u64_table *t, void *entry);
size_t u64_table_bytes(const struct u64_table *t);

static inline uint64_t u64_table_key(const void *entry)
{
	uint64_t k;
	memcpy(&k, entry, sizeof(k));
	return k;
}

/* Slot i (0 <= i < cap): an entry when its key is nonzero. Iterate with
 * for (i = 0; i < t->cap; i++) if (u64_table_key(u64_table_at(t, i))) ... */
static inline void *u64_table_at(const struct u64_table *t, uint64_t i)
{
	return t->slots + i * t->esize;
}

#endif
