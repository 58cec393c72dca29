// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-version object layouts for the heap census. Offsets come from the
 * headers of each version (Include/cpython/object.h, listobject.h,
 * tupleobject.h, dictobject.h, setobject.h, unicodeobject.h, longintrepr.h,
 * bytesobject.h, bytearrayobject.h, frameobject.h, code.h, and the internal
 * pycore_{gc,interp,pystate,runtime,dict,frame,moduleobject}.h); the
 * structs no installed header has are from the sources: the dict keys of
 * 3.8-3.10 (Objects/dict-common.h), modules before 3.13
 * (Objects/moduleobject.c) and deques (Modules/_collectionsmodule.c).
 * tests/test_objects.py compares every value with offsetof() from the
 * headers of each installed interpreter and checks the others at run time
 * with ctypes inside each interpreter. The collector's state is the same
 * struct from 3.8 to 3.13 (generations[3] and permanent_generation; 3.13.0's
 * pycore_gc.h still has them: the young/old lists of the incremental
 * collector did not ship before 3.14).
 */
#include <stdio.h>
#include <string.h>
#include "python/census_layout.h"

/* What 3.8 to 3.13 share. */
#define COMMON                                                                                     \
	.gc_enabled = 12, .gc_generations = 24, .gc_permanent = 104, .gc_collecting = 200,         \
	.gen_size = 24, .gen_threshold = 16, .gen_count = 20, .gc_head_size = 16, .tp_name = 24,   \
	.tp_basicsize = 32, .tp_itemsize = 40, .tp_dealloc = 48, .tp_flags = 168,                  \
	.tp_traverse = 184, .tp_base = 256, .tp_dict = 264, .tp_dictoffset = 288,                  \
	.member_size = 40, .member_name = 0, .member_type = 8, .member_offset = 16,                \
	.member_flags = 24, .list_item = 24, .list_allocated = 32, .list_size = 40,                \
	.tuple_item = 24, .dict_used = 16, .dict_version = 24, .dict_keys = 32, .dict_values = 40, \
	.dict_size = 48, .dk_entry_size = 24, .set_fill = 16, .set_used = 24, .set_mask = 32,      \
	.set_table = 40, .set_smalltable = 64, .set_size = 200, .setentry_size = 16,               \
	.cell_ref = 16, .module_dict = 16, .bytes_size_base = 33, .bytearray_alloc = 24,           \
	.bytearray_size = 56, .float_size = 24, .long_digits = 24

/* dict keys with Py_ssize_t dk_size and dk_lookup (3.8-3.10) */
#define KEYS_38                                                                                    \
	.dk_size = 8, .dk_log2_size = PY_NONE, .dk_log2_index_bytes = PY_NONE, .dk_kind = PY_NONE, \
	.dk_usable = 24, .dk_nentries = 32, .dk_indices = 40, .dk_unicode_entry_size = PY_NONE,    \
	.dv_values = 0, .dv_capacity = PY_NONE, .dv_embedded = PY_NONE, .dv_valid = PY_NONE
/* dict keys with log2 sizes and a kind (3.11+) */
#define KEYS_311                                                                                   \
	.dk_size = PY_NONE, .dk_log2_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10,            \
	.dk_usable = 16, .dk_nentries = 24, .dk_indices = 32, .dk_unicode_entry_size = 16

/* str with a wstr pointer (until 3.11) */
#define STR_38                                                                                     \
	.str_ascii_size = 48, .str_compact_size = 72, .str_utf8_length = 48, .str_utf8 = 56,       \
	.str_wstr = 40, .str_wstr_length = 64
#define STR_312                                                                                    \
	.str_ascii_size = 40, .str_compact_size = 56, .str_utf8_length = 40, .str_utf8 = 48,       \
	.str_wstr = PY_NONE, .str_wstr_length = PY_NONE

/* PyFrameObject locals (3.8-3.10) */
#define LOCALS_38                                                                                  \
	.fr_globals = 48, .co_nlocalsplus = PY_NONE, .co_localsplusnames = 72, .co_nlocals = 28,   \
	.co_cellvars = 88, .co_freevars = 80
/* _PyInterpreterFrame locals (3.11+) */
#define LOCALS_311                                                                                 \
	.fr_localsplus = 72, .co_localsplusnames = 96, .co_nlocals = PY_NONE,                      \
	.co_cellvars = PY_NONE, .co_freevars = PY_NONE
/* PyDictValues without a header (3.11, 3.12) */
#define VALUES_311                                                                                 \
	.dv_values = 0, .dv_capacity = PY_NONE, .dv_embedded = PY_NONE, .dv_valid = PY_NONE
/* what 3.12 and 3.13 share besides */
#define SHARED_312                                                                                 \
	.type_size = 416, .ht_qualname = 872, .ht_cached_keys = 880, .fr_globals = 24,             \
	.co_nlocalsplus = 72

static const struct census_layout layouts[] = {
    {
	.minor = 8,
	.rt_interp_main = 40,
	.type_size = 416,
	COMMON,
	KEYS_38,
	STR_38,
	LOCALS_38,
	.gc_in_runtime = 1,
	.gc_state = 344,
	.ht_qualname = 864,
	.ht_cached_keys = 872,
	.heaptype_size = 880,
	.fr_localsplus = 360,
    },
    {
	.minor = 9,
	.rt_interp_main = 40,
	.type_size = 408,
	COMMON,
	KEYS_38,
	STR_38,
	LOCALS_38,
	.gc_state = 616,
	.ht_qualname = 856,
	.ht_cached_keys = 864,
	.heaptype_size = 880,
	.fr_localsplus = 360,
    },
    {
	.minor = 10,
	.rt_interp_main = 40,
	.type_size = 408,
	COMMON,
	KEYS_38,
	STR_38,
	LOCALS_38,
	.gc_state = 616,
	.ht_qualname = 864,
	.ht_cached_keys = 872,
	.heaptype_size = 888,
	.fr_localsplus = 352,
    },
    {
	.minor = 11,
	.rt_interp_main = 48,
	.type_size = 408,
	COMMON,
	KEYS_311,
	STR_38,
	LOCALS_311,
	VALUES_311,
	.gc_state = 648,
	.ht_qualname = 864,
	.ht_cached_keys = 872,
	.heaptype_size = 904,
	.fr_globals = 8,
	.co_nlocalsplus = 76,
    },
    {
	.minor = 12,
	.rt_interp_main = 48,
	COMMON,
	KEYS_311,
	STR_312,
	LOCALS_311,
	VALUES_311,
	SHARED_312,
	.gc_state = 112,
	.heaptype_size = 920,
    },
    {
	/* PyDictValues gained a header (capacity, size, embedded, valid) */
	.minor = 13,
	.rt_interp_main = 640,
	COMMON,
	KEYS_311,
	STR_312,
	LOCALS_311,
	SHARED_312,
	.dv_values = 8,
	.dv_capacity = 0,
	.dv_embedded = 2,
	.dv_valid = 3,
	.gc_state = 7400,
	.heaptype_size = 928,
    },
};

const struct census_layout *census_layout_find(int minor)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

/* Words of _Py_DebugOffsets (3.13, Include/internal/pycore_runtime.h) that
 * describe census fields, and where they go. */
static const struct {
	unsigned word;
	size_t field;
	const char *what;
} debug_words[] = {
    {10, offsetof(struct census_layout, gc_state), "interpreter_state.gc"},
    {32, offsetof(struct census_layout, fr_localsplus), "interpreter_frame.localsplus"},
    {41, offsetof(struct census_layout, co_localsplusnames), "code_object.localsplusnames"},
    {47, offsetof(struct census_layout, tp_name), "type_object.tp_name"},
    {49, offsetof(struct census_layout, tp_flags), "type_object.tp_flags"},
    {51, offsetof(struct census_layout, tuple_item), "tuple_object.ob_item"},
    {54, offsetof(struct census_layout, list_item), "list_object.ob_item"},
    {57, offsetof(struct census_layout, dict_keys), "dict_object.ma_keys"},
    {58, offsetof(struct census_layout, dict_values), "dict_object.ma_values"},
    {63, offsetof(struct census_layout, long_digits), "long_object.ob_digit"},
    {70, offsetof(struct census_layout, str_ascii_size), "unicode_object.asciiobject_size"},
    {72, offsetof(struct census_layout, gc_collecting), "gc.collecting"},
};

int census_layout_from_debug_offsets(const void *buf, size_t len, struct census_layout *cl,
				     char *err, size_t errlen)
{
	uint64_t w[PY_DEBUG_OFFSETS_SIZE / 8];
	if (len < sizeof(w) || memcmp(buf, "xdebugpy", 8) != 0) {
		snprintf(err, errlen, "_PyRuntime does not start with _Py_DebugOffsets");
		return -1;
	}
	memcpy(w, buf, sizeof(w));
	for (size_t i = 0; i < sizeof(debug_words) / sizeof(debug_words[0]); i++) {
		uint64_t v = w[debug_words[i].word];
		if (v >= PY_NONE) {
			snprintf(err, errlen, "_Py_DebugOffsets: implausible offset %llu for %s",
				 (unsigned long long)v, debug_words[i].what);
			return -1;
		}
		memcpy((char *)cl + debug_words[i].field, &(uint16_t){(uint16_t)v},
		       sizeof(uint16_t));
	}
	/* interpreters.main follows interpreters.head */
	if (w[5] >= PY_NONE - 8) {
		snprintf(err, errlen, "_Py_DebugOffsets: implausible interpreters_head");
		return -1;
	}
	cl->rt_interp_main = (uint16_t)(w[5] + 8);
	/* the compact header follows the ASCII one by utf8_length and utf8 */
	cl->str_compact_size = cl->str_ascii_size + 16;
	cl->str_utf8_length = cl->str_ascii_size;
	cl->str_utf8 = cl->str_ascii_size + 8;
	return 0;
}
