/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A set of strings owned by the Python support: one copy per distinct text. */
#ifndef PY_INTERN_H
#define PY_INTERN_H

#include <stddef.h>

struct py_intern {
	char **slots; /* open addressing, NULL = empty */
	size_t cap, count;
};

/* The set's copy of s (valid until py_intern_free), or NULL without memory. */
const char *py_intern(struct py_intern *in, const char *s);
void py_intern_free(struct py_intern *in);

#endif
