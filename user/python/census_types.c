// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading, validating, classifying and naming type objects. A type read
 * from the target is trusted only as far as its checks go: a forged type
 * can at worst make its instances be read with the wrong layout, which
 * every reader bounds and validates in turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/census_names.h"
#include "python/census_types.h"
#include "util/array.h"

#define CT_BAD	       (UINT32_MAX - 1) /* cached: not a type */
#define TYPE_READ      1024		/* covers PyHeapTypeObject in 3.8-3.13 */
#define MAX_MEMBERS    256
#define MAX_SLOTS      4096
#define MAX_BASES      64
#define MAX_META_DEPTH 4

static bool in_image(const struct census_target *t, uint64_t addr)
{
	for (size_t i = 0; i < t->nimage; i++)
		if (addr >= t->image[i][0] && addr < t->image[i][1])
			return true;
	return false;
}

/* The object members of a heap type: they follow the PyHeapTypeObject,
 * at the metatype's basic size. */
static void read_members(struct census_heap *h, struct ctype *ct, int64_t nmembers,
			 int64_t meta_basicsize)
{
	const struct census_layout *cl = &h->t->cl;
	if (nmembers <= 0 || nmembers > MAX_MEMBERS || meta_basicsize < cl->heaptype_size ||
	    meta_basicsize > TYPE_READ * 4)
		return;
	uint8_t buf[MAX_MEMBERS * 40];
	size_t len = (size_t)nmembers * cl->member_size;
	if (len > sizeof(buf) ||
	    read_one(h->t->pid, ct->addr + (uint64_t)meta_basicsize, buf, len, &h->st.reads))
		return;
	ct->own0 = (uint32_t)h->nslots;
	for (int64_t i = 0; i < nmembers; i++) {
		const uint8_t *m = buf + i * cl->member_size;
		int32_t type;
		int64_t off;
		memcpy(&type, m + cl->member_type, sizeof(type));
		memcpy(&off, m + cl->member_offset, sizeof(off));
		if ((type != CL_T_OBJECT && type != CL_T_OBJECT_EX) || off < 16 ||
		    off + 8 > ct->basicsize || (off & 7))
			continue;
		if (h->nslots >= MAX_SLOTS * 16 ||
		    ARRAY_RESERVE(h->slots, h->slots_cap, h->nslots + 1))
			break;
		const char *name = census_cstr(h, read_u64(m, cl->member_name), 64);
		h->slots[h->nslots++] =
		    (struct ctype_slot){.offset = (uint32_t)off, .name = name ? name : "?"};
	}
	ct->nown = (uint32_t)h->nslots - ct->own0;
}

static void classify(struct census_heap *h, uint32_t i, int depth);

static uint32_t load(struct census_heap *h, uint64_t addr, int depth)
{
	const struct census_target *t = h->t;
	const struct census_layout *cl = &t->cl;
	uint8_t buf[TYPE_READ];
	bool whole = true;

	if (depth > MAX_META_DEPTH || addr < 4096 || addr >= (1ULL << 47) || (addr & 7))
		return CT_NONE;
	if (h->ntypes >= CENSUS_MAX_TYPES || h->type_index.table.used >= 4 * CENSUS_MAX_TYPES)
		return CT_NONE;
	memset(buf, 0, sizeof(buf));
	if (read_one(t->pid, addr, buf, sizeof(buf), &h->st.reads)) {
		/* a static type near the end of its mapping */
		whole = false;
		if (read_one(t->pid, addr, buf, cl->tp_dictoffset + 8u, &h->st.reads))
			goto bad;
	}
	uint64_t meta = read_u64(buf, 8);
	uint64_t flags = read_u64(buf, cl->tp_flags);
	int64_t basicsize = (int64_t)read_u64(buf, cl->tp_basicsize);
	int64_t itemsize = (int64_t)read_u64(buf, cl->tp_itemsize);
	int64_t meta_basicsize = cl->heaptype_size;
	if (addr != t->type_type && meta != t->type_type) {
		uint32_t m = addrmap_get(&h->type_index, meta);
		if (m == ADDRMAP_NONE)
			m = load(h, meta, depth + 1);
		if (m >= CT_BAD || !h->types[m].metatype)
			goto bad;
		meta_basicsize = h->types[m].basicsize;
	}
	if (!(flags & CL_TPFLAGS_READY) || basicsize < 16 || basicsize > (1 << 20) ||
	    itemsize < 0 || itemsize > (1 << 16) || ((flags & CL_TPFLAGS_HEAPTYPE) && !whole))
		goto bad;
	if (ARRAY_RESERVE(h->types, h->types_cap, h->ntypes + 1))
		return CT_NONE;
	uint32_t idx = (uint32_t)h->ntypes;
	struct ctype *ct = &h->types[idx];
	memset(ct, 0, sizeof(*ct));
	ct->addr = addr;
	ct->flags = flags;
	ct->basicsize = basicsize;
	ct->itemsize = itemsize;
	ct->dictoffset = (int64_t)read_u64(buf, cl->tp_dictoffset);
	ct->dealloc = read_u64(buf, cl->tp_dealloc);
	ct->traverse = read_u64(buf, cl->tp_traverse);
	ct->base = read_u64(buf, cl->tp_base);
	ct->heap = flags & CL_TPFLAGS_HEAPTYPE;
	ct->gc = flags & CL_TPFLAGS_HAVE_GC;
	ct->metatype = flags & CL_TPFLAGS_TYPE_SUBCLASS;
	ct->in_image = in_image(t, addr);
	if (ct->heap) {
		ct->cached_keys = read_u64(buf, cl->ht_cached_keys);
		ct->qualname = read_u64(buf, cl->ht_qualname);
	}
	const char *tp_name = census_cstr(h, read_u64(buf, cl->tp_name), 96);
	h->ntypes++;
	ct->tp_name = tp_name ? tp_name : "?";
	if (ct->heap)
		read_members(h, ct, (int64_t)read_u64(buf, 16), meta_basicsize);
	if (addrmap_put(&h->type_index, addr, idx))
		return CT_NONE;
	h->st.types++;
	if (h->classify)
		classify(h, idx, 0);
	return idx;
bad:
	h->st.bad_types++;
	addrmap_put(&h->type_index, addr, CT_BAD);
	return CT_NONE;
}

uint32_t ctype_get(struct census_heap *h, uint64_t addr)
{
	uint32_t i = addrmap_get(&h->type_index, addr);
	if (i == CT_BAD)
		return CT_NONE;
	if (i != ADDRMAP_NONE)
		return i;
	return load(h, addr, 0);
}

static bool is_deque(const struct census_heap *h, const struct ctype *ct)
{
	/* static up to 3.11, a heap type of _collections from 3.12 on: either
	 * way its code is the interpreter's own */
	return !strcmp(ct->tp_name, "collections.deque") && census_in_text(h->t, ct->dealloc) &&
	       (ct->in_image || ct->heap) && ct->basicsize >= CL_DEQUE_STATE + 8;
}

static uint8_t builtin_kind(const struct census_target *t, uint64_t a)
{
	if (a == t->list_type)
		return CK_LIST;
	if (a == t->tuple_type)
		return CK_TUPLE;
	if (a == t->dict_type)
		return CK_DICT;
	if (a == t->set_type || a == t->frozenset_type)
		return CK_SET;
	if (a == t->module_type)
		return CK_MODULE;
	if (a == t->cell_type)
		return CK_CELL;
	if (a == t->type_type)
		return CK_TYPE;
	if (a == t->object_type)
		return CK_INSTANCE;
	if (a == t->str_type)
		return CK_STR;
	if (a == t->long_type || a == t->bool_type)
		return CK_LONG;
	if (a == t->bytearray_type)
		return CK_BYTEARRAY;
	return CK_OPAQUE;
}

static void classify(struct census_heap *h, uint32_t i, int depth)
{
	struct ctype *ct = &h->types[i];
	if (ct->classified)
		return;
	ct->classified = true;
	uint8_t kind = builtin_kind(h->t, ct->addr);
	ct->py_class = ct->heap && h->t->subtype_dealloc && ct->dealloc == h->t->subtype_dealloc;
	if (kind != CK_OPAQUE) {
		ct->kind = kind;
		return;
	}
	if (is_deque(h, ct)) {
		ct->kind = CK_DEQUE;
		return;
	}
	if (ct->metatype) {
		ct->kind = CK_TYPE;
		return;
	}
	if (!ct->py_class || depth > MAX_BASES) {
		ct->kind = CK_OPAQUE;
		return;
	}
	uint32_t b = ctype_get(h, ct->base);
	if (b == CT_NONE) {
		h->types[i].kind = CK_OPAQUE;
		return;
	}
	classify(h, b, depth + 1);
	ct = &h->types[i]; /* ctype_get may have grown the array */
	const struct ctype *base = &h->types[b];
	ct->kind = base->kind;
	/* the solid base's dict offset: the first base that is no Python class */
	int64_t solid = base->py_class ? base->solid_dictoffset : base->dictoffset;
	ct->solid_dictoffset = solid;
	ct->own_dict = ct->dictoffset != solid || (ct->flags & CL_TPFLAGS_MANAGED_DICT);
	/* own slots, then the bases' */
	size_t nb = base->py_class ? base->nslots : 0;
	if (ct->nown + nb <= MAX_SLOTS &&
	    !ARRAY_RESERVE(h->slots, h->slots_cap, h->nslots + ct->nown + nb)) {
		ct->slot0 = (uint32_t)h->nslots;
		memmove(h->slots + h->nslots, h->slots + ct->own0, ct->nown * sizeof(*h->slots));
		h->nslots += ct->nown;
		memmove(h->slots + h->nslots, h->slots + base->slot0, nb * sizeof(*h->slots));
		h->nslots += nb;
		ct->nslots = (uint32_t)(ct->nown + nb);
	}
}

void ctype_classify_all(struct census_heap *h)
{
	struct census_target *t = h->t;
	if (!t->subtype_dealloc) {
		/* vote among the heap types with a shared-key cache, which
		 * class statements give their classes */
		uint64_t cand[16] = {0};
		size_t votes[16] = {0}, ncand = 0;
		for (size_t i = 0; i < h->ntypes; i++) {
			const struct ctype *ct = &h->types[i];
			if (!ct->heap || !ct->cached_keys || !census_in_text(t, ct->dealloc))
				continue;
			size_t j = 0;
			while (j < ncand && cand[j] != ct->dealloc)
				j++;
			if (j == ncand) {
				if (ncand == 16)
					continue;
				cand[ncand++] = ct->dealloc;
			}
			votes[j]++;
		}
		size_t best = 0, second = 0;
		for (size_t j = 1; j < ncand; j++)
			if (votes[j] > votes[best])
				best = j;
		for (size_t j = 0; j < ncand; j++)
			if (j != best && votes[j] > second)
				second = votes[j];
		if (ncand && votes[best] >= 3 && votes[best] >= 2 * second)
			t->subtype_dealloc = cand[best];
	}
	h->classify = true;
	for (size_t i = 0; i < h->ntypes; i++)
		classify(h, (uint32_t)i, 0);
}

/* The str key at edge position k of a dict's edges, compared by address
 * first (keys are interned), by text when the address is not known yet. */
static bool key_is(struct census_heap *h, uint32_t key, const char *text, uint64_t *key_addr)
{
	uint64_t a = h->objs[key].addr;
	if (*key_addr)
		return a == *key_addr;
	const char *s = census_pystr(h, a);
	if (s && !strcmp(s, text)) {
		*key_addr = a;
		return true;
	}
	return false;
}

static uint32_t dict_scan(struct census_heap *h, uint32_t dict, const char *key, uint64_t *key_addr)
{
	const struct cobj *d = &h->objs[dict];
	/* (key, value) pairs; the first 256 are enough for names */
	for (uint32_t k = 0; k + 1 < d->nedges && k < 2 * 256; k++) {
		uint32_t e = h->edges[d->edge_lo + k], v = h->edges[d->edge_lo + k + 1];
		if ((CE_ROLE(e) != CR_KEY && CE_ROLE(e) != CR_NAME) || CE_ROLE(v) != CR_ITEM)
			continue;
		if (key_is(h, CE_INDEX(e), key, key_addr))
			return CE_INDEX(v);
		k++;
	}
	return CT_NONE;
}

uint32_t census_dict_get(struct census_heap *h, uint32_t dict, const char *key, uint64_t *key_addr)
{
	bool known = *key_addr != 0;
	uint32_t v = dict_scan(h, dict, key, key_addr);
	if (v == CT_NONE && known) {
		/* an equal key that is another object */
		uint64_t other = 0;
		v = dict_scan(h, dict, key, &other);
	}
	return v;
}

/* The object's __dict__ (its first attrs edge), or CT_NONE. */
static uint32_t attrs_of(const struct census_heap *h, uint32_t obj)
{
	const struct cobj *o = &h->objs[obj];
	for (uint32_t k = 0; k < o->nedges; k++) {
		uint32_t e = h->edges[o->edge_lo + k];
		if (CE_ROLE(e) == CR_ATTRS)
			return CE_INDEX(e);
	}
	return CT_NONE;
}

void ctype_name_all(struct census_heap *h)
{
	char buf[CENSUS_NAME_MAX * 12 + 2];
	for (size_t i = 0; i < h->ntypes; i++) {
		struct ctype *ct = &h->types[i];
		ct->name = ct->tp_name;
		if (!ct->heap)
			continue;
		const char *qual = ct->qualname ? census_pystr(h, ct->qualname) : NULL;
		const char *mod = NULL;
		uint32_t self = addrmap_get(&h->index, ct->addr);
		uint32_t dict = self == ADDRMAP_NONE ? CT_NONE : attrs_of(h, self);
		if (dict != CT_NONE) {
			uint32_t m = census_dict_get(h, dict, "__module__", &h->module_key);
			if (m != CT_NONE)
				mod = census_pystr(h, h->objs[m].addr);
		}
		if (!qual)
			continue;
		if (!mod || !strcmp(mod, "builtins"))
			snprintf(buf, sizeof(buf), "%s", qual);
		else
			snprintf(buf, sizeof(buf), "%s.%s", mod, qual);
		const char *name = census_intern(h, buf);
		if (name)
			ct->name = name;
	}
}
