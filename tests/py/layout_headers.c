// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prints the offsets leakbpf reads, computed by the compiler from the
 * headers of one CPython installation (built by tests/test_python_core.py
 * with -I<include>/pythonX.Y -I<include>/pythonX.Y/internal). The output is
 * compared with leakbpf's own table (layout_table.c).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#else
#include "internal/pycore_pystate.h"
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif

#define NONE	       0xffff
#define P(name, value) printf("%s %zu\n", name, (size_t)(value))

int main(void)
{
	P("minor", PY_MINOR_VERSION);
	P("rt_interp_head", offsetof(_PyRuntimeState, interpreters.head));
	P("interp_next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX >= 0x030b0000
	P("interp_threads", offsetof(PyInterpreterState, threads.head));
#else
	P("interp_threads", offsetof(PyInterpreterState, tstate_head));
#endif
	P("ts_next", offsetof(PyThreadState, next));
	P("ts_thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030d0000
	P("ts_frame", offsetof(PyThreadState, current_frame));
	P("cframe_frame", NONE);
#elif PY_VERSION_HEX >= 0x030b0000
	P("ts_frame", offsetof(PyThreadState, cframe));
	P("cframe_frame", offsetof(_PyCFrame, current_frame));
#else
	P("ts_frame", offsetof(PyThreadState, frame));
	P("cframe_frame", NONE);
#endif
#if PY_VERSION_HEX >= 0x030b0000
	P("fr_prev", offsetof(_PyInterpreterFrame, previous));
	P("fr_owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX >= 0x030d0000
	P("fr_code", offsetof(_PyInterpreterFrame, f_executable));
	P("fr_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#else
	P("fr_code", offsetof(_PyInterpreterFrame, f_code));
	P("fr_instr", offsetof(_PyInterpreterFrame, prev_instr));
#endif
	P("co_qualname", offsetof(PyCodeObject, co_qualname));
	P("co_linetable", offsetof(PyCodeObject, co_linetable));
	P("co_code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
#else
	P("fr_prev", offsetof(PyFrameObject, f_back));
	P("fr_owner", NONE);
	P("fr_code", offsetof(PyFrameObject, f_code));
	P("fr_instr", offsetof(PyFrameObject, f_lasti));
	P("co_qualname", NONE);
#if PY_VERSION_HEX >= 0x030a0000
	P("co_linetable", offsetof(PyCodeObject, co_linetable));
#else
	P("co_linetable", offsetof(PyCodeObject, co_lnotab));
#endif
	P("co_code_adaptive", NONE);
#endif
#if PY_VERSION_HEX >= 0x030c0000
	P("co_version", offsetof(PyCodeObject, co_version));
#else
	P("co_version", NONE);
#endif
	P("co_firstlineno", offsetof(PyCodeObject, co_firstlineno));
	P("co_filename", offsetof(PyCodeObject, co_filename));
	P("co_name", offsetof(PyCodeObject, co_name));
	P("str_length", offsetof(PyASCIIObject, length));
	P("str_hash", offsetof(PyASCIIObject, hash));
	P("str_state", offsetof(PyASCIIObject, state));
	P("str_ascii_data", sizeof(PyASCIIObject));
	P("str_compact_data", sizeof(PyCompactUnicodeObject));
	P("bytes_size", offsetof(PyVarObject, ob_size));
	P("bytes_data", offsetof(PyBytesObject, ob_sval));
	return 0;
}
