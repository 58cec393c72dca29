// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints leakbpf's census layout of CPython 3.MINOR
 * (user/python/census_layout.c) in the format of census_headers.c, then the
 * constants census_selfcheck.py checks inside a running interpreter. */
#include <stdio.h>
#include <stdlib.h>
#include "python/census_layout.h"

#define P(field) printf("%s %u\n", #field, (unsigned)l->field)
#define C(name)	 printf("%s %u\n", #name, (unsigned)(name))

int main(int argc, char **argv)
{
	const struct census_layout *l = census_layout_find(argc > 1 ? atoi(argv[1]) : 0);
	if (!l)
		return 1;
	P(minor);
	P(rt_interp_main);
	P(gc_in_runtime);
	P(gc_state);
	P(gc_enabled);
	P(gc_generations);
	P(gc_permanent);
	P(gc_collecting);
	P(gen_size);
	P(gen_threshold);
	P(gen_count);
	P(gc_head_size);
	P(tp_name);
	P(tp_basicsize);
	P(tp_itemsize);
	P(tp_dealloc);
	P(tp_flags);
	P(tp_traverse);
	P(tp_base);
	P(tp_dict);
	P(tp_dictoffset);
	P(ht_qualname);
	P(ht_cached_keys);
	P(heaptype_size);
	P(type_size);
	P(member_size);
	P(member_name);
	P(member_type);
	P(member_offset);
	P(member_flags);
	P(list_item);
	P(list_allocated);
	P(list_size);
	P(tuple_item);
	P(dict_used);
	P(dict_version);
	P(dict_keys);
	P(dict_values);
	P(dict_size);
	P(dk_size);
	P(dk_log2_size);
	P(dk_log2_index_bytes);
	P(dk_kind);
	P(dk_usable);
	P(dk_nentries);
	P(dk_indices);
	P(dk_entry_size);
	P(dk_unicode_entry_size);
	P(dv_values);
	P(dv_capacity);
	P(dv_embedded);
	P(dv_valid);
	P(set_fill);
	P(set_used);
	P(set_mask);
	P(set_table);
	P(set_smalltable);
	P(set_size);
	P(setentry_size);
	P(cell_ref);
	P(module_dict);
	P(bytes_size_base);
	P(bytearray_alloc);
	P(bytearray_size);
	P(float_size);
	P(long_digits);
	P(str_ascii_size);
	P(str_compact_size);
	P(str_utf8_length);
	P(str_utf8);
	P(str_wstr);
	P(str_wstr_length);
	P(fr_globals);
	P(fr_localsplus);
	P(co_nlocalsplus);
	P(co_localsplusnames);
	P(co_nlocals);
	P(co_cellvars);
	P(co_freevars);
	if (argc > 2) {
		/* constants from sources no header installs */
		C(CL_DEQUE_LEFTBLOCK);
		C(CL_DEQUE_RIGHTBLOCK);
		C(CL_DEQUE_LEFTINDEX);
		C(CL_DEQUE_RIGHTINDEX);
		C(CL_DEQUE_STATE);
		C(CL_BLOCKLEN);
		C(CL_BLOCK_DATA);
		C(CL_BLOCK_RIGHTLINK);
		C(CL_TPFLAGS_MANAGED_DICT);
		C(CL_TPFLAGS_INLINE_VALUES);
		C(CL_TPFLAGS_HEAPTYPE);
		C(CL_TPFLAGS_HAVE_GC);
	}
	return 0;
}
