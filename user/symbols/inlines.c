// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Inlined call chains from DWARF. The compiler records every inlined call
 * as a DW_TAG_inlined_subroutine inside its caller's DIE, with the caller's
 * file and line of the call (DW_AT_call_file, DW_AT_call_line): the DIEs
 * from the DW_TAG_subprogram down to the innermost one containing an
 * address are the chain of calls that the machine code no longer has.
 *
 * Finding that subprogram is the cost: libdw's dwarf_getscopes reads the
 * whole unit for each address (~0.5 ms per address in libpython). So the
 * first lookup in a unit lists its functions' address ranges once
 * (dwarf_getfuncs), and each address is then a binary search plus a walk
 * down the few DIEs on the way to it.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "symbols/inlines.h"
#include "util/array.h"
#include "util/intern.h"
#include "util/search.h"

/* Address ranges indexed at most, all units together (24 bytes each):
 * past it the index starts over, whatever the target maps. */
#define INDEX_MAX_RANGES (1u << 21)
/* Lexical blocks and inlined calls followed below a function at most, and
 * DIEs looked at on the way (the DWARF comes from the target's files). */
#define WALK_MAX_DEPTH 256
#define WALK_MAX_STEPS (1u << 20)

struct fn_range {
	Dwarf_Addr lo, hi; /* unit addresses: dwfl's minus the module bias */
	Dwarf_Off die;	   /* the DW_TAG_subprogram */
};

struct unit_funcs {
	struct fn_range *r; /* sorted by lo */
	size_t n;
};

struct unit_key {
	const Dwarf *dbg;
	Dwarf_Off cu; /* offset of the unit's DIE */
};

struct inline_index {
	struct interner *units;	  /* struct unit_key -> index into funcs */
	struct unit_funcs *funcs; /* zeroed slots: units without functions */
	size_t cap;
	size_t nranges;
	uint64_t restarts; /* times INDEX_MAX_RANGES made it start over */
};

struct inline_index *inline_index_new(void)
{
	struct inline_index *ix = calloc(1, sizeof(*ix));

	if (ix && !(ix->units = interner_new())) {
		free(ix);
		return NULL;
	}
	return ix;
}

static void index_drop(struct inline_index *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		free(ix->funcs[i].r);
	free(ix->funcs);
	ix->funcs = NULL;
	ix->cap = 0;
	ix->nranges = 0;
	interner_free(ix->units);
	ix->units = NULL;
}

void inline_index_free(struct inline_index *ix)
{
	if (ix)
		index_drop(ix);
	free(ix);
}

struct collect {
	struct unit_funcs *u;
	size_t cap;
	size_t limit;
};

static int add_function(Dwarf_Die *fn, void *arg)
{
	struct collect *c = arg;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	/* declarations and functions only ever inlined have no ranges */
	while ((off = dwarf_ranges(fn, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (c->u->n >= c->limit || ARRAY_RESERVE(c->u->r, c->cap, c->u->n + 1))
			return DWARF_CB_ABORT;
		c->u->r[c->u->n++] = (struct fn_range){lo, hi, dwarf_dieoffset(fn)};
	}
	return DWARF_CB_OK;
}

static int by_lo(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The unit's function ranges, listed on first use. */
static const struct unit_funcs *unit_funcs(struct inline_index *ix, Dwarf *dbg, Dwarf_Die *cudie)
{
	struct unit_key key;
	bool added;
	long i;

	if (ix->nranges >= INDEX_MAX_RANGES) {
		index_drop(ix);
		ix->units = interner_new();
		ix->restarts++;
	}
	if (!ix->units)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.dbg = dbg;
	key.cu = dwarf_dieoffset(cudie);
	i = interner_add(ix->units, &key, sizeof(key), &added);
	if (i < 0)
		return NULL;
	if (added && ARRAY_RESERVE(ix->funcs, ix->cap, (size_t)i + 1))
		return NULL;
	if ((size_t)i >= ix->cap)
		return NULL; /* an earlier reserve failed for it */
	struct unit_funcs *u = &ix->funcs[i];

	if (added) {
		struct collect c = {.u = u, .limit = INDEX_MAX_RANGES - ix->nranges};

		/* an aborted walk keeps what it found: addresses of the rest
		 * just get no inline frames */
		dwarf_getfuncs(cudie, add_function, &c, 0);
		qsort(u->r, u->n, sizeof(*u->r), by_lo);
		ix->nranges += u->n;
	}
	return u;
}

/* The function containing unit address pc. */
static bool find_function(const struct unit_funcs *u, Dwarf *dbg, Dwarf_Addr pc, Dwarf_Die *fn)
{
	size_t lo = SORTED_UPPER(u->r, u->n, .lo, pc);

	return lo && pc < u->r[lo - 1].hi && dwarf_offdie(dbg, u->r[lo - 1].die, fn);
}

/* The inlined calls from fn down to pc, outermost first, through lexical
 * blocks. Returns how many. */
static unsigned descend(Dwarf_Die *fn, Dwarf_Addr pc, Dwarf_Die *path, unsigned max)
{
	Dwarf_Die cur = *fn, child, next;
	unsigned n = 0, depth = 0, steps = 0;

	while (n < max && depth++ < WALK_MAX_DEPTH && dwarf_child(&cur, &child) == 0) {
		for (;;) {
			int tag = dwarf_tag(&child);

			if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
			    dwarf_haspc(&child, pc) == 1)
				break;
			if (++steps > WALK_MAX_STEPS || dwarf_siblingof(&child, &next) != 0)
				return n;
			child = next;
		}
		if (dwarf_tag(&child) == DW_TAG_inlined_subroutine)
			path[n++] = child;
		cur = child;
	}
	return n;
}

/* The linkage name (mangled, with the scope and parameters) when there is
 * one, else the plain name (C functions). */
static const char *scope_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));

	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

static void call_site(Dwarf_Die *die, Dwarf_Files *files, size_t nfiles, struct inline_scope *s)
{
	Dwarf_Attribute attr;
	Dwarf_Word file, line;

	s->call_file = NULL;
	s->call_line = 0;
	/* DWARF 5 numbers files from 0, earlier versions from 1: libdw's
	 * file table is indexed by the attribute's value either way. */
	if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &file) &&
	    file < nfiles)
		s->call_file = dwarf_filesrc(files, file, NULL, NULL);
	if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &line) && line <= INT_MAX)
		s->call_line = (int)line;
}

unsigned inline_scopes(struct inline_index *ix, Dwfl_Module *dm, Dwarf_Addr pc,
		       struct inline_scope *out, unsigned max, struct inline_scope *inner_call,
		       const char **outer_name)
{
	Dwarf_Die path[WALK_MAX_DEPTH], fn;
	Dwarf_Addr bias, dbias;
	Dwarf_Die *cudie = ix ? dwfl_module_addrdie(dm, pc, &bias) : NULL;
	Dwarf *dbg = cudie ? dwfl_module_getdwarf(dm, &dbias) : NULL;
	const struct unit_funcs *u = dbg ? unit_funcs(ix, dbg, cudie) : NULL;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	unsigned n, keep;

	*outer_name = NULL;
	if (!u || !find_function(u, dbg, pc - bias, &fn))
		return 0;
	*outer_name = scope_name(&fn);
	n = descend(&fn, pc - bias, path, WALK_MAX_DEPTH);
	if (dwarf_getsrcfiles(cudie, &files, &nfiles))
		files = NULL;
	keep = n < max ? n : max;
	if (keep < n)
		call_site(&path[keep], files, nfiles, inner_call);
	for (unsigned k = 0; k < keep; k++) {
		out[k].name = scope_name(&path[keep - 1 - k]);
		call_site(&path[keep - 1 - k], files, nfiles, &out[k]);
	}
	return keep;
}

uint64_t inline_index_restarts(const struct inline_index *ix)
{
	return ix ? ix->restarts : 0;
}
