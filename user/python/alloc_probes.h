/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which CPython allocator entry points to probe, per build. */
#ifndef PY_ALLOC_H
#define PY_ALLOC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct leakbpf_bpf;
struct probe_set;
struct elf_file;

struct py_alloc_target {
	pid_t pid;
	const char *path;	  /* tracer-side path opening the interpreter ELF */
	const char *module_label; /* the ELF's path as the target sees it */
	struct elf_file *elf;	  /* opened interpreter ELF */
	int major, minor;	  /* 3, 11 */
	bool shared;		  /* libpython*.so (true) or linked into the exe */
	bool all;		  /* --py-alloc all: every pymalloc block */
	bool small_objects;	  /* with the free-listed types (inlined pymalloc):
				     str, float, int and bytes objects too, at
				     their constructors and deallocators (the
				     growth mode's windows) */
};

/* The type flags that put two more words before an object's GC head on
 * this build (the allocator programs' lb_pya_preheader_flags). */
uint64_t py_alloc_preheader_flags(const struct py_alloc_target *t);
/* Attach the object allocator probes. *note is set to a static sentence
 * saying what these probes cannot see on this build (or NULL). Returns 0,
 * -1 when probes failed (tracing goes on without them), or -2 when the
 * requested mode is not possible on this build (said in err). */
int py_alloc_attach(const struct py_alloc_target *t, struct leakbpf_bpf *skel, struct probe_set *ps,
		    const char **note, char *err, size_t errlen);

#endif
