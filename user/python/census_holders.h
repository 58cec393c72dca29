/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Holders: the containers that hold the objects of the types that grow,
 * with how their item counts changed since the first and the previous
 * census, and their path from a root.
 */
#ifndef PY_CENSUS_HOLDERS_H
#define PY_CENSUS_HOLDERS_H

#include <stddef.h>
#include <stdint.h>
#include "out/objects.h"
#include "python/census_addrmap.h"
#include "python/census_heap.h"

/* Containers kept from one census to compare the next with. */
struct census_containers {
	struct addrmap index; /* address -> entry */
	struct {
		uint32_t items, row;
	} * c;
	size_t n, cap;
};

/* A container that was not there at the first census (or was empty) is a
 * holder from this many items on: fewer is the churn of small new objects. */
#define HOLDER_MIN_ITEMS 4

/* Replace c's contents by h's containers (rows from type_row). 0, or -1. */
int containers_record(struct census_containers *c, const struct census_heap *h,
		      const uint32_t *type_row);
void containers_free(struct census_containers *c);

struct holders_in {
	const uint32_t *type_row;     /* row of each of h's types (CT_NONE: none) */
	const uint8_t *growing;	      /* per row: rank of its growth (1: most), 0: none */
	const char *const *row_names; /* per row */
	const struct census_containers *first, *prev;
	size_t max; /* holders wanted */
};

/* The holders of this census, most grown first, into out[0..in->max).
 * Returns how many. Strings are interned in h->names. */
size_t census_holders(struct census_heap *h, const struct holders_in *in, struct obj_holder *out);

/* Name objs[0..n) of h by their shortest paths from a root (a module or a
 * frame's local) into paths[] ("?" when none within the depth searched). */
void census_paths(struct census_heap *h, const uint32_t *objs, size_t n, const char **paths);

#endif
