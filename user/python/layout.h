/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython struct layouts (x86_64 release builds), kept as data per version. */
#ifndef PY_LAYOUT_H
#define PY_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define PY_NONE 0xffff /* field absent in this version */

enum py_frame_kind {
	PY_FRAME_OBJECT = 1, /* 3.8-3.10: PyFrameObject, f_lasti */
	PY_FRAME_INTERP = 2, /* 3.11+: _PyInterpreterFrame, instruction pointer */
};

enum py_linetable_kind {
	PY_LT_LNOTAB = 1,    /* 3.8/3.9 co_lnotab: (byte incr, line incr) pairs */
	PY_LT_LINETABLE = 2, /* 3.10 co_linetable: (byte length, line delta) pairs */
	PY_LT_LOCATIONS = 3, /* 3.11+ PEP 657 location table */
};

/* Byte offsets of the fields leakbpf reads. */
struct py_layout {
	int major, minor;
	/* runtime -> interpreters -> thread states -> current frame */
	uint16_t rt_interp_head;
	uint16_t interp_next;
	uint16_t interp_threads;
	uint16_t ts_next;
	uint16_t ts_thread_id;
	uint16_t ts_frame;     /* frame (3.8-3.10), cframe (3.11/3.12), current_frame */
	uint16_t cframe_frame; /* _PyCFrame.current_frame, PY_NONE without cframe */
	/* frames */
	uint8_t frame_kind;   /* enum py_frame_kind */
	uint8_t lasti_shift;  /* f_lasti >> lasti_shift = code units */
	uint8_t owner_cstack; /* owner of C-stack shim frames, 0xff: none */
	uint16_t fr_prev;
	uint16_t fr_code;
	uint16_t fr_instr; /* f_lasti, prev_instr or instr_ptr */
	uint16_t fr_owner; /* PY_NONE before 3.11 */
	/* code objects */
	uint16_t co_firstlineno;
	uint16_t co_filename;
	uint16_t co_name;
	uint16_t co_qualname; /* PY_NONE before 3.11 */
	uint16_t co_linetable;
	uint16_t co_code_adaptive; /* first instruction, 3.11+ */
	uint16_t co_version;	   /* uint32 creation counter, 3.12+ */
	uint8_t linetable;	   /* enum py_linetable_kind */
	/* str and bytes objects */
	uint16_t str_length;
	uint16_t str_hash;
	uint16_t str_state;
	uint16_t str_ascii_data;   /* data of a compact ASCII str */
	uint16_t str_compact_data; /* data of other compact str */
	uint16_t bytes_size;
	uint16_t bytes_data;
};

/* The built-in layout of CPython major.minor, or NULL when unsupported. */
const struct py_layout *py_layout_find(int major, int minor);

/* 3.13+: fill l from the _Py_DebugOffsets that start _PyRuntime (buf holds
 * the first len bytes of it). Fields the debug offsets do not describe are
 * taken from the built-in layout. Returns 0, or -1 with a reason in err. */
int py_layout_from_debug_offsets(const void *buf, size_t len, uint64_t runtime_size, int major,
				 int minor, struct py_layout *l, char *err, size_t errlen);

/* Bytes of _PyRuntime that py_layout_from_debug_offsets looks at. */
#define PY_DEBUG_OFFSETS_SIZE 584

#endif
