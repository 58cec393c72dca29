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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target/elf_file.h"
#include "attach/probe_set.h"
#include "python/alloc_probes.h"
#include "python/bpf_cfg.h"
#include "attach/skel.h"

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

/* ---- probe offsets ---- */

/* x86-64 register numbers of the argument registers and of %rsp. */
static const int arg_regs[] = {7 /* rdi */, 6 /* rsi */, 2 /* rdx */, 1 /* rcx */};
#define REG_RSP 4

static bool op_in(uint8_t op, const char *set)
{
	return memchr(set, op, strlen(set)) != NULL;
}

static unsigned modrm_len(const uint8_t *c, size_t len, unsigned i)
{
	if (i >= len)
		return 0;
	unsigned mod = c[i] >> 6, rm = c[i] & 7, n = 1;
	if (mod == 3)
		return n;
	if (rm == 4) {
		if (i + 1 >= len)
			return 0;
		n++;
		if (mod == 0 && (c[i + 1] & 7) == 5)
			return n + 4;
	}
	if (mod == 0 && rm == 5)
		return n + 4;
	return n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/*
 * Length of one straight-line instruction that writes at most one general
 * register and no memory, and that register (-1: none); 0 when the
 * instruction is not one of the few forms compilers put before a function's
 * first push (mov, lea, movabs, ALU ops, shifts, cmp, test).
 */
static unsigned insn_decode(const uint8_t *c, size_t len, int *dst)
{
	unsigned i = 0, rex = 0;
	if (i < len && c[i] == 0x66)
		i++;
	if (i < len && (c[i] & 0xf0) == 0x40)
		rex = c[i++];
	if (i >= len)
		return 0;
	uint8_t op = c[i++];
	int reg = i < len ? (((c[i] >> 3) & 7) | ((rex & 4) << 1)) : 0;
	int rm = i < len ? ((c[i] & 7) | ((rex & 1) << 3)) : 0;
	bool rm_is_reg = i < len && (c[i] >> 6) == 3;
	unsigned m, imm = 0;
	*dst = -1;
	if (op_in(op, "\x01\x09\x21\x29\x31\x89")) { /* op r/m, r */
		if (!rm_is_reg)
			return 0; /* a store */
		*dst = rm;
	} else if (op_in(op, "\x03\x0b\x23\x2b\x33\x8b\x8d\x63")) { /* op r, r/m */
		*dst = reg;
	} else if (op_in(op, "\x81\x83\xc1\xd1")) { /* ALU / shift r/m, imm */
		imm = op == 0x81 ? 4 : op == 0xd1 ? 0 : 1;
		bool cmp = op != 0xc1 && op != 0xd1 && (reg & 7) == 7;
		if (!cmp && !rm_is_reg)
			return 0;
		if (!cmp)
			*dst = rm;
	} else if (op >= 0xb8 && op <= 0xbf) { /* mov $imm, r (movabs with REX.W) */
		*dst = (op & 7) | ((rex & 1) << 3);
		imm = (rex & 8) ? 8 : 4;
		return i + imm <= len ? i + imm : 0;
	} else if (op == 0x3d || op == 0xa9) { /* cmp/test $imm32, %eax */
		return i + 4 <= len ? i + 4 : 0;
	} else if (!op_in(op, "\x39\x3b\x85\x84")) { /* cmp, test */
		return 0;
	}
	m = modrm_len(c, len, i);
	if (!m || i + m + imm > len)
		return 0;
	return i + m + imm;
}

/*
 * Where a probe on this function costs least: the first instruction the
 * kernel emulates (push, nop, endbr64, jcc, jmp/call rel) reached by
 * straight-line code that leaves %rsp and the first `nargs` argument
 * registers alone. There the arguments are intact and *%rsp is still the
 * return address, so both the entry and the return probe can sit there.
 * Returns 0 (the entry, single-stepped) when no such point is found.
 */
static unsigned pya_probe_offset(const uint8_t *c, size_t len, unsigned nargs, bool *emulated)
{
	unsigned off = 0;
	for (int n = 0; n < 16 && off < len; n++) {
		if (probe_insn_emulated(c + off, len - off)) {
			*emulated = true;
			return off;
		}
		int dst;
		unsigned l = insn_decode(c + off, len - off, &dst);
		if (!l || dst == REG_RSP)
			break;
		for (unsigned a = 0; a < nargs && a < 4; a++)
			if (dst == arg_regs[a])
				l = 0;
		if (!l)
			break;
		off += l;
	}
	*emulated = probe_insn_emulated(c, len);
	return 0;
}

/* ---- which build is this ---- */

/* Whether PyObject_Malloc only forwards through the allocator table (an
 * indirect jmp within a small body), i.e. pymalloc is not inlined. */
static bool malloc_is_trampoline(struct elf_file *ef)
{
	uint64_t vaddr, size;
	uint8_t c[64];
	if (elf_file_symbol(ef, "PyObject_Malloc", &vaddr, &size, NULL) || !size ||
	    size > sizeof(c) || elf_file_read(ef, vaddr, c, size))
		return false;
	for (uint64_t i = 0; i + 1 < size; i++)
		if (c[i] == 0xff && ((c[i + 1] >> 3) & 7) == 4) /* jmp *r/m */
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

/* A probe (and with ret_prog its return probe) at the cheapest point of
 * the function at vaddr (file offset off; size 0 when unknown) that keeps
 * the first nargs argument registers intact; the outcome is noted under
 * label. */
static int attach_at(const struct py_alloc_target *t, struct probe_set *ps, const char *label,
		     uint64_t vaddr, uint64_t size, uint64_t off, unsigned nargs,
		     struct bpf_program *prog, struct bpf_program *ret_prog, uint64_t cookie)
{
	uint8_t code[64] = {0};
	size_t n = size && size < sizeof(code) ? size : sizeof(code);
	bool emulated = false;
	unsigned skip = 0;
	char status[96];
	if (!elf_file_read(t->elf, vaddr, code, n))
		skip = pya_probe_offset(code, n, nargs, &emulated);
	int err = probe_attach_offset(ps, t->path, off + skip, prog, false, t->pid, cookie);
	if (!err && ret_prog)
		err = probe_attach_offset(ps, t->path, off + skip, ret_prog, true, t->pid, cookie);
	if (err)
		snprintf(status, sizeof(status), "failed: %s", strerror(-err));
	else if (skip)
		snprintf(status, sizeof(status), "ok (at +%u)", skip);
	else
		snprintf(status, sizeof(status), "ok%s", emulated ? "" : " (single-stepped)");
	probe_set_note(ps, label, t->module_label, status);
	return err;
}

static int attach_one(const struct py_alloc_target *t, struct probe_set *ps,
		      const struct pya_spec *s, struct bpf_program *ret_prog, unsigned src)
{
	uint64_t vaddr, size, off;
	if (elf_file_symbol(t->elf, s->func, &vaddr, &size, &off)) {
		probe_set_note(ps, s->func, t->module_label, "missing");
		return -ENOENT;
	}
	return attach_at(t, ps, s->func, vaddr, size, off, s->nargs, s->prog,
			 s->ret ? ret_prog : NULL, LB_COOKIE(src, s->kind));
}

/* Types whose deallocator keeps freed objects on a free list, reusing them
 * later without any allocator call. Probing tp_dealloc sees the object die
 * either way; the constructors below see it taken back. */
static const char *const freelist_types[] = {"PyDict_Type", "PyList_Type", "PyTuple_Type"};

static void attach_deallocs(const struct py_alloc_target *t, struct probe_set *ps,
			    struct bpf_program *prog)
{
	/* The slot is read from the file: the linker leaves the function's
	 * link-time address there (in a shared library or PIE as the addend of
	 * a relative relocation); a slot that does not point at code in the
	 * file is reported missing. */
	for (size_t i = 0; i < sizeof(freelist_types) / sizeof(freelist_types[0]); i++) {
		const char *name = freelist_types[i];
		char label[64];
		uint64_t type, fn, off;
		snprintf(label, sizeof(label), "%s.tp_dealloc", name);
		if (elf_file_symbol(t->elf, name, &type, NULL, NULL) ||
		    elf_file_read(t->elf, type + LB_PY_TP_DEALLOC, &fn, sizeof(fn)) ||
		    elf_file_code_offset(t->elf, fn, &off)) {
			probe_set_note(ps, label, t->module_label, "missing");
			continue;
		}
		attach_at(t, ps, label, fn, 0, off, 1, prog, NULL,
			  LB_COOKIE(LB_SRC_PYOBJ, LB_K_FREE));
	}
}

/* Constructors that can take a dict, list or tuple from its free list,
 * per version (whichever exist as functions in this build): tuple_alloc
 * (3.10+) sees every tuple; dicts and lists have several entry points. */
struct pya_new {
	const char *func;
	const char *type; /* whose layout the object has */
	unsigned n_arg;	  /* argument with the item count, 0: none */
};

static const struct pya_new freelist_news[] = {
    {"PyDict_New", "PyDict_Type", 0},
    {"_PyDict_NewPresized", "PyDict_Type", 0},
    {"_PyDict_FromItems", "PyDict_Type", 0},
    {"new_dict", "PyDict_Type", 0},
    {"new_dict_with_shared_keys", "PyDict_Type", 0},
    {"PyDict_Copy", "PyDict_Type", 0},
    {"PyList_New", "PyList_Type", 0},
    {"_PyList_FromArraySteal", "PyList_Type", 0},
    {"tuple_alloc", "PyTuple_Type", 1},
    {"PyTuple_New", "PyTuple_Type", 1},
    {"_PyTuple_FromArray", "PyTuple_Type", 2},
    {"_PyTuple_FromArraySteal", "PyTuple_Type", 2},
};

static void attach_freelist_news(const struct py_alloc_target *t, struct probe_set *ps,
				 struct bpf_program *prog, struct bpf_program *ret_prog)
{
	for (size_t i = 0; i < sizeof(freelist_news) / sizeof(freelist_news[0]); i++) {
		const struct pya_new *nw = &freelist_news[i];
		uint64_t type, vaddr, size, off;
		int64_t bs[2];
		if (elf_file_symbol(t->elf, nw->func, &vaddr, &size, &off))
			continue; /* not in this version, or inlined everywhere */
		if (elf_file_symbol(t->elf, nw->type, &type, NULL, NULL) ||
		    elf_file_read(t->elf, type + LB_PY_TP_BASICSIZE, bs, sizeof(bs)) ||
		    bs[0] <= 0 || bs[0] > 0xffff || bs[1] < 0 || bs[1] > 0xffff) {
			probe_set_note(ps, nw->func, t->module_label, "missing: type layout");
			continue;
		}
		uint64_t cookie = LB_COOKIE(LB_SRC_PYOBJ, LB_K_MALLOC) | (uint64_t)bs[0] << 16 |
				  (uint64_t)bs[1] << 32 | (uint64_t)nw->n_arg << 48;
		attach_at(t, ps, nw->func, vaddr, size, off, nw->n_arg, prog, ret_prog, cookie);
	}
}

int py_alloc_before_load(const struct py_alloc_target *t, struct leakbpf_bpf *skel)
{
	/* Py_TPFLAGS_MANAGED_DICT (3.11), | Py_TPFLAGS_MANAGED_WEAKREF (3.12+) */
	uint64_t flags = 0;
	if (t->major == 3 && t->minor == 11)
		flags = 1u << 4;
	else if (t->major == 3 && t->minor >= 12)
		flags = (1u << 4) | (1u << 3);
	skel->rodata->lb_pya_preheader_flags = flags;
	return 0;
}

int py_alloc_attach(const struct py_alloc_target *t, struct leakbpf_bpf *skel, struct probe_set *ps,
		    const char **note)
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
		fprintf(stderr,
			"leakbpf: --py-alloc all: pymalloc is inlined in this build of CPython "
			"%d.%d (%s); use --py-alloc objects\n",
			t->major, t->minor, t->module_label);
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
	}
	return 0;
}
