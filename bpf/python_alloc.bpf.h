/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython object allocator helpers: the block an object lives in, read
 * from its type.
 *
 * Every path names a block by the pointer pymalloc handed out (the start
 * of the block), never by the object pointer: type-slot entry points that
 * take or return an object subtract the pre-header (GC head, managed
 * dict/weakref words) read from the object's type, so a block recorded by
 * one entry point is matched by a free seen at any other.
 *
 * Pure functions of their parameters and of target memory, except
 * pya_presize(), which reads lb_pya_preheader_flags from the declarations
 * block of leakbpf.bpf.c (.rodata: the verifier knows it as a constant).
 */
#ifndef PYTHON_ALLOC_BPF_H
#define PYTHON_ALLOC_BPF_H

#ifndef LB_DECLARATIONS
#error "include python_alloc.bpf.h after the declarations block of leakbpf.bpf.c"
#endif

/* Object layout, the same on x86_64 release builds 3.8-3.13 (PyTypeObject
 * offsets: LB_PY_TP_* in settings.h). */
#define PYA_OB_TYPE	    8
#define PYA_TPFLAGS_HAVE_GC (1ULL << 14)
#define PYA_GC_HEAD	    16 /* sizeof(PyGC_Head) */

struct pya_type {
	__s64 basicsize, itemsize;
	__u64 flags;
};

static __always_inline int pya_read_type(__u64 type, struct pya_type *t)
{
	if (bpf_probe_read_user(&t->basicsize, 16, (void *)(type + LB_PY_TP_BASICSIZE)))
		return -1;
	return bpf_probe_read_user(&t->flags, 8, (void *)(type + LB_PY_TP_FLAGS));
}

/* Bytes in front of the object: _PyType_PreHeaderSize(). */
static __always_inline __u64 pya_presize(__u64 flags)
{
	__u64 n = (flags & PYA_TPFLAGS_HAVE_GC) ? PYA_GC_HEAD : 0;
	if (flags & lb_pya_preheader_flags)
		n += 16;
	return n;
}

/* _PyObject_VAR_SIZE: basicsize + n * itemsize rounded up to 8. */
static __always_inline __u64 pya_var_size(const struct pya_type *t, __s64 n)
{
	return ((__u64)(t->basicsize + n * t->itemsize) + 7) & ~7ULL;
}

/* An object-returning allocator of `type` with n items: the block holds
 * the pre-header (*pre) and the object, *size bytes in all. Only GC types
 * are traced (returns false otherwise): their blocks are always freed by
 * PyObject_GC_Del, while a non-GC object's PyObject_Free may be inlined
 * (and probing the exported one costs a hit per str/int free). Untouched,
 * a big non-GC object is still seen by the malloc probes. */
static __always_inline bool pya_obj_block(__u64 type, __s64 n, __u64 *size, __u64 *pre)
{
	struct pya_type t;
	/* An unreadable type (never seen) would only give a guessed key. */
	if (pya_read_type(type, &t) || !(t.flags & PYA_TPFLAGS_HAVE_GC))
		return false;
	*pre = pya_presize(t.flags);
	*size = pya_var_size(&t, n) + *pre;
	return true;
}

/* _PyObject_GC_Resize(op, nitems): size of the new block (0 when op's type
 * is unreadable). Var objects never carry the managed dict/weakref words,
 * so the block starts at op - sizeof(PyGC_Head). */
static __always_inline __u64 pya_resize_size(__u64 op, __s64 nitems)
{
	struct pya_type t = {};
	__u64 type = 0;
	if (op && !bpf_probe_read_user(&type, 8, (void *)(op + PYA_OB_TYPE)) &&
	    !pya_read_type(type, &t))
		return pya_var_size(&t, nitems) + PYA_GC_HEAD;
	return 0;
}

/* Constructors of the free-listed types (dict, list, tuple), which take an
 * object back from their free list without any allocator call: the
 * cookie carries the object's layout (userspace reads it from the type),
 * so the block is keyed as the GC allocators key it. Cookie bits: 16-31
 * tp_basicsize, 32-47 tp_itemsize, 48-51 which argument holds the item
 * count (0: none). Returns the block size, 0 when nothing is allocated. */
static __always_inline __u64 pya_sized_new_size(__u64 cookie, __s64 a1, __s64 a2)
{
	struct pya_type t = {.basicsize = (cookie >> 16) & 0xffff,
			     .itemsize = (cookie >> 32) & 0xffff};
	__u32 narg = (cookie >> 48) & 0xf;
	__s64 n = narg == 1 ? a1 : narg == 2 ? a2 : 0;
	/* an empty tuple is a shared singleton: nothing is allocated */
	if (narg && n <= 0)
		return 0;
	if (n > (1LL << 32))
		return 0;
	return pya_var_size(&t, n) + PYA_GC_HEAD;
}

/* PyObject_GC_Del(op): the block is op minus its pre-header. */
static __always_inline __u64 pya_gc_block(__u64 op)
{
	__u64 type = 0, flags = 0;
	if (!op || bpf_probe_read_user(&type, 8, (void *)(op + PYA_OB_TYPE)) ||
	    bpf_probe_read_user(&flags, 8, (void *)(type + LB_PY_TP_FLAGS)))
		return op - PYA_GC_HEAD;
	return op - pya_presize(flags | PYA_TPFLAGS_HAVE_GC);
}

#endif /* PYTHON_ALLOC_BPF_H */
