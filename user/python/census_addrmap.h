/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Addresses to dense indices (util/u64_table): the census's
 * object table, type table and the containers kept between censuses. */
#ifndef PY_CENSUS_ADDRMAP_H
#define PY_CENSUS_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>
#include "util/u64_table.h"

#define ADDRMAP_NONE UINT32_MAX

struct addrmap {
	struct u64_table table; /* address (never 0) -> value */
};

/* The value of key, or ADDRMAP_NONE. */
uint32_t addrmap_get(const struct addrmap *m, uint64_t key);
/* Store key -> val (replacing). 0, or -1 without memory (or key 0). */
int addrmap_put(struct addrmap *m, uint64_t key, uint32_t val);
/* Room for n keys without growing. 0, or -1. */
int addrmap_reserve(struct addrmap *m, size_t n);
void addrmap_clear(struct addrmap *m);
void addrmap_free(struct addrmap *m);
/* Bytes held. */
size_t addrmap_bytes(const struct addrmap *m);

#endif
