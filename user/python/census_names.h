/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Names read from the target for the census (type names, module names,
 * attribute names, dict keys), made safe to print: every string leaves here
 * bounded, valid UTF-8 and free of anything a terminal would interpret
 * (C0/C1 controls, DEL, bidirectional overrides), escaped as \xNN or \uNNNN.
 */
#ifndef PY_CENSUS_NAMES_H
#define PY_CENSUS_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include "python/census_heap.h"

/* Longest name kept, in bytes before escaping. */
#define CENSUS_NAME_MAX 200

/* Escape len bytes of s (any bytes) into out (NUL-terminated, cut at a
 * character boundary when out is too small). Returns strlen(out). */
size_t census_escape(const char *s, size_t len, char *out, size_t outlen);

/* A NUL-terminated C string at addr in the target (at most max bytes),
 * escaped and interned; NULL when unreadable or unterminated. */
const char *census_cstr(struct census_heap *h, uint64_t addr, size_t max);

/* A str object of the target (exactly str), escaped and interned; NULL
 * when it is no readable compact str. */
const char *census_pystr(struct census_heap *h, uint64_t obj);

/* The interned copy of s (NULL without memory). */
const char *census_intern(struct census_heap *h, const char *s);

#endif
