/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Interning of byte strings into dense indices (0, 1, 2, ... in insertion
 * order): the string/function/location tables of the pprof and speedscope
 * writers, and stack matching in `leakbpf diff`. */
#ifndef SNAPSHOT_STRMAP_H
#define SNAPSHOT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Index of key[0..len), added (copied) when new; *added tells which. Keys
 * may contain NUL bytes. -1 on allocation failure. */
long strmap_intern(struct strmap *m, const void *key, size_t len, bool *added);
/* Index of key, or -1 when absent. */
long strmap_find(const struct strmap *m, const void *key, size_t len);
/* The stored key of index i (NUL-terminated copy) and its length. */
const char *strmap_key(const struct strmap *m, size_t i, size_t *len);
size_t strmap_count(const struct strmap *m);
void strmap_free(struct strmap *m);

#endif
