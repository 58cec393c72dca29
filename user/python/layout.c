// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-version CPython layouts. Offsets come from CPython's headers of each
 * version (offsetof on x86_64 release builds: Include/cpython/pystate.h,
 * Include/internal/pycore_{runtime,interp,frame}.h, Include/cpython/code.h,
 * Include/cpython/unicodeobject.h); tests/test_python_core.py checks them
 * against the headers of every interpreter installed on the machine.
 */
#include <stdio.h>
#include <string.h>
#include "python/layout.h"

/* Strings and bytes: PyASCIIObject had a wstr pointer until 3.11. */
#define STR_311                                                                                    \
	.str_length = 16, .str_hash = 24, .str_state = 32, .str_ascii_data = 48,                   \
	.str_compact_data = 72, .bytes_size = 16, .bytes_data = 32
#define STR_312                                                                                    \
	.str_length = 16, .str_hash = 24, .str_state = 32, .str_ascii_data = 40,                   \
	.str_compact_data = 56, .bytes_size = 16, .bytes_data = 32

/* 3.8-3.10: PyThreadState.frame -> PyFrameObject chain. */
#define FRAMEOBJ_38                                                                                \
	.rt_interp_head = 32, .interp_next = 0, .interp_threads = 8, .ts_next = 8,                 \
	.ts_thread_id = 176, .ts_frame = 24, .cframe_frame = PY_NONE,                              \
	.frame_kind = PY_FRAME_OBJECT, .owner_cstack = 0xff, .fr_prev = 24, .fr_code = 32,         \
	.fr_owner = PY_NONE, .co_firstlineno = 40, .co_filename = 104, .co_name = 112,             \
	.co_qualname = PY_NONE, .co_linetable = 120, .co_code_adaptive = PY_NONE,                  \
	.co_version = PY_NONE

static const struct py_layout layouts[] = {
    {
	.major = 3,
	.minor = 8,
	FRAMEOBJ_38,
	.fr_instr = 104,
	.lasti_shift = 1,
	.linetable = PY_LT_LNOTAB,
	STR_311,
    },
    {
	.major = 3,
	.minor = 9,
	FRAMEOBJ_38,
	.fr_instr = 104,
	.lasti_shift = 1,
	.linetable = PY_LT_LNOTAB,
	STR_311,
    },
    {
	.major = 3,
	.minor = 10,
	FRAMEOBJ_38,
	.fr_instr = 96,
	.lasti_shift = 0,
	.linetable = PY_LT_LINETABLE,
	STR_311,
    },
    {
	/* tstate->cframe->current_frame; no C-stack shim frames yet */
	.major = 3,
	.minor = 11,
	.rt_interp_head = 40,
	.interp_next = 0,
	.interp_threads = 16,
	.ts_next = 8,
	.ts_thread_id = 152,
	.ts_frame = 56,
	.cframe_frame = 8,
	.frame_kind = PY_FRAME_INTERP,
	.owner_cstack = 0xff,
	.fr_prev = 48,
	.fr_code = 32,
	.fr_instr = 56,
	.fr_owner = 69,
	.co_firstlineno = 72,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code_adaptive = 184,
	.co_version = PY_NONE,
	.linetable = PY_LT_LOCATIONS,
	STR_311,
    },
    {
	.major = 3,
	.minor = 12,
	.rt_interp_head = 40,
	.interp_next = 0,
	.interp_threads = 72,
	.ts_next = 8,
	.ts_thread_id = 136,
	.ts_frame = 56,
	.cframe_frame = 0,
	.frame_kind = PY_FRAME_INTERP,
	.owner_cstack = 3,
	.fr_prev = 8,
	.fr_code = 0,
	.fr_instr = 56,
	.fr_owner = 70,
	.co_firstlineno = 68,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code_adaptive = 192,
	.co_version = 92,
	.linetable = PY_LT_LOCATIONS,
	STR_312,
    },
    {
	/* tstate->current_frame; also described by _Py_DebugOffsets */
	.major = 3,
	.minor = 13,
	.rt_interp_head = 632,
	.interp_next = 7264,
	.interp_threads = 7344,
	.ts_next = 8,
	.ts_thread_id = 152,
	.ts_frame = 72,
	.cframe_frame = PY_NONE,
	.frame_kind = PY_FRAME_INTERP,
	.owner_cstack = 3,
	.fr_prev = 8,
	.fr_code = 0,
	.fr_instr = 56,
	.fr_owner = 70,
	.co_firstlineno = 68,
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_linetable = 136,
	.co_code_adaptive = 200,
	.co_version = 92,
	.linetable = PY_LT_LOCATIONS,
	STR_312,
    },
};

const struct py_layout *py_layout_find(int major, int minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == major && layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

/* Index (in 8-byte words) of the _Py_DebugOffsets fields used, as laid
 * out by CPython 3.13 (Include/internal/pycore_runtime.h). */
enum {
	DO_VERSION = 1,
	DO_FREE_THREADED = 2,
	DO_RUNTIME_SIZE = 3,
	DO_INTERP_HEAD = 5,
	DO_INTERP_NEXT = 8,
	DO_THREADS_HEAD = 9,
	DO_TS_NEXT = 21,
	DO_TS_FRAME = 23,
	DO_TS_THREAD_ID = 24,
	DO_FR_PREV = 29,
	DO_FR_CODE = 30,
	DO_FR_INSTR = 31,
	DO_FR_OWNER = 33,
	DO_CO_FILENAME = 35,
	DO_CO_NAME = 36,
	DO_CO_QUALNAME = 37,
	DO_CO_LINETABLE = 38,
	DO_CO_FIRSTLINENO = 39,
	DO_CO_CODE = 43,
	DO_BYTES_SIZE = 65,
	DO_BYTES_DATA = 66,
	DO_STR_STATE = 68,
	DO_STR_LENGTH = 69,
	DO_STR_ASCII_SIZE = 70,
	DO_WORDS = PY_DEBUG_OFFSETS_SIZE / 8,
};

static int set16(uint16_t *dst, uint64_t v, const char *what, char *err, size_t errlen)
{
	if (v >= PY_NONE) {
		snprintf(err, errlen, "_Py_DebugOffsets: implausible offset %llu for %s",
			 (unsigned long long)v, what);
		return -1;
	}
	*dst = (uint16_t)v;
	return 0;
}

int py_layout_from_debug_offsets(const void *buf, size_t len, uint64_t runtime_size, int major,
				 int minor, struct py_layout *l, char *err, size_t errlen)
{
	uint64_t w[DO_WORDS];
	const struct py_layout *base = py_layout_find(major, minor);
	if (!base) {
		snprintf(err, errlen, "no layout for CPython %d.%d", major, minor);
		return -1;
	}
	if (len < sizeof(w) || memcmp(buf, "xdebugpy", 8) != 0) {
		snprintf(err, errlen, "_PyRuntime does not start with _Py_DebugOffsets");
		return -1;
	}
	memcpy(w, buf, sizeof(w));
	if ((w[DO_VERSION] >> 24) != (uint64_t)major ||
	    ((w[DO_VERSION] >> 16) & 0xff) != (uint64_t)minor) {
		snprintf(err, errlen, "_Py_DebugOffsets version %#llx is not %d.%d",
			 (unsigned long long)w[DO_VERSION], major, minor);
		return -1;
	}
	if (w[DO_FREE_THREADED]) {
		snprintf(err, errlen, "free-threaded build (no GIL) is not supported");
		return -1;
	}
	/* A struct laid out differently would not agree on _PyRuntime's size. */
	if (runtime_size && w[DO_RUNTIME_SIZE] != runtime_size) {
		snprintf(err, errlen,
			 "_Py_DebugOffsets layout not recognised (runtime size %llu, "
			 "symbol size %llu)",
			 (unsigned long long)w[DO_RUNTIME_SIZE], (unsigned long long)runtime_size);
		return -1;
	}
	*l = *base;
	static const struct {
		int idx;
		size_t off;
		const char *what;
	} map[] = {
	    {DO_INTERP_HEAD, offsetof(struct py_layout, rt_interp_head), "interpreters_head"},
	    {DO_INTERP_NEXT, offsetof(struct py_layout, interp_next), "interp.next"},
	    {DO_THREADS_HEAD, offsetof(struct py_layout, interp_threads), "threads_head"},
	    {DO_TS_NEXT, offsetof(struct py_layout, ts_next), "tstate.next"},
	    {DO_TS_FRAME, offsetof(struct py_layout, ts_frame), "current_frame"},
	    {DO_TS_THREAD_ID, offsetof(struct py_layout, ts_thread_id), "thread_id"},
	    {DO_FR_PREV, offsetof(struct py_layout, fr_prev), "frame.previous"},
	    {DO_FR_CODE, offsetof(struct py_layout, fr_code), "frame.executable"},
	    {DO_FR_INSTR, offsetof(struct py_layout, fr_instr), "frame.instr_ptr"},
	    {DO_FR_OWNER, offsetof(struct py_layout, fr_owner), "frame.owner"},
	    {DO_CO_FILENAME, offsetof(struct py_layout, co_filename), "co_filename"},
	    {DO_CO_NAME, offsetof(struct py_layout, co_name), "co_name"},
	    {DO_CO_QUALNAME, offsetof(struct py_layout, co_qualname), "co_qualname"},
	    {DO_CO_LINETABLE, offsetof(struct py_layout, co_linetable), "co_linetable"},
	    {DO_CO_FIRSTLINENO, offsetof(struct py_layout, co_firstlineno), "co_firstlineno"},
	    {DO_CO_CODE, offsetof(struct py_layout, co_code_adaptive), "co_code_adaptive"},
	    {DO_BYTES_SIZE, offsetof(struct py_layout, bytes_size), "bytes.ob_size"},
	    {DO_BYTES_DATA, offsetof(struct py_layout, bytes_data), "bytes.ob_sval"},
	    {DO_STR_STATE, offsetof(struct py_layout, str_state), "str.state"},
	    {DO_STR_LENGTH, offsetof(struct py_layout, str_length), "str.length"},
	    {DO_STR_ASCII_SIZE, offsetof(struct py_layout, str_ascii_data), "str data"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (set16((uint16_t *)((char *)l + map[i].off), w[map[i].idx], map[i].what, err,
			  errlen))
			return -1;
	/* PyCompactUnicodeObject adds utf8_length and utf8 after PyASCIIObject. */
	l->str_compact_data = l->str_ascii_data + 16;
	return 0;
}
