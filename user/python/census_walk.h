/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One walk of the target's heap: the collector's state and lists, the
 * frames' locals, then every reference by layout. */
#ifndef PY_CENSUS_WALK_H
#define PY_CENSUS_WALK_H

#include <stddef.h>
#include "python/census_heap.h"

/* Bytes of the block cache the list walk reads through. */
#define CENSUS_CACHE_BYTES (16u << 20)

/* Fill h (initialised, empty). 0, or -1 with a one-line reason. */
int census_walk(struct census_heap *h, char *err, size_t errlen);

/* The main interpreter (runtime->interpreters.main; .head is the newest
 * one when there are subinterpreters), or 0. */
uint64_t census_interp(const struct census_target *t);

/* Add the locals of every thread's frames as seeds and roots. */
void census_frames(struct census_heap *h);

#endif
