/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The interner: one stable copy of each distinct byte string, numbered
 * densely in insertion order (0, 1, 2, ...). Callers use either side:
 *  - the copy, for pointer identity: equal texts get the same pointer (the
 *    symbolizer's names and files, the Python code cache, loaded snapshots);
 *  - the index, for tables numbered in order of first use (the pprof and
 *    speedscope string, function and location tables, `leakbpf diff`).
 * Keys may hold NUL bytes; every copy is NUL-terminated as well. Copies
 * never move and live until interner_clear()/interner_free().
 *
 * Its memory is known exactly (interner_bytes), so an owner can hold it to
 * a byte budget: refuse new keys past it, or clear the interner together
 * with everything that points into it.
 */
#ifndef UTIL_INTERN_H
#define UTIL_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intern_block;

struct intern_key {
	const char *s; /* the copy, in a block */
	uint32_t len;
	uint32_t hash; /* low half of the key's hash: cheap compares, rehashing */
};

/* All zeros is an empty interner: embed one, or interner_new() one. */
struct interner {
	struct intern_key *keys; /* by index */
	size_t nkeys, capkeys;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty; power of two */
	size_t nslots;
	struct intern_block *blocks; /* the copies; newest first */
	size_t bytes;		     /* heap bytes held, see interner_bytes() */
};

struct interner *interner_new(void);
/* Free an interner from interner_new() and all its copies (NULL is fine). */
void interner_free(struct interner *in);
/* Free every copy and table: in is empty again, and usable. */
void interner_clear(struct interner *in);

/* Index of key[0..len), copied in when new (*added tells which; may be
 * NULL). -1 without memory or for a key of 4 GiB or more. */
long interner_add(struct interner *in, const void *key, size_t len, bool *added);
/* Index of key, or -1 when absent. */
long interner_find(const struct interner *in, const void *key, size_t len);
/* The interner's copy of the string s: the same pointer for the same text.
 * NULL for NULL, or without memory. */
const char *interner_str(struct interner *in, const char *s);
/* The copy of index i (NUL-terminated) and its length (len may be NULL). */
const char *interner_key(const struct interner *in, size_t i, size_t *len);
size_t interner_count(const struct interner *in);
/* Heap bytes the interner holds: its copies' blocks (with their unused
 * tails) and its tables, as requested from malloc. */
size_t interner_bytes(const struct interner *in);

#endif
