/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Code objects of the target resolved to (function, file, line), cached. */
#ifndef PY_CODE_H
#define PY_CODE_H

#include <stdint.h>
#include <sys/types.h>
#include "util/intern.h"
#include "python/layout.h"

/* Code objects remembered (direct-mapped: a collision replaces the slot). */
#define PY_CODE_SLOTS 4096

struct py_code_info {
	uint64_t code;
	uint32_t tag;
	int firstlineno;
	const char *function; /* interned */
	const char *file;     /* interned */
	uint8_t *linetable;
	long linetable_len;
};

struct py_code_cache {
	pid_t pid;
	const struct py_layout *l;
	struct interner strings;
	struct py_code_info *slots; /* PY_CODE_SLOTS */
	uint64_t hits, misses, stale;
};

int py_code_cache_init(struct py_code_cache *c, pid_t pid, const struct py_layout *l);
void py_code_cache_free(struct py_code_cache *c);

/* Resolve code object `code` seen by BPF with `tag` at instruction lasti
 * (code units, -1: not started). Returns 0, or -1 when the object cannot
 * be read or is no longer the one BPF saw (its tag differs). */
int py_code_resolve(struct py_code_cache *c, uint64_t code, uint32_t tag, int32_t lasti,
		    const char **function, const char **file, int *line);

#endif
