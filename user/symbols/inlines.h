/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The functions inlined at a code address, from DWARF (elfutils libdw). */
#ifndef SYMBOLS_INLINES_H
#define SYMBOLS_INLINES_H

#include <elfutils/libdwfl.h>

/* Deepest chain of inlined functions kept per address. */
#define INLINE_MAX 32

/* One function inlined at the address. Strings belong to the module's
 * DWARF (they live as long as the module); NULL when unknown. */
struct inline_scope {
	const char *name;      /* linkage (mangled) name, else DW_AT_name */
	const char *call_file; /* where its caller calls it */
	int call_line;
};

/* Where the functions of each compile unit are, built the first time an
 * address of the unit is looked up (bounded; see inlines.c). */
struct inline_index;

struct inline_index *inline_index_new(void);
void inline_index_free(struct inline_index *ix);

/* The chain of functions inlined at pc (an address in dwfl's space, as for
 * dwfl_module_getsrc), innermost first, into out[0..max). Chains deeper
 * than max keep their outermost max functions; *inner_call then gets the
 * call site of the function out[0] calls (the first one dropped), for the
 * caller to show instead of the line table's, and is left alone otherwise.
 * *outer_name gets the name of the function that contains them all (the
 * DW_TAG_subprogram), or NULL. Returns how many were written; 0 without
 * DWARF or when pc is in no inlined function. The module's DWARF must stay
 * loaded as long as ix lives. */
unsigned inline_scopes(struct inline_index *ix, Dwfl_Module *dm, Dwarf_Addr pc,
		       struct inline_scope *out, unsigned max, struct inline_scope *inner_call,
		       const char **outer_name);

/* Times the index started over at its bound. */
uint64_t inline_index_restarts(const struct inline_index *ix);

#endif
