/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One census of a CPython heap, read from outside: the objects found (in the
 * collector's lists and through the references of the layouts leakbpf
 * knows), their types, and the references between them. Built by
 * census_walk.c, read by the unreachable computation, the holders and the
 * per-type totals.
 */
#ifndef PY_CENSUS_HEAP_H
#define PY_CENSUS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "python/census_addrmap.h"
#include "python/census_layout.h"
#include "python/census_read.h"
#include "python/layout.h"
#include "util/intern.h"

/* What leakbpf knows of a type's instances (of its solid base: a Python
 * class deriving from list is read as a list plus its own attributes). */
enum ckind {
	CK_OPAQUE = 0, /* a C type whose references are not enumerated */
	CK_TUPLE,
	CK_LIST,
	CK_DICT,
	CK_SET, /* set and frozenset */
	CK_DEQUE,
	CK_MODULE,
	CK_CELL,
	CK_TYPE,     /* type objects (instances of type or of a metatype) */
	CK_INSTANCE, /* instances of a Python class deriving from object */
	CK_STR,
	CK_LONG, /* int and bool */
	CK_BYTEARRAY,
};

struct ctype_slot {
	uint32_t offset;
	const char *name; /* interned, escaped */
};

struct ctype {
	uint64_t addr;
	uint64_t flags;
	int64_t basicsize, itemsize, dictoffset;
	int64_t solid_dictoffset; /* tp_dictoffset of its first base that is no Python class */
	uint64_t dealloc, traverse, base, cached_keys, qualname;
	uint8_t kind;		/* enum ckind of the solid base */
	bool heap;		/* Py_TPFLAGS_HEAPTYPE */
	bool gc;		/* Py_TPFLAGS_HAVE_GC */
	bool py_class;		/* created by a class statement: __dict__, __slots__ */
	bool own_dict;		/* a Python class whose __dict__ its solid base does not have */
	bool metatype;		/* a subclass of type */
	bool in_image;		/* the type object lies in the interpreter's image */
	uint32_t own0, nown;	/* its own object members (heap types) */
	uint32_t slot0, nslots; /* its own and its bases' slots (Python classes) */
	bool classified;
	/* Python classes with shared-key instance values (3.11+): the keys
	 * (one interned name per value index), read once per census */
	uint32_t skeys0, nskeys;
	uint32_t values_cap; /* values an instance may hold */
	bool skeys_read;
	const char *tp_name; /* C name (interned, escaped) */
	const char *name;    /* display name, set after the walk */
};

/* Edge roles (top bits of an edge). */
enum crole {
	CR_ITEM = 0,  /* an element, a dict value, an attribute, a slot */
	CR_KEY = 1,   /* a dict key the dict owns */
	CR_NAME = 2,  /* a shared key naming the next value (not owned) */
	CR_ATTRS = 3, /* __dict__, tp_dict, md_dict: owned, transparent in paths */
	CR_TYPE = 4,  /* ob_type of an instance of a heap type (owned) */
};
#define CE_SHIFT      29
#define CE_INDEX(e)   ((e) & ((1u << CE_SHIFT) - 1))
#define CE_ROLE(e)    ((e) >> CE_SHIFT)
#define CE_MAKE(r, i) ((uint32_t)(r) << CE_SHIFT | (i))
#define CE_MAX_INDEX  ((1u << CE_SHIFT) - 1)
/* Roles that are strong references the holder owns (what the collector's
 * tp_traverse visits). */
#define CE_OWNED(e) (CE_ROLE(e) != CR_NAME)

/* Object flags. */
enum {
	CO_GC = 1 << 0,	      /* found in one of the collector's lists */
	CO_READ = 1 << 1,     /* header read and type validated */
	CO_OPAQUE = 1 << 2,   /* references not (all) enumerated */
	CO_IMMORTAL = 1 << 3, /* 3.12+ immortal reference count */
	CO_TORN = 1 << 4,     /* contents changed while being read */
	CO_DONE = 1 << 5,     /* references enumerated */
	CO_SEED = 1 << 6,     /* a frame's local */
};

#define CT_NONE UINT32_MAX

struct cobj {
	uint64_t addr;
	int64_t refcnt;
	uint32_t type; /* index into census_heap.types, CT_NONE when unknown */
	uint32_t edge_lo, nedges;
	uint32_t items; /* len() of a container */
	uint32_t size;	/* bytes, as sys.getsizeof (saturated) */
	uint8_t flags;
	uint8_t gen; /* collector list: 0-2, 3 = permanent */
};

/* A frame's local: a root of the paths that name holders (modules are the
 * others). */
struct croot {
	uint32_t obj;
	const char *func; /* the frame's function (qualified name) */
	const char *var;  /* the local's name */
	uint64_t globals; /* the frame's globals: its module */
};

struct census_stats {
	uint64_t objects, gc_objects, seeds;
	uint64_t invalid;	 /* addresses that were no valid object */
	uint64_t torn;		 /* containers that changed while read (after retries) */
	uint64_t retries;	 /* re-reads of containers that changed */
	uint64_t list_restarts;	 /* collector lists walked again */
	uint64_t lists_cut;	 /* collector lists given up part way */
	uint64_t truncated;	 /* objects or edges not kept: limits reached */
	uint64_t items_cut;	 /* container items beyond the per-container bound */
	uint64_t opaque_gc;	 /* collector objects of types leakbpf cannot enumerate */
	uint64_t types;		 /* types read */
	uint64_t bad_types;	 /* type pointers that were no type */
	uint64_t gen_objects[4]; /* objects per collector list */
	uint64_t mem_bytes;	 /* tracer memory of this census */
	struct read_stats reads;
	uint64_t cache_hits, cache_misses;
};

struct census_gc_state {
	bool known;
	bool enabled, collecting;
	int thresholds[3], counts[3];
};

/* What a census needs to know of the interpreter, found once. */
struct census_target {
	pid_t pid;
	int minor;
	struct py_layout pl;	 /* threads, frames, code, str */
	struct census_layout cl; /* objects */
	uint64_t runtime;	 /* _PyRuntime */
	uint64_t image[8][2];	 /* the interpreter ELF's mappings */
	size_t nimage;
	uint64_t text[8][2]; /* its executable mappings */
	size_t ntext;
	uint64_t type_type, object_type, list_type, tuple_type, dict_type, set_type, frozenset_type,
	    module_type, cell_type, str_type, long_type, bool_type, bytearray_type, code_type,
	    set_dummy;
	uint64_t subtype_dealloc; /* from .symtab when present, else voted */
};

struct census_limits {
	size_t max_objects;
	size_t max_items; /* per container */
};

struct census_heap {
	struct census_target *t; /* subtype_dealloc is learnt by the first census */
	struct census_limits lim;
	struct cobj *objs;
	size_t nobjs, objs_cap;
	struct addrmap index; /* address -> object */
	uint32_t *edges;
	size_t nedges, edges_cap;
	struct ctype *types;
	size_t ntypes, types_cap;
	struct addrmap type_index;
	struct ctype_slot *slots;
	size_t nslots, slots_cap;
	struct croot *roots;
	size_t nroots, roots_cap;
	uint64_t *skeys; /* shared keys of the types (ctype.skeys0) */
	size_t nskeys, skeys_cap;
	struct census_gc_state gc;
	struct census_stats st;
	struct interner *names;	       /* interned display strings (owned by the caller) */
	bool classify;		       /* types are classified when read (subtype_dealloc known) */
	bool closed;		       /* no new objects: only references among those present */
	uint64_t module_key, name_key; /* interned "__module__" / "__name__" */
};

/* The type of object i, or NULL when unknown. */
static inline const struct ctype *cobj_type(const struct census_heap *h, size_t i)
{
	return h->objs[i].type == CT_NONE ? NULL : &h->types[h->objs[i].type];
}

int census_heap_init(struct census_heap *h, struct census_target *t, struct census_limits lim,
		     struct interner *names);
void census_heap_free(struct census_heap *h);

/* The object at addr, added (with flags) when new. CT_NONE when addr cannot
 * be an object, or when it is new and the heap is full or closed. */
uint32_t census_obj(struct census_heap *h, uint64_t addr, uint8_t flags);
/* Append an edge of the object being enumerated. 0, or -1 when full. */
int census_edge(struct census_heap *h, enum crole role, uint32_t obj);
/* census_obj + census_edge for a reference read from the target (NULL and
 * the set dummy are skipped; invalid addresses counted). */
void census_ref(struct census_heap *h, enum crole role, uint64_t addr);
/* A frame's local as a root for the holders' paths. */
int census_root(struct census_heap *h, const struct croot *r);
/* Whether addr lies in the interpreter's text. */
bool census_in_text(const struct census_target *t, uint64_t addr);

#endif
