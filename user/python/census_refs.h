/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the references of the census's objects by their layouts. */
#ifndef PY_CENSUS_REFS_H
#define PY_CENSUS_REFS_H

#include <stddef.h>
#include "python/census_heap.h"

/* Read objects [lo, hi) of the heap (a chunk of at most census_chunk()):
 * header, type, size, and their references, which add the objects they
 * point at to the heap. 0, or -1 without memory. */
int census_read_refs(struct census_heap *h, size_t lo, size_t hi);

/* Objects read together. */
size_t census_chunk(void);

#endif
