/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython object layouts for the heap census (`leakbpf objects`), kept as
 * data per version beside python/layout.h (thread states, frames, code).
 * x86_64 release builds; offsets in bytes, PY_NONE where a field does not
 * exist in that version.
 */
#ifndef PY_CENSUS_LAYOUT_H
#define PY_CENSUS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "python/layout.h"

/* PyTypeObject.tp_flags bits (Include/object.h, the same 3.8-3.13 unless
 * noted). */
#define CL_TPFLAGS_INLINE_VALUES   (1UL << 2) /* 3.13 */
#define CL_TPFLAGS_MANAGED_WEAKREF (1UL << 3) /* 3.12+ */
#define CL_TPFLAGS_MANAGED_DICT	   (1UL << 4) /* 3.11+ */
#define CL_TPFLAGS_HEAPTYPE	   (1UL << 9)
#define CL_TPFLAGS_READY	   (1UL << 12)
#define CL_TPFLAGS_HAVE_GC	   (1UL << 14)
#define CL_TPFLAGS_TYPE_SUBCLASS   (1UL << 31)

/* PyMemberDef.type of an object slot (T_OBJECT, T_OBJECT_EX). */
#define CL_T_OBJECT    6
#define CL_T_OBJECT_EX 16

/* collections.deque (Modules/_collectionsmodule.c, the same 3.8-3.13). */
#define CL_DEQUE_LEFTBLOCK  24
#define CL_DEQUE_RIGHTBLOCK 32
#define CL_DEQUE_LEFTINDEX  40
#define CL_DEQUE_RIGHTINDEX 48
#define CL_DEQUE_STATE	    56
#define CL_BLOCKLEN	    64
#define CL_BLOCK_DATA	    8
#define CL_BLOCK_RIGHTLINK  (CL_BLOCK_DATA + 8 * CL_BLOCKLEN)
#define CL_BLOCK_SIZE	    (CL_BLOCK_RIGHTLINK + 8)

struct census_layout {
	int minor;
	uint16_t rt_interp_main; /* _PyRuntime.interpreters.main */
	/* the collector's state: _PyRuntime.gc (3.8) or interp->gc */
	uint8_t gc_in_runtime;
	uint16_t gc_state;
	uint16_t gc_enabled, gc_generations, gc_permanent, gc_collecting;
	uint16_t gen_size, gen_threshold, gen_count;
	uint16_t gc_head_size;
	/* type objects */
	uint16_t tp_name, tp_basicsize, tp_itemsize, tp_dealloc, tp_flags, tp_traverse;
	uint16_t tp_base, tp_dict, tp_dictoffset;
	uint16_t ht_qualname, ht_cached_keys, heaptype_size, type_size;
	uint16_t member_size, member_name, member_type, member_offset, member_flags;
	/* containers */
	uint16_t list_item, list_allocated, list_size;
	uint16_t tuple_item;
	uint16_t dict_used, dict_version, dict_keys, dict_values, dict_size;
	uint16_t dk_size;				     /* Py_ssize_t dk_size, before 3.11 */
	uint16_t dk_log2_size, dk_log2_index_bytes, dk_kind; /* uint8_t, 3.11+ */
	uint16_t dk_usable, dk_nentries, dk_indices;
	uint16_t dk_entry_size, dk_unicode_entry_size;
	uint16_t dv_values, dv_capacity, dv_embedded, dv_valid;
	uint16_t set_fill, set_used, set_mask, set_table, set_smalltable, set_size;
	uint16_t setentry_size;
	uint16_t cell_ref, module_dict;
	/* scalars (for sizes) */
	uint16_t bytes_size_base, bytearray_alloc, bytearray_size, float_size, long_digits;
	uint16_t str_ascii_size, str_compact_size, str_utf8_length, str_utf8;
	uint16_t str_wstr, str_wstr_length;
	/* frames and their locals */
	uint16_t fr_globals, fr_localsplus;
	uint16_t co_nlocalsplus, co_localsplusnames, co_nlocals, co_cellvars, co_freevars;
};

/* The built-in census layout of CPython 3.minor, or NULL. */
const struct census_layout *census_layout_find(int minor);

/* 3.13+: check the built-in layout against the _Py_DebugOffsets that start
 * _PyRuntime (buf: its first PY_DEBUG_OFFSETS_SIZE bytes) and take the
 * build's own value where they describe a field. 0, or -1 with a reason. */
int census_layout_from_debug_offsets(const void *buf, size_t len, struct census_layout *cl,
				     char *err, size_t errlen);

#endif
