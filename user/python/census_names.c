// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "python/census_names.h"
#include "python/memory.h"
#include "util/escape.h"

/* Escaped text takes at most four bytes per byte read. */
#define ESCAPED_MAX (CENSUS_NAME_MAX * 4 * 4 + 1)

const char *census_intern(struct census_heap *h, const char *s)
{
	return interner_str(h->names, s);
}

const char *census_cstr(struct census_heap *h, uint64_t addr, size_t max)
{
	char raw[CENSUS_NAME_MAX + 1], esc[ESCAPED_MAX];
	if (max > CENSUS_NAME_MAX)
		max = CENSUS_NAME_MAX;
	if (!addr)
		return NULL;
	/* a name may end just before an unmapped page: shrink until readable */
	size_t n = max;
	while (n && read_one(h->t->pid, addr, raw, n, &h->st.reads))
		n = n > 16 ? n / 2 : n - 1;
	if (!n || !memchr(raw, '\0', n))
		return NULL;
	return census_intern(h, escape_str(raw, NULL, esc, sizeof(esc)));
}

const char *census_pystr(struct census_heap *h, uint64_t obj)
{
	char raw[CENSUS_NAME_MAX * 4 + 1], esc[ESCAPED_MAX];
	uint64_t type;
	/* exact str only: anything else is not laid out as one */
	if (read_one(h->t->pid, obj + 8, &type, sizeof(type), &h->st.reads) ||
	    type != h->t->str_type)
		return NULL;
	if (py_mem_str(h->t->pid, &h->t->pl, obj, raw, sizeof(raw)) < 0)
		return NULL;
	return census_intern(h, escape_str(raw, NULL, esc, sizeof(esc)));
}
