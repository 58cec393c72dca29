/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython object allocator probes (included at the end of leakbpf.bpf.c,
 * so on_entry_adj/on_return/on_free are available).
 *
 * Every path names a block by the pointer pymalloc handed out (the start
 * of the block), never by the object pointer: type-slot entry points that
 * take or return an object subtract the pre-header (GC head, managed
 * dict/weakref words) read from the object's type, so a block recorded by
 * one entry point is matched by a free seen at any other.
 *
 * Two sets (userspace picks one per build, see user/py_alloc.c):
 *  - pymalloc internals (_PyObject_Malloc & co, args after a ctx pointer):
 *    builds where the fast path is not inlined into callers;
 *  - type-slot entry points (tp_alloc / tp_free and the GC allocators),
 *    called through pointers, for LTO builds that inline pymalloc.
 */
#ifndef PYTHON_ALLOC_BPF_H
#define PYTHON_ALLOC_BPF_H

/* Object layout, the same on x86_64 release builds 3.8-3.13 (PyTypeObject
 * offsets: LB_PY_TP_* in python.bpf.h). */
#define PYA_OB_TYPE	    8
#define PYA_TPFLAGS_HAVE_GC (1ULL << 14)
#define PYA_GC_HEAD	    16 /* sizeof(PyGC_Head) */

/* Type flags that put two more words before the GC head (3.11: managed
 * dict; 3.12+: managed dict or weakref); 0 before 3.11. */
const volatile __u64 lb_pya_preheader_flags = 0;

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
 * the pre-header and the object; its key is the object minus pre-header.
 * Only GC types: their blocks are always freed by PyObject_GC_Del, while a
 * non-GC object's PyObject_Free may be inlined (and probing the exported
 * one costs a hit per str/int free). Untouched, a big non-GC object is
 * still seen by the malloc probes. */
static __always_inline int pya_obj_entry(struct pt_regs *ctx, __u64 type, __s64 n)
{
	struct pya_type t;
	/* An unreadable type (never seen) would only give a guessed key. */
	if (pya_read_type(type, &t) || !(t.flags & PYA_TPFLAGS_HAVE_GC))
		return 0;
	__u64 pre = pya_presize(t.flags);
	return on_entry_adj(ctx, LB_K_MALLOC, pya_var_size(&t, n) + pre, 0, pre);
}

/* ---- pymalloc internals: (void *ctx, ...) ---- */

SEC("uprobe")
int BPF_KPROBE(lb_pym_malloc, void *actx, __u64 size)
{
	return on_entry(ctx, LB_K_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_calloc, void *actx, __u64 n, __u64 size)
{
	return on_entry(ctx, LB_K_CALLOC, n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_realloc, void *actx, __u64 ptr, __u64 size)
{
	return on_entry(ctx, LB_K_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_free, void *actx, __u64 ptr)
{
	return on_free(ctx, ptr);
}

/* ---- type-slot entry points (object pointers) ---- */

/* PyType_GenericAlloc(type, nitems): one spare item (sentinel). */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_generic_alloc, __u64 type, __s64 nitems)
{
	return pya_obj_entry(ctx, type, nitems + 1);
}

/* _PyObject_GC_New(type) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_new, __u64 type)
{
	return pya_obj_entry(ctx, type, 0);
}

/* _PyObject_GC_NewVar(type, nitems) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_newvar, __u64 type, __s64 nitems)
{
	return pya_obj_entry(ctx, type, nitems);
}

/* _PyObject_GC_Resize(op, nitems): var objects never carry the managed
 * dict/weakref words, so the block starts at op - sizeof(PyGC_Head). */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_resize, __u64 op, __s64 nitems)
{
	struct pya_type t = {};
	__u64 type = 0;
	__u64 size = 0;
	if (op && !bpf_probe_read_user(&type, 8, (void *)(op + PYA_OB_TYPE)) &&
	    !pya_read_type(type, &t))
		size = pya_var_size(&t, nitems) + PYA_GC_HEAD;
	return on_entry_adj(ctx, LB_K_REALLOC, size, op ? op - PYA_GC_HEAD : 0, PYA_GC_HEAD);
}

/* Constructors of the free-listed types (dict, list, tuple), which take an
 * object back from their free list without any allocator call: the
 * cookie carries the object's layout (userspace reads it from the type),
 * so the block is keyed as the GC allocators key it; when the free list is
 * empty the GC allocator underneath is a nested call and is not counted
 * twice. Cookie bits: 16-31 tp_basicsize, 32-47 tp_itemsize, 48-51 which
 * argument holds the item count (0: none). */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_sized_new, __s64 a1, __s64 a2)
{
	__u64 c = bpf_get_attach_cookie(ctx);
	struct pya_type t = {.basicsize = (c >> 16) & 0xffff, .itemsize = (c >> 32) & 0xffff};
	__u32 narg = (c >> 48) & 0xf;
	__s64 n = narg == 1 ? a1 : narg == 2 ? a2 : 0;
	/* an empty tuple is a shared singleton: nothing is allocated */
	if (narg && n <= 0)
		return 0;
	if (n > (1LL << 32))
		return 0;
	return on_entry_adj(ctx, LB_K_MALLOC, pya_var_size(&t, n) + PYA_GC_HEAD, 0, PYA_GC_HEAD);
}

/* PyObject_GC_Del(op): frees op minus its pre-header. */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_del, __u64 op)
{
	struct pya_type t;
	__u64 type = 0;
	if (!op || bpf_probe_read_user(&type, 8, (void *)(op + PYA_OB_TYPE)) ||
	    bpf_probe_read_user(&t.flags, 8, (void *)(type + LB_PY_TP_FLAGS)))
		return on_free(ctx, op - PYA_GC_HEAD);
	return on_free(ctx, op - pya_presize(t.flags | PYA_TPFLAGS_HAVE_GC));
}

#endif
