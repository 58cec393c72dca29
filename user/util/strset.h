/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Interned strings: one stable copy per distinct text, freed all at once.
 * Report frames point at these copies, so the set only grows. */
#ifndef STRSET_H
#define STRSET_H

#include <stddef.h>

struct strset_block;

struct strset {
	const char **slots; /* open addressing into the blocks, NULL = empty */
	size_t cap, count;
	struct strset_block *blocks;
};

/* The set's copy of str (valid until strset_free); NULL for NULL or
 * without memory. */
const char *strset_add(struct strset *in, const char *str);
void strset_free(struct strset *in);

#endif
