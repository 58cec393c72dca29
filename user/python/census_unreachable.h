/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Cycles nothing can reach, found from outside the way the cyclic collector
 * finds them inside: subtract from each collected object's reference count
 * the references the other collected objects hold to it; what keeps a
 * positive count is referenced from outside and reachable, and so is
 * everything it references; the rest is garbage. Objects whose references
 * leakbpf cannot enumerate (or could not read) are treated as referenced
 * from outside, so they and what they hold are never reported.
 */
#ifndef PY_CENSUS_UNREACHABLE_H
#define PY_CENSUS_UNREACHABLE_H

#include <stddef.h>
#include <stdint.h>
#include "python/census_heap.h"

/* Set unreach[i] = 1 for every object of objs[0..n) (those with CO_GC) that
 * nothing outside keeps alive; 0 for the others. Returns how many. Pure:
 * only the arrays are read. *inconsistent counts objects referenced more
 * often than their reference count says (torn reads). */
size_t census_find_unreachable(const struct cobj *objs, size_t n, const uint32_t *edges,
			       uint8_t *unreach, uint64_t *inconsistent);

/* The same on a live heap, with a second look: the candidates are read
 * again, alone, and only those that still form a closed garbage set among
 * themselves are kept (a container that changed between the reads of the
 * census can make a live object look unreferenced once, not twice). Returns
 * how many remain marked, *candidates how many the first pass found; -1
 * without memory. */
long census_unreachable(struct census_heap *h, uint8_t *unreach, uint64_t *candidates);

#endif
