/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Type objects of the census: a pointer is a type only when it reads as one
 * (its own type is `type` or a validated metatype, it is ready, its sizes
 * are plausible), and each type is classified by the layout leakbpf reads
 * its instances with.
 */
#ifndef PY_CENSUS_TYPES_H
#define PY_CENSUS_TYPES_H

#include <stdint.h>
#include "python/census_heap.h"

/* Most types kept per census; pointers to further types count as invalid. */
#define CENSUS_MAX_TYPES 65536

/* Index of the type at addr (read, validated and, once h->classify is set,
 * classified when first seen), or CT_NONE when addr is no type object. */
uint32_t ctype_get(struct census_heap *h, uint64_t addr);

/* Without a .symtab, learn subtype_dealloc (the deallocator of every class
 * made by a class statement) from the heap types read so far: the one most
 * of those with shared-key caches use. Then classify every type read so far
 * and every later one as it is read. */
void ctype_classify_all(struct census_heap *h);

/* Names of every type: module.qualname for heap types (the module from
 * __module__ in its dict, found among the census's edges), the C name for
 * the others. Run after the walk. */
void ctype_name_all(struct census_heap *h);

/* The value object that dict object `dict` (an index) maps the str key
 * `key` to, or CT_NONE. *key_addr caches the interned key's address. */
uint32_t census_dict_get(struct census_heap *h, uint32_t dict, const char *key, uint64_t *key_addr);

#endif
