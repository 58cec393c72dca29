// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prints the offsets and sizes `leakbpf objects` reads, computed by the
 * compiler from the headers of one CPython installation (built by
 * tests/test_objects.py with -I<include>/pythonX.Y -I<include>/pythonX.Y/internal).
 * The output is compared with leakbpf's own table (census_table.c). Structs
 * that no installed header defines (dict keys before 3.11, deque, modules
 * before 3.13) are checked at run time instead (census_selfcheck.py).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <structmember.h>
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#else
#include "internal/pycore_pystate.h"
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#endif
#if PY_VERSION_HEX >= 0x030d0000
#include "internal/pycore_moduleobject.h"
#endif

#define NONE	       0xffff
#define P(name, value) printf("%s %zu\n", name, (size_t)(value))
/* a field no installed header describes: census_selfcheck.py checks it */
#define R(name) printf("%s -\n", name)

int main(void)
{
	P("minor", PY_MINOR_VERSION);
	P("rt_interp_main", offsetof(_PyRuntimeState, interpreters.main));
	/* the collector's state: in _PyRuntime (3.8), in the interpreter after */
#if PY_VERSION_HEX >= 0x03090000
	P("gc_in_runtime", 0);
	P("gc_state", offsetof(PyInterpreterState, gc));
#else
	P("gc_in_runtime", 1);
	P("gc_state", offsetof(_PyRuntimeState, gc));
#endif
	P("gc_enabled", offsetof(struct _gc_runtime_state, enabled));
	P("gc_generations", offsetof(struct _gc_runtime_state, generations));
	P("gc_permanent", offsetof(struct _gc_runtime_state, permanent_generation));
	P("gc_collecting", offsetof(struct _gc_runtime_state, collecting));
	P("gen_size", sizeof(struct gc_generation));
	P("gen_threshold", offsetof(struct gc_generation, threshold));
	P("gen_count", offsetof(struct gc_generation, count));
	P("gc_head_size", sizeof(PyGC_Head));
	/* type objects */
	P("tp_name", offsetof(PyTypeObject, tp_name));
	P("tp_basicsize", offsetof(PyTypeObject, tp_basicsize));
	P("tp_itemsize", offsetof(PyTypeObject, tp_itemsize));
	P("tp_dealloc", offsetof(PyTypeObject, tp_dealloc));
	P("tp_flags", offsetof(PyTypeObject, tp_flags));
	P("tp_traverse", offsetof(PyTypeObject, tp_traverse));
	P("tp_base", offsetof(PyTypeObject, tp_base));
	P("tp_dict", offsetof(PyTypeObject, tp_dict));
	P("tp_dictoffset", offsetof(PyTypeObject, tp_dictoffset));
	P("ht_qualname", offsetof(PyHeapTypeObject, ht_qualname));
	P("ht_cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
	P("heaptype_size", sizeof(PyHeapTypeObject));
	P("type_size", sizeof(PyTypeObject));
	P("member_size", sizeof(PyMemberDef));
	P("member_name", offsetof(PyMemberDef, name));
	P("member_type", offsetof(PyMemberDef, type));
	P("member_offset", offsetof(PyMemberDef, offset));
	P("member_flags", offsetof(PyMemberDef, flags));
	/* containers */
	P("list_item", offsetof(PyListObject, ob_item));
	P("list_allocated", offsetof(PyListObject, allocated));
	P("list_size", sizeof(PyListObject));
	P("tuple_item", offsetof(PyTupleObject, ob_item));
	P("dict_used", offsetof(PyDictObject, ma_used));
	P("dict_version", offsetof(PyDictObject, ma_version_tag));
	P("dict_keys", offsetof(PyDictObject, ma_keys));
	P("dict_values", offsetof(PyDictObject, ma_values));
	P("dict_size", sizeof(PyDictObject));
#if PY_VERSION_HEX >= 0x030b0000
	P("dk_size", NONE);
	P("dk_log2_size", offsetof(PyDictKeysObject, dk_log2_size));
	P("dk_log2_index_bytes", offsetof(PyDictKeysObject, dk_log2_index_bytes));
	P("dk_kind", offsetof(PyDictKeysObject, dk_kind));
	P("dk_usable", offsetof(PyDictKeysObject, dk_usable));
	P("dk_nentries", offsetof(PyDictKeysObject, dk_nentries));
	P("dk_indices", offsetof(PyDictKeysObject, dk_indices));
	P("dk_entry_size", sizeof(PyDictKeyEntry));
	P("dk_unicode_entry_size", sizeof(PyDictUnicodeEntry));
	P("dv_values", offsetof(PyDictValues, values));
#if PY_VERSION_HEX >= 0x030d0000
	P("dv_capacity", offsetof(PyDictValues, capacity));
	P("dv_embedded", offsetof(PyDictValues, embedded));
	P("dv_valid", offsetof(PyDictValues, valid));
#else
	P("dv_capacity", NONE);
	P("dv_embedded", NONE);
	P("dv_valid", NONE);
#endif
#else
	/* Objects/dict-common.h is not installed: checked at run time */
	R("dk_size");
	P("dk_log2_size", NONE);
	P("dk_log2_index_bytes", NONE);
	P("dk_kind", NONE);
	R("dk_usable");
	R("dk_nentries");
	R("dk_indices");
	R("dk_entry_size");
	P("dk_unicode_entry_size", NONE);
	P("dv_values", 0);
	P("dv_capacity", NONE);
	P("dv_embedded", NONE);
	P("dv_valid", NONE);
#endif
	P("set_fill", offsetof(PySetObject, fill));
	P("set_used", offsetof(PySetObject, used));
	P("set_mask", offsetof(PySetObject, mask));
	P("set_table", offsetof(PySetObject, table));
	P("set_smalltable", offsetof(PySetObject, smalltable));
	P("set_size", sizeof(PySetObject));
	P("setentry_size", sizeof(setentry));
	P("cell_ref", offsetof(PyCellObject, ob_ref));
#if PY_VERSION_HEX >= 0x030d0000
	P("module_dict", offsetof(PyModuleObject, md_dict));
#else
	R("module_dict"); /* Objects/moduleobject.c: checked at run time */
#endif
	/* scalars */
	P("bytes_size_base", offsetof(PyBytesObject, ob_sval) + 1);
	P("bytearray_alloc", offsetof(PyByteArrayObject, ob_alloc));
	P("bytearray_size", sizeof(PyByteArrayObject));
	P("float_size", sizeof(PyFloatObject));
#if PY_VERSION_HEX >= 0x030c0000
	P("long_digits", offsetof(PyLongObject, long_value.ob_digit));
#else
	P("long_digits", offsetof(PyLongObject, ob_digit));
#endif
	P("str_ascii_size", sizeof(PyASCIIObject));
	P("str_compact_size", sizeof(PyCompactUnicodeObject));
	P("str_utf8_length", offsetof(PyCompactUnicodeObject, utf8_length));
	P("str_utf8", offsetof(PyCompactUnicodeObject, utf8));
#if PY_VERSION_HEX >= 0x030c0000
	P("str_wstr", NONE);
	P("str_wstr_length", NONE);
#else
	P("str_wstr", offsetof(PyASCIIObject, wstr));
	P("str_wstr_length", offsetof(PyCompactUnicodeObject, wstr_length));
#endif
	/* frames and their locals */
#if PY_VERSION_HEX >= 0x030b0000
	P("fr_globals", offsetof(_PyInterpreterFrame, f_globals));
	P("fr_localsplus", offsetof(_PyInterpreterFrame, localsplus));
	P("co_nlocalsplus", offsetof(PyCodeObject, co_nlocalsplus));
	P("co_localsplusnames", offsetof(PyCodeObject, co_localsplusnames));
	P("co_nlocals", NONE);
	P("co_cellvars", NONE);
	P("co_freevars", NONE);
#else
	P("fr_globals", offsetof(PyFrameObject, f_globals));
	P("fr_localsplus", offsetof(PyFrameObject, f_localsplus));
	P("co_nlocalsplus", NONE);
	P("co_localsplusnames", offsetof(PyCodeObject, co_varnames));
	P("co_nlocals", offsetof(PyCodeObject, co_nlocals));
	P("co_cellvars", offsetof(PyCodeObject, co_cellvars));
	P("co_freevars", offsetof(PyCodeObject, co_freevars));
#endif
	return 0;
}
