/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `leakbpf objects`: censuses of a running CPython heap, read from outside
 * (process_vm_readv only: no probes, no code run in the target), compared
 * with the first and the previous one.
 */
#ifndef PY_CENSUS_H
#define PY_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "out/objects.h"

struct census_session;

struct census_options {
	size_t max_objects; /* objects read per census */
	size_t max_items;   /* items read per container */
	unsigned holders;   /* holders reported */
	bool pause;	    /* stop the target during each census */
	double interval_s;  /* for the report */
};

/* Find CPython in pid. NULL with a one-line reason (no such process, not
 * CPython, an unsupported build). */
struct census_session *census_open(pid_t pid, const struct census_options *o, char *err,
				   size_t errlen);

/* Take one census and fill r (valid until the next census_take or
 * census_close). 0, or -1 with a reason (the target exited, could not be
 * paused, no memory). */
int census_take(struct census_session *s, struct obj_report *r, char *err, size_t errlen);

void census_close(struct census_session *s);

#endif
