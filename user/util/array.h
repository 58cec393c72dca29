/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The growable array: every list that grows one element at a time. */
#ifndef UTIL_ARRAY_H
#define UTIL_ARRAY_H

#include <stddef.h>

/* Make room for `need` elements of `size` bytes in *items (capacity *cap),
 * at least doubling, the new room zeroed. 0, or -1 with *items and *cap
 * unchanged (no memory, or a size that would overflow). */
int array_reserve(void **items, size_t *cap, size_t need, size_t size);

/* ARRAY_RESERVE(v, cap, n + 1) before v[n++] = x; cap is a size_t. */
#define ARRAY_RESERVE(items, cap, need)                                                            \
	array_reserve((void **)&(items), &(cap), (need), sizeof(*(items)))

#endif
