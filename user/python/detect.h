/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Finding CPython in a target and telling which build it is. */
#ifndef PY_DETECT_H
#define PY_DETECT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "python/layout.h"

struct lb_target;
struct elf_file;

#define PY_MAX_TEXT 8

struct py_build {
	char path[PATH_MAX];  /* tracer-side path that opens the interpreter ELF */
	char label[PATH_MAX]; /* the ELF's path as the target sees it */
	struct elf_file *elf;
	bool shared; /* libpython*.so, else linked into the executable */
	int major, minor, micro;
	bool micro_known;
	uint64_t runtime; /* address of _PyRuntime in the target */
	struct py_layout layout;
	bool debug_offsets;	       /* layout read from _Py_DebugOffsets */
	uint64_t text[PY_MAX_TEXT][2]; /* executable mappings of the ELF */
	size_t ntext;
};

enum py_detect_result {
	PY_DETECT_NONE = 0,	   /* not CPython */
	PY_DETECT_OK = 1,	   /* supported: b is filled, b->elf is open */
	PY_DETECT_UNSUPPORTED = 2, /* CPython, but not a build leakbpf can walk: warn */
};

enum py_detect_result py_detect(const struct lb_target *t, struct py_build *b, char *warn,
				size_t warnlen);

#endif
