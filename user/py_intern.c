// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* String interning: report frames point at these copies, so they must
 * live as long as the Python support; the set only grows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "py_intern.h"

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int grow(struct py_intern *in)
{
	size_t cap = in->cap ? in->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < in->cap; i++) {
		if (!in->slots[i])
			continue;
		size_t j = str_hash(in->slots[i]) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = in->slots[i];
	}
	free(in->slots);
	in->slots = slots;
	in->cap = cap;
	return 0;
}

const char *py_intern(struct py_intern *in, const char *s)
{
	if ((in->count + 1) * 2 > in->cap && grow(in))
		return NULL;
	size_t j = str_hash(s) & (in->cap - 1);
	while (in->slots[j]) {
		if (strcmp(in->slots[j], s) == 0)
			return in->slots[j];
		j = (j + 1) & (in->cap - 1);
	}
	in->slots[j] = strdup(s);
	if (!in->slots[j])
		return NULL;
	in->count++;
	return in->slots[j];
}

void py_intern_free(struct py_intern *in)
{
	for (size_t i = 0; i < in->cap; i++)
		free(in->slots[i]);
	free(in->slots);
	in->slots = NULL;
	in->cap = in->count = 0;
}
