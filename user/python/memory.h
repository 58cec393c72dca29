/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading CPython objects out of the target's memory. */
#ifndef PY_MEM_H
#define PY_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "python/layout.h"

/* Read exactly len bytes at addr of process pid. 0, or -1. */
int py_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* A str object as UTF-8 into out (NUL-terminated, cut at outlen - 1 bytes).
 * Compact strings only (all that code objects hold). Returns the length,
 * or -1 when the object cannot be read or is not a compact str. */
int py_mem_str(pid_t pid, const struct py_layout *l, uint64_t obj, char *out, size_t outlen);

/* A bytes object's content, malloc'ed into *data (at most max bytes).
 * Returns the length, or -1. */
long py_mem_bytes(pid_t pid, const struct py_layout *l, uint64_t obj, size_t max, uint8_t **data);

#endif
