// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints leakbpf's built-in layout of CPython 3.MINOR (user/python/layout.c) in
 * the format of layout_headers.c, for tests/test_python_core.py. */
#include <stdio.h>
#include <stdlib.h>
#include "python/layout.h"

#define P(field) printf("%s %u\n", #field, (unsigned)l->field)

int main(int argc, char **argv)
{
	const struct py_layout *l = py_layout_find(3, argc > 1 ? atoi(argv[1]) : 0);
	if (!l)
		return 1;
	P(minor);
	P(rt_interp_head);
	P(interp_next);
	P(interp_threads);
	P(ts_next);
	P(ts_thread_id);
	P(ts_frame);
	P(cframe_frame);
	P(fr_prev);
	P(fr_owner);
	P(fr_code);
	P(fr_instr);
	P(co_qualname);
	P(co_linetable);
	P(co_code_adaptive);
	P(co_version);
	P(co_firstlineno);
	P(co_filename);
	P(co_name);
	P(str_length);
	P(str_hash);
	P(str_state);
	P(str_ascii_data);
	P(str_compact_data);
	P(bytes_size);
	P(bytes_data);
	return 0;
}
