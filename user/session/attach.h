/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A session's one entry into attaching: every probe it needs. */
#ifndef SESSION_ATTACH_H
#define SESSION_ATTACH_H

#include <stdbool.h>

struct lb_target;
struct leakbpf_bpf;
struct probe_set;
struct py_support;

struct attach_plan {
	const struct lb_target *target; /* the traced process */
	const struct lb_target *maps;	/* whose mappings name the allocators: the
					   target, or for -c the child before exec */
	const char *command_exe;	/* -c: the command's executable, probed too
					   when it defines malloc; else NULL */
	struct py_support *py;		/* CPython in the target, or NULL */
	bool py_alloc_all;		/* --py-alloc all */
};

/* After the BPF object is loaded: probe the allocators, then CPython's
 * object allocator and code-object watch, and attach them all (uprobe_multi
 * links are made here). Returns 0 when tracing can go on (warnings
 * printed), -1 with the one error line in err (the session tells a target
 * that exited meanwhile apart). */
int attach_probes(const struct attach_plan *p, struct leakbpf_bpf *skel, struct probe_set *ps,
		  char *err, size_t errlen);

#endif
