/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Names read from the target for the census (type names, module names,
 * attribute names, dict keys): every string leaves here bounded and escaped
 * for terminals and files (util/escape.h), and interned.
 */
#ifndef PY_CENSUS_NAMES_H
#define PY_CENSUS_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include "python/census_heap.h"

/* Longest name kept, in bytes before escaping. */
#define CENSUS_NAME_MAX 200

/* A NUL-terminated C string at addr in the target (at most max bytes),
 * escaped and interned; NULL when unreadable or unterminated. */
const char *census_cstr(struct census_heap *h, uint64_t addr, size_t max);

/* A str object of the target (exactly str), escaped and interned; NULL
 * when it is no readable compact str. */
const char *census_pystr(struct census_heap *h, uint64_t obj);

/* The interned copy of s (NULL without memory). */
const char *census_intern(struct census_heap *h, const char *s);

#endif
