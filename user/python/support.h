/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython support: detection, object allocator probes, frame resolution. */
#ifndef PYTHON_H
#define PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include "leakbpf.h"
#include "report/model.h"

struct py_support;
struct lb_target;
struct leakbpf_bpf;
struct probe_set;

/* Detect CPython in the target (executable or libpython*.so mapping).
 * Returns NULL when the target is not CPython, or when the build is not
 * supported; then *warning (static or owned by nobody) says why, for
 * printing, or is NULL when the target simply is not Python. */
struct py_support *py_open(const struct lb_target *t, const char **warning);

/* Before the BPF object is loaded: set .rodata (layout offsets, addresses). */
int py_before_load(struct py_support *py, struct leakbpf_bpf *skel);

/* After load: attach the object allocator probes; alloc_all asks for every
 * pymalloc block (--py-alloc all). 0, -1 when probes failed, -2 when
 * alloc_all is impossible on this build (message printed). */
int py_attach(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps,
	      bool alloc_all);

/* Resolve one frame of an event. Called when a stack is first seen, while
 * the code object is alive. Fills out (kind RM_FRAME_PYTHON); strings owned
 * by py. Returns 0, or -1 when the frame cannot be read (out is then a
 * placeholder frame "<unknown python frame>"). */
int py_resolve_frame(struct py_support *py, const struct lb_py_frame *f, struct rm_frame *out);

/* Whether a native address lies in the interpreter (python executable or
 * libpython): such frames are replaced by the Python frames they run. */
bool py_is_interpreter_addr(struct py_support *py, uint64_t addr);
/* The interpreter's executable spans [lo, hi); *n of them. */
const uint64_t (*py_interpreter_text(struct py_support *py, size_t *n))[2];

/* "CPython 3.11.2 (/usr/bin/python3.11)" */
const char *py_describe(struct py_support *py);
/* What the object-allocator probes cannot see on this build, or NULL. */
const char *py_allocator_note(struct py_support *py);

void py_close(struct py_support *py);

#endif
