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
/* Memory the cache may hold, whatever the target's code objects are (each
 * line table up to 1 MiB, each name up to 1.5 KiB): line tables past it
 * are not kept (read again when needed), names past it are not kept
 * (frames show PY_NAME_UNKEPT). Both are counted. */
#define PY_CODE_TABLE_BYTES (16u << 20)
#define PY_CODE_NAME_BYTES  (16u << 20)
#define PY_NAME_UNKEPT	    "<python name not kept: memory bound>"

struct py_code_info {
	uint64_t code;
	uint32_t tag;
	int firstlineno;
	const char *function; /* interned */
	const char *file;     /* interned */
	uint64_t table_obj;   /* the line table (bytes object) in the target */
	uint8_t *linetable;   /* its copy, NULL when not kept or unreadable */
	long linetable_len;   /* -1: unreadable */
};

struct py_code_cache {
	pid_t pid;
	const struct py_layout *l;
	struct interner strings;    /* names, within PY_CODE_NAME_BYTES */
	struct py_code_info *slots; /* PY_CODE_SLOTS */
	size_t table_bytes;	    /* line tables held, within PY_CODE_TABLE_BYTES */
	uint64_t hits, misses, stale;
	uint64_t names_unkept;	/* frames whose names were past the bound */
	uint64_t tables_unkept; /* line tables read and not kept (bound) */
};

int py_code_cache_init(struct py_code_cache *c, pid_t pid, const struct py_layout *l);
void py_code_cache_free(struct py_code_cache *c);
/* Drop every slot and take `names` as the cache's names (the ones frames
 * still point to, copied by the caller): the names nobody uses are freed. */
void py_code_cache_restart(struct py_code_cache *c, struct interner *names);

/* Resolve code object `code` seen by BPF with `tag` at instruction lasti
 * (code units, -1: not started). Returns 0, or -1 when the object cannot
 * be read or is no longer the one BPF saw (its tag differs). */
int py_code_resolve(struct py_code_cache *c, uint64_t code, uint32_t tag, int32_t lasti,
		    const char **function, const char **file, int *line);

#endif
