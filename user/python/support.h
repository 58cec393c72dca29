/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython support: detection, object allocator probes, frame resolution. */
#ifndef PYTHON_H
#define PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include "report/model.h"
#include "settings.h"

struct aggregate;
struct py_support;
struct lb_target;
struct leakbpf_bpf;
struct probe_set;

/* Detect CPython in the target (executable or libpython*.so mapping).
 * Returns NULL when the target is not CPython, or when the build is not
 * supported; then *warning (static or owned by nobody) says why, for
 * printing, or is NULL when the target simply is not Python. */
struct py_support *py_open(const struct lb_target *t, const char **warning);

/* What the BPF programs need to know of this CPython, for the settings
 * writer (session/bpf_settings.c) to put into .rodata before load. */
struct py_bpf_settings {
	struct lb_py_cfg cfg;	  /* the frame walk's layout */
	uint64_t preheader_flags; /* the object allocator programs' */
};

/* Fill *out. 0, or -1 when this layout does not fit the BPF read windows
 * (an internal error, printed). */
int py_bpf_settings(struct py_support *py, struct py_bpf_settings *out);

/* After load: attach the object allocator probes; alloc_all asks for every
 * pymalloc block (--py-alloc all). *code_watch says whether the code
 * object deallocator is probed (then BPF may keep code tags across walks);
 * with code_watch NULL it is not (the growth mode's windows).
 * 0, -1 when probes failed, -2 when alloc_all is impossible on this build
 * (said in err). */
int py_attach(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps, bool alloc_all,
	      bool *code_watch, char *err, size_t errlen);
/* The growth mode's allocation windows: every pymalloc block where the
 * build allows it, else objects and (pymalloc inlined) the small str,
 * float, int and bytes objects too; no code-object watch (frames are read
 * as the growth mode's are). 0, or -1 when probes failed. */
int py_attach_window(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps,
		     char *err, size_t errlen);

/* Resolve one frame of a stack (code object address, instruction offset,
 * tag: see struct lb_py_frame). Called when a stack is first seen, while
 * the code object is alive. Fills out (kind RM_FRAME_PYTHON); strings owned
 * by py. Returns 0, or -1 when the frame cannot be read (out is then a
 * placeholder frame "<unknown python frame>"). */
int py_resolve_frame(struct py_support *py, uint64_t code, uint32_t lasti, uint32_t tag,
		     struct rm_frame *out);

/* Names the aggregate's stacks no longer use are freed: when the names
 * cache is near its bound and stacks were dropped since the last time,
 * the names still used are copied, every stack's frames moved to them,
 * and the rest freed. Call between reports (reports point into them). */
void py_trim_names(struct py_support *py, struct aggregate *agg);
/* Frames whose names were past the names' bound, and line tables not
 * kept (their bound): for the drops of reports. */
void py_bounds(const struct py_support *py, uint64_t *names_unkept, uint64_t *tables_unkept);

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
