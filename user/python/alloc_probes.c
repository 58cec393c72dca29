// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which CPython allocator entry points to probe, per build.
 *
 * Builds whose exported PyObject_Malloc is a trampoline through the
 * allocator table (pyenv, distro builds without LTO) send every object and
 * PyMem block through pymalloc's own functions: probe _PyObject_Malloc &
 * co (.symtab), or the exported PyObject_* / PyMem_* when stripped.
 * LTO+PGO builds (Debian's python3.11) inline pymalloc's fast path at
 * hundreds of sites; there only the type-slot entry points called through
 * pointers (tp_alloc, tp_free, the GC allocators) see whole object
 * families, and blocks above 512 bytes reach the core's malloc probes.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/function_probe.h"
#include "attach/probe_set.h"
#include "attach/skel.h"
#include "attach/x86.h"
#include "util/escape.h"
#include "python/alloc_probes.h"
#include "settings.h"
#include "target/elf_file.h"

enum pya_strategy {
	PYA_NONE,
	PYA_INTERNAL, /* _PyObject_Malloc & co */
	PYA_EXPORTED, /* PyObject_* and PyMem_* trampolines */
	PYA_SLOTS,    /* tp_alloc / tp_free / GC allocators */
};

struct pya_spec {
	const char *func;
	struct bpf_program *prog;
	bool ret;	/* allocation: also a return probe */
	unsigned nargs; /* argument registers that must be intact */
	unsigned kind;	/* enum lb_kind, for the cookie */
};

/* ---- which build is this ---- */

/* Whether PyObject_Malloc only forwards through the allocator table (an
 * indirect jmp within a small body), i.e. pymalloc is not inlined. */
static bool malloc_is_trampoline(struct elf_file *ef)
{
	uint64_t vaddr, size;
	uint8_t c[64];
	struct x86_insn in;
	if (elf_file_symbol(ef, "PyObject_Malloc", &vaddr, &size, NULL) || !size ||
	    size > sizeof(c) || elf_file_read(ef, vaddr, c, size))
		return false;
	for (uint64_t i = 0; i < size && x86_decode(c + i, size - i, &in); i += in.len)
		if (in.cls == X86_JMP_IND)
			return true;
	return false;
}

static bool has_all(struct elf_file *ef, const struct pya_spec *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (elf_file_symbol(ef, s[i].func, NULL, NULL, NULL))
			return false;
	return true;
}

/* The probe set for the requested mode: "objects" works on every build;
 * "all" needs pymalloc's own functions, which LTO builds inline. */
static enum pya_strategy pick(const struct py_alloc_target *t, bool all_available)
{
	if (!t->all)
		return PYA_SLOTS;
	if (!all_available)
		return PYA_NONE;
	uint64_t v;
	if (!elf_file_symbol(t->elf, "_PyObject_Malloc", &v, NULL, NULL))
		return PYA_INTERNAL;
	return PYA_EXPORTED;
}

/* What each strategy cannot see: shown in every report. */
static const char *note_of(enum pya_strategy s, bool all_available)
{
	switch (s) {
	case PYA_INTERNAL:
	case PYA_EXPORTED:
		return "every pymalloc block probed (--py-alloc all): all object and PyMem "
		       "allocations are seen; objects reused from freelists (tuple, list, dict, "
		       "float...) keep the stack of their first allocation";
	case PYA_SLOTS:
		if (all_available)
			return "objects made through tp_alloc, the GC allocators and the dict/list/"
			       "tuple constructors (instances, dicts, lists, tuples, sets, also "
			       "when "
			       "taken from CPython's free lists) and every block above 512 bytes "
			       "are "
			       "seen; small str/int/float/bytes objects and small list/dict "
			       "buffers "
			       "are not (--py-alloc all sees every pymalloc block, at several "
			       "times the "
			       "cost)";
		return "pymalloc is inlined in this build: objects made through tp_alloc, the GC "
		       "allocators and the dict/list/tuple constructors (instances, dicts, lists, "
		       "tuples, sets) and every block above 512 bytes are seen; small "
		       "str/int/float/bytes objects, small list/dict buffers and objects that "
		       "inlined constructors take back from CPython's free lists (dict displays) "
		       "are not";
	default:
		return "CPython object allocator not probed: only blocks above 512 bytes (malloc) "
		       "are seen";
	}
}

/* ---- attaching ---- */

static struct probe_module module_of(const struct py_alloc_target *t)
{
	return (struct probe_module){t->elf, t->path, t->module_label, t->pid};
}

static int attach_one(const struct py_alloc_target *t, struct probe_set *ps,
		      const struct pya_spec *s, struct bpf_program *ret_prog, unsigned src)
{
	struct probe_module m = module_of(t);
	struct probe_spec spec = {
	    .name = s->func,
	    .prog = s->prog,
	    .ret_prog = s->ret ? ret_prog : NULL,
	    .cookie = LB_COOKIE(src, s->kind),
	    .nargs = s->nargs,
	};
	return probe_function(ps, &m, &spec);
}

/* Types whose deallocator keeps freed objects on a free list, reusing them
 * later without any allocator call. Probing tp_dealloc sees the object die
 * either way; the constructors below see it taken back. */
enum freelist_type { FL_DICT, FL_LIST, FL_TUPLE, FL_TYPES };
static const char *const freelist_types[FL_TYPES] = {"PyDict_Type", "PyList_Type", "PyTuple_Type"};

/* Probe a type's tp_dealloc: 0, or -1 (noted missing). The slot is read
 * from the file: the linker leaves the function's link-time address there
 * (in a shared library or PIE as the addend of a relative relocation); a
 * slot that does not point at code in the file is reported missing. */
static int attach_dealloc(const struct py_alloc_target *t, struct probe_set *ps,
			  struct bpf_program *prog, const char *type_name)
{
	struct probe_module m = module_of(t);
	char label[64];
	uint64_t type, fn = 0;
	snprintf(label, sizeof(label), "%s.tp_dealloc", type_name);
	struct probe_spec spec = {
	    .name = label,
	    .prog = prog,
	    .cookie = LB_COOKIE(LB_SRC_PYOBJ, LB_K_FREE),
	    .nargs = 1,
	};
	if (elf_file_symbol(t->elf, type_name, &type, NULL, NULL) ||
	    elf_file_read(t->elf, type + LB_PY_TP_DEALLOC, &fn, sizeof(fn)) || !fn) {
		probe_set_note(ps, label, t->module_label, "missing");
		return -1;
	}
	return probe_function_at(ps, &m, &spec, fn, 0) ? -1 : 0;
}

static void attach_deallocs(const struct py_alloc_target *t, struct probe_set *ps,
			    struct bpf_program *prog)
{
	for (size_t i = 0; i < FL_TYPES; i++)
		attach_dealloc(t, ps, prog, freelist_types[i]);
}

/* A free-listed type's object layout, as its constructors' probes need it
 * (in the cookie); ok is false when it cannot be read. */
struct type_layout {
	bool ok;
	uint64_t basicsize, itemsize;
};

static struct type_layout read_layout(struct elf_file *ef, const char *type_name)
{
	uint64_t type;
	int64_t bs[2]; /* tp_basicsize, tp_itemsize */
	struct type_layout l = {0};
	if (elf_file_symbol(ef, type_name, &type, NULL, NULL) ||
	    elf_file_read(ef, type + LB_PY_TP_BASICSIZE, bs, sizeof(bs)) || bs[0] <= 0 ||
	    bs[0] > 0xffff || bs[1] < 0 || bs[1] > 0xffff)
		return l;
	return (struct type_layout){true, (uint64_t)bs[0], (uint64_t)bs[1]};
}

/* Constructors that can take a dict, list or tuple from its free list,
 * per version (whichever exist as functions in this build): tuple_alloc
 * (3.10+) sees every tuple; dicts and lists have several entry points. */
struct pya_new {
	const char *func;
	enum freelist_type type; /* whose layout the object has */
	unsigned n_arg;		 /* argument with the item count, 0: none */
};

static const struct pya_new freelist_news[] = {
    {"PyDict_New", FL_DICT, 0},
    {"_PyDict_NewPresized", FL_DICT, 0},
    {"_PyDict_FromItems", FL_DICT, 0},
    {"new_dict", FL_DICT, 0},
    {"new_dict_with_shared_keys", FL_DICT, 0},
    {"PyDict_Copy", FL_DICT, 0},
    {"PyList_New", FL_LIST, 0},
    {"_PyList_FromArraySteal", FL_LIST, 0},
    {"tuple_alloc", FL_TUPLE, 1},
    {"PyTuple_New", FL_TUPLE, 1},
    {"_PyTuple_FromArray", FL_TUPLE, 2},
    {"_PyTuple_FromArraySteal", FL_TUPLE, 2},
};

static void attach_freelist_news(const struct py_alloc_target *t, struct probe_set *ps,
				 struct bpf_program *prog, struct bpf_program *ret_prog)
{
	struct probe_module m = module_of(t);
	struct type_layout layouts[FL_TYPES];
	for (size_t i = 0; i < FL_TYPES; i++)
		layouts[i] = read_layout(t->elf, freelist_types[i]);
	for (size_t i = 0; i < sizeof(freelist_news) / sizeof(freelist_news[0]); i++) {
		const struct pya_new *nw = &freelist_news[i];
		const struct type_layout *l = &layouts[nw->type];
		if (elf_file_symbol(t->elf, nw->func, NULL, NULL, NULL))
			continue; /* not in this version, or inlined everywhere */
		if (!l->ok) {
			probe_set_note(ps, nw->func, t->module_label, "missing: type layout");
			continue;
		}
		struct probe_spec spec = {
		    .name = nw->func,
		    .prog = prog,
		    .ret_prog = ret_prog,
		    .cookie = LB_COOKIE(LB_SRC_PYOBJ, LB_K_MALLOC) | l->basicsize << 16 |
			      l->itemsize << 32 | (uint64_t)nw->n_arg << 48,
		    .nargs = nw->n_arg,
		};
		probe_function(ps, &m, &spec);
	}
}

/* Small objects that an inlined pymalloc hides (the growth mode's windows
 * only): made by these constructors, gone at their type's deallocator.
 * The size is the type's basic size plus its item size per item asked (a
 * str's is its basic size: near enough to weigh what fills a page). A
 * type whose deallocator cannot be probed is left out: its objects would
 * all look alive. */
struct small_new {
	const char *type, *func;
	unsigned n_arg; /* argument with the item count, 0: none */
};

static const struct small_new small_news[] = {
    {"PyUnicode_Type", "PyUnicode_New", 1},
    {"PyFloat_Type", "PyFloat_FromDouble", 0},
    {"PyLong_Type", "_PyLong_New", 1},
    {"PyBytes_Type", "PyBytes_FromStringAndSize", 2},
};

static void attach_small_objects(const struct py_alloc_target *t, struct probe_set *ps,
				 struct bpf_program *dealloc_prog, struct bpf_program *new_prog,
				 struct bpf_program *ret_prog)
{
	struct probe_module m = module_of(t);
	for (size_t i = 0; i < sizeof(small_news) / sizeof(small_news[0]); i++) {
		const struct small_new *sn = &small_news[i];
		struct type_layout l = read_layout(t->elf, sn->type);
		if (!l.ok || elf_file_symbol(t->elf, sn->func, NULL, NULL, NULL) ||
		    attach_dealloc(t, ps, dealloc_prog, sn->type))
			continue;
		struct probe_spec spec = {
		    .name = sn->func,
		    .prog = new_prog,
		    .ret_prog = ret_prog,
		    .cookie = LB_COOKIE(LB_SRC_PYOBJ, LB_K_MALLOC) | l.basicsize << 16 |
			      l.itemsize << 32 | (uint64_t)sn->n_arg << 48,
		    .nargs = sn->n_arg,
		};
		probe_function(ps, &m, &spec);
	}
}

uint64_t py_alloc_preheader_flags(const struct py_alloc_target *t)
{
	/* Py_TPFLAGS_MANAGED_DICT (3.11), | Py_TPFLAGS_MANAGED_WEAKREF (3.12+) */
	uint64_t flags = 0;
	if (t->major == 3 && t->minor == 11)
		flags = 1u << 4;
	else if (t->major == 3 && t->minor >= 12)
		flags = (1u << 4) | (1u << 3);
	return flags;
}

int py_alloc_attach(const struct py_alloc_target *t, struct leakbpf_bpf *skel, struct probe_set *ps,
		    const char **note, char *err, size_t errlen)
{
	__typeof__(skel->progs) *p = &skel->progs;
	/* Frees first in every list: an allocation probe without its free
	 * probe would report every block as leaked. */
	const struct pya_spec internal[] = {
	    {"_PyObject_Free", p->lb_pym_free, false, 2, LB_K_FREE},
	    {"_PyObject_Malloc", p->lb_pym_malloc, true, 2, LB_K_MALLOC},
	    {"_PyObject_Calloc", p->lb_pym_calloc, true, 3, LB_K_CALLOC},
	    {"_PyObject_Realloc", p->lb_pym_realloc, true, 3, LB_K_REALLOC},
	};
	const struct pya_spec exported[] = {
	    {"PyObject_Free", p->lb_free, false, 1, LB_K_FREE},
	    {"PyMem_Free", p->lb_free, false, 1, LB_K_FREE},
	    {"PyObject_Malloc", p->lb_malloc, true, 1, LB_K_MALLOC},
	    {"PyObject_Calloc", p->lb_calloc, true, 2, LB_K_CALLOC},
	    {"PyObject_Realloc", p->lb_realloc, true, 2, LB_K_REALLOC},
	    {"PyMem_Malloc", p->lb_malloc, true, 1, LB_K_MALLOC},
	    {"PyMem_Calloc", p->lb_calloc, true, 2, LB_K_CALLOC},
	    {"PyMem_Realloc", p->lb_realloc, true, 2, LB_K_REALLOC},
	};
	const struct pya_spec slots[] = {
	    {"PyObject_GC_Del", p->lb_pyo_gc_del, false, 1, LB_K_FREE},
	    {"PyType_GenericAlloc", p->lb_pyo_generic_alloc, true, 2, LB_K_MALLOC},
	    {"_PyObject_GC_New", p->lb_pyo_gc_new, true, 1, LB_K_MALLOC},
	    {"_PyObject_GC_NewVar", p->lb_pyo_gc_newvar, true, 2, LB_K_MALLOC},
	    {"_PyObject_GC_Resize", p->lb_pyo_gc_resize, true, 2, LB_K_REALLOC},
	};
	/* pymalloc's own functions are only worth probing where not inlined */
	bool all_available = malloc_is_trampoline(t->elf);
	enum pya_strategy st = pick(t, all_available);
	const struct pya_spec *specs = NULL;
	size_t n = 0;
	unsigned src = LB_SRC_PYMALLOC;
	if (st == PYA_INTERNAL) {
		specs = internal;
		n = sizeof(internal) / sizeof(internal[0]);
	} else if (st == PYA_EXPORTED) {
		specs = exported;
		n = sizeof(exported) / sizeof(exported[0]);
	} else if (st == PYA_SLOTS) {
		specs = slots;
		n = sizeof(slots) / sizeof(slots[0]);
		src = LB_SRC_PYOBJ;
	}
	if (t->all && st == PYA_NONE) {
		*note = note_of(PYA_NONE, false);
		char label[PATH_MAX];
		snprintf(err, errlen,
			 "--py-alloc all: pymalloc is inlined in this build of CPython %d.%d (%s); "
			 "use --py-alloc objects",
			 t->major, t->minor,
			 escape_str(t->module_label, NULL, label, sizeof(label)));
		return -2;
	}
	if (specs && !has_all(t->elf, specs, n))
		st = PYA_NONE;
	*note = note_of(st, all_available);
	if (st == PYA_NONE)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (attach_one(t, ps, &specs[i], p->lb_ret, src) && !specs[i].ret) {
			/* no free probe: allocations could never be matched */
			*note = note_of(PYA_NONE, false);
			return -1;
		}
	}
	if (st == PYA_SLOTS) {
		attach_deallocs(t, ps, p->lb_pyo_gc_del);
		attach_freelist_news(t, ps, p->lb_pyo_sized_new, p->lb_ret);
		if (t->small_objects)
			attach_small_objects(t, ps, p->lb_pyo_gc_del, p->lb_pyo_sized_new,
					     p->lb_ret);
	}
	return 0;
}
