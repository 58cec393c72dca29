/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Finding the target's malloc implementations and probing them. */
#ifndef ALLOCATORS_H
#define ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lb_target;
struct leakbpf_bpf;
struct probe_set;

/* Probe the malloc family in every allocator the target maps (libc, musl,
 * jemalloc, tcmalloc, mimalloc) and in `extra_exe` (a path in the tracer's
 * namespace, e.g. the -c command) or the target's own executable when
 * they define malloc themselves (static binaries). Returns the number of
 * modules probed; 0 with err set when no allocator was found. */
int allocators_attach(const struct lb_target *t, const char *extra_exe, struct leakbpf_bpf *skel,
		      struct probe_set *ps, char *err, size_t errlen);
/* Whether the file at path is one of those allocators (by its name). */
bool allocators_is_module(const char *path);

#endif
