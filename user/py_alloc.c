// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* STUB: replaced by the Python allocator owner. */
#include <stddef.h>
#include "py_alloc.h"

int py_alloc_before_load(const struct py_alloc_target *t, struct leakbpf_bpf *skel)
{
	(void)t;
	(void)skel;
	return 0;
}

int py_alloc_attach(const struct py_alloc_target *t, struct leakbpf_bpf *skel,
		    struct probe_set *ps, const char **note)
{
	(void)t;
	(void)skel;
	(void)ps;
	*note = NULL;
	return 0;
}
