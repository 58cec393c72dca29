// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * References of the census's objects, read by layout, in batches. The
 * objects of a chunk move through stages together, each stage one batch of
 * reads for the whole chunk:
 *   A  a window of the object (header and first fields),
 *   B  what the window points at: items, a dict's keys header, a set's
 *      table, instance bodies and values,
 *   C  a dict's entries and split values,
 *   V  the header again: a container whose header changed while its
 *      contents were read is read again (twice at most), then counted torn.
 * Contents larger than SMALL_READ (and deques, whose blocks are a chain) are
 * read on their own at the end, in pieces, and checked the same way. Every
 * count and size read from the target is bounded before use.
 */
#include <stdlib.h>
#include <string.h>
#include "python/census_refs.h"
#include "python/census_types.h"
#include "util/array.h"

#define CHUNK	    4096
#define WIN	    64 /* bytes read of every object */
#define PRE	    32 /* pre-header of a managed dict (3.11+) */
#define SMALL_READ  (64 * 1024)
#define ARENA_BYTES (32u << 20)
#define MAX_TRIES   3
#define PIECE	    8192 /* pointers per read of a large container */

enum stage { ST_A, ST_B, ST_C, ST_V, ST_EMIT, ST_DONE };

struct buf {
	uint64_t addr;
	uint8_t *p;
	uint32_t len;
	bool ok;
};

struct pend {
	uint32_t obj;
	uint32_t type;
	uint8_t stage, a_try, tries;
	bool win_ok; /* the window is whole (else only the header is) */
	bool big;    /* contents read at emit time */
	bool torn;
	uint8_t win[WIN];
	uint8_t chk[48];
	struct buf body;  /* B: items, keys header, table, tp_dict */
	struct buf ext;	  /* B: a Python class instance's pre-header and body */
	uint32_t ext_pre; /* bytes of ext before the object */
	struct buf ivals; /* B: a Python class instance's values (3.11+) */
	struct buf vals;  /* C: a split dict's values */
	struct buf ents;  /* C: dict entries */
};

struct refs {
	struct census_heap *h;
	const struct census_layout *cl;
	struct pend *p;
	size_t np;
	uint8_t *arena;
	size_t used;
	struct read_req *reqs;
	size_t nreqs;
};

/* --- reading helpers --- */

/* A field of the object from its window (off < WIN). */
static uint64_t wf(const struct pend *p, int off)
{
	return off >= 0 && off + 8 <= WIN ? read_u64(p->win, (size_t)off) : 0;
}

static bool in_win(const struct pend *p, int off, size_t len)
{
	return p->win_ok && off >= 0 && off + (int)len <= WIN;
}

/* A field of a Python class instance: its pre-header (off < 0) and body
 * from ext, else from the window; 0 when neither has it. */
static uint64_t xf(const struct pend *p, int64_t off)
{
	if (p->ext.ok && off + (int64_t)p->ext_pre >= 0 &&
	    off + (int64_t)p->ext_pre + 8 <= (int64_t)p->ext.len)
		return read_u64(p->ext.p, (size_t)(off + p->ext_pre));
	if (off >= 0 && in_win(p, (int)off, 8))
		return wf(p, (int)off);
	return 0;
}

static uint8_t *arena_get(struct refs *r, size_t len)
{
	len = (len + 7) & ~(size_t)7;
	if (r->used + len > ARENA_BYTES)
		return NULL;
	uint8_t *p = r->arena + r->used;
	r->used += len;
	return p;
}

/* Ask for len bytes at addr into b; false when it must be read as big. */
static bool want(struct refs *r, struct buf *b, uint64_t addr, size_t len)
{
	b->addr = addr;
	b->len = 0;
	b->ok = len == 0;
	if (len == 0)
		return true;
	if (len > SMALL_READ || !(b->p = arena_get(r, len)))
		return false;
	b->len = (uint32_t)len;
	r->reqs[r->nreqs++] =
	    (struct read_req){.addr = addr, .dst = b->p, .len = (uint32_t)len, .ok = false};
	return true;
}

static const struct ctype *ptype(const struct refs *r, const struct pend *p)
{
	return p->type == CT_NONE ? NULL : &r->h->types[p->type];
}

/* --- per-type shared keys (instance values, 3.11+) --- */

/* Read the type's cached keys once per census: how many values an instance
 * may have and the name of each value index. */
static void shared_keys(struct census_heap *h, struct ctype *ct)
{
	const struct census_layout *cl = &h->t->cl;
	uint8_t head[40];
	if (ct->skeys_read)
		return;
	ct->skeys_read = true;
	if (!ct->cached_keys ||
	    read_one(h->t->pid, ct->cached_keys, head, cl->dk_indices, &h->st.reads))
		return;
	unsigned log2 = head[cl->dk_log2_size], log2ix = head[cl->dk_log2_index_bytes];
	int64_t usable = (int64_t)read_u64(head, cl->dk_usable);
	int64_t n = (int64_t)read_u64(head, cl->dk_nentries);
	/* shared keys are small (SHARED_KEYS_MAX_SIZE is 30) */
	if (log2 < 3 || log2 > 10 || log2ix < log2 || log2ix > log2 + 3 || n < 0 || n > 255 ||
	    usable < 0 || n + usable > 255)
		return;
	uint8_t ents[255 * 16];
	size_t es = head[cl->dk_kind] == 0 ? cl->dk_entry_size : cl->dk_unicode_entry_size;
	size_t keyoff = head[cl->dk_kind] == 0 ? 8 : 0;
	uint64_t at = ct->cached_keys + cl->dk_indices + (1ULL << log2ix);
	if (n * es > sizeof(ents) || read_one(h->t->pid, at, ents, (size_t)n * es, &h->st.reads))
		return;
	if (ARRAY_RESERVE(h->skeys, h->skeys_cap, h->nskeys + (size_t)n))
		return;
	ct->skeys0 = (uint32_t)h->nskeys;
	for (int64_t i = 0; i < n; i++)
		h->skeys[h->nskeys++] = read_u64(ents, (size_t)i * es + keyoff);
	ct->nskeys = (uint32_t)n;
	ct->values_cap = (uint32_t)(n + usable);
}

/* --- stage A: the window --- */

static void plan_a(struct refs *r, struct pend *p)
{
	uint64_t a = r->h->objs[p->obj].addr;
	/* the window, or the header alone near the end of a mapping */
	memset(p->win, 0, sizeof(p->win));
	r->reqs[r->nreqs++] =
	    (struct read_req){.addr = a, .dst = p->win, .len = p->a_try == 0 ? WIN : 16};
}

static void done_invalid(struct refs *r, struct pend *p)
{
	r->h->st.invalid++;
	p->stage = ST_DONE;
}

static void after_a(struct refs *r, struct pend *p, bool ok)
{
	struct census_heap *h = r->h;
	struct cobj *o = &h->objs[p->obj];
	if (!ok) {
		if (++p->a_try < 2)
			return;
		done_invalid(r, p);
		return;
	}
	p->win_ok = p->a_try == 0;
	o->refcnt = (int64_t)wf(p, 0);
	if (h->t->minor >= 12 && (int32_t)o->refcnt < 0)
		o->flags |= CO_IMMORTAL;
	p->type = ctype_get(h, wf(p, 8));
	if (p->type == CT_NONE || o->refcnt <= 0) {
		done_invalid(r, p);
		return;
	}
	o->type = p->type;
	o->flags |= CO_READ;
	p->stage = ST_B;
}

/* --- stage B --- */

static int64_t ob_size(const struct pend *p)
{
	return (int64_t)wf(p, 16);
}

/* The instance dict pointer of a Python class instance, or 0. */
static uint64_t instance_dict(const struct refs *r, const struct pend *p)
{
	const struct ctype *ct = ptype(r, p);
	int minor = r->h->t->minor;
	if (minor >= 11 && (ct->flags & CL_TPFLAGS_MANAGED_DICT)) {
		uint64_t d = xf(p, -24);
		/* 3.12: the same word holds values, tagged with bit 0 */
		return minor == 12 && (d & 1) ? 0 : d;
	}
	if (ct->dictoffset == 0)
		return 0;
	int64_t off = ct->dictoffset;
	if (off < 0) {
		/* from the end of a variable-size object */
		int64_t n = ob_size(p);
		n = n < 0 ? -n : n;
		off += ct->basicsize + n * ct->itemsize;
		off = (off + 7) & ~7;
	}
	if (off < 16 || (off & 7))
		return 0;
	return xf(p, off);
}

/* The instance values of a Python class instance (3.11+): address of the
 * first value and how many, or 0. */
static uint64_t instance_values(struct refs *r, const struct pend *p, uint32_t *n)
{
	struct ctype *ct = &r->h->types[p->type];
	const struct census_layout *cl = r->cl;
	int minor = r->h->t->minor;
	*n = 0;
	if (minor < 11 || !(ct->flags & CL_TPFLAGS_MANAGED_DICT) || !p->win_ok)
		return 0;
	shared_keys(r->h, ct);
	if (minor == 13) {
		if (!(ct->flags & CL_TPFLAGS_INLINE_VALUES))
			return 0;
		/* inline, right after the header; valid unless a dict took them */
		uint8_t cap = p->win[16 + cl->dv_capacity];
		uint8_t valid = p->win[16 + cl->dv_valid];
		if (!valid)
			return 0;
		*n = cap < ct->nskeys ? cap : ct->nskeys;
		return r->h->objs[p->obj].addr + 16 + cl->dv_values;
	}
	uint64_t v = minor == 11 ? xf(p, -32) : xf(p, -24);
	if (minor == 12) {
		/* values are stored as their address minus one (odd) */
		if (!(v & 1))
			return 0;
		v += 1;
	}
	if (!v || (v & 7))
		return 0;
	*n = ct->nskeys;
	return v;
}

static void plan_b(struct refs *r, struct pend *p)
{
	const struct census_layout *cl = r->cl;
	const struct ctype *ct = ptype(r, p);
	uint64_t a = r->h->objs[p->obj].addr;
	bool ok = true;
	p->body = (struct buf){0};
	p->ext = (struct buf){0};
	p->ivals = (struct buf){0};
	p->vals = (struct buf){0};
	p->ext_pre = 0;
	p->ents = (struct buf){0};
	if (!p->win_ok) {
		/* only the header could be read: no contents */
		p->stage = ST_EMIT;
		return;
	}
	int64_t n = ob_size(p);
	size_t max = r->h->lim.max_items;
	switch (ct->kind) {
	case CK_TUPLE:
		if (n < 0 || (size_t)n > max)
			break;
		if (!in_win(p, cl->tuple_item, (size_t)n * 8))
			ok = want(r, &p->body, a + cl->tuple_item, (size_t)n * 8);
		break;
	case CK_LIST: {
		int64_t alloc = (int64_t)wf(p, cl->list_allocated);
		if (n < 0 || n > alloc || (size_t)n > max)
			break;
		ok = want(r, &p->body, wf(p, cl->list_item), (size_t)n * 8);
		break;
	}
	case CK_DICT:
		ok = want(r, &p->body, wf(p, cl->dict_keys), cl->dk_indices);
		break;
	case CK_SET: {
		uint64_t slots = wf(p, cl->set_mask) + 1;
		if (slots < 8 || (slots & (slots - 1)) || slots > max * 4)
			break;
		ok = want(r, &p->body, wf(p, cl->set_table), slots * cl->setentry_size);
		break;
	}
	case CK_DEQUE:
		ok = false;
		break;
	case CK_TYPE:
		ok = want(r, &p->body, a + cl->tp_dict, 8);
		break;
	default:
		break;
	}
	if (!ok)
		p->big = true;
	if (ct->kind == CK_STR && cl->str_wstr != PY_NONE &&
	    ((wf(p, r->h->t->pl.str_state) >> 5) & 3) != 3)
		/* not compact ASCII (3.8-3.11): wstr_length and the legacy data
		 * pointer lie past the window */
		want(r, &p->body, a + WIN, 16);
	if (ct->py_class) {
		/* the pre-header holds a managed dict (3.11+), the body __slots__
		 * and a __dict__ at tp_dictoffset */
		bool managed = r->h->t->minor >= 11 && (ct->flags & CL_TPFLAGS_MANAGED_DICT);
		p->ext_pre = managed ? PRE : 0;
		if ((managed || (ct->basicsize > WIN && (ct->nslots || ct->dictoffset > 0))) &&
		    !want(r, &p->ext, a - p->ext_pre, p->ext_pre + (size_t)ct->basicsize))
			p->big = true;
	}
}

/* --- stage C: dict entries --- */

struct dkeys {
	bool ok;
	int64_t refcnt, usable, nentries;
	uint64_t size; /* slots of the index table */
	unsigned ixbytes_log2;
	size_t es, keyoff, valoff;
	bool general; /* the dict visits its keys */
	uint64_t entries;
};

static struct dkeys dict_keys(const struct refs *r, const struct pend *p)
{
	const struct census_layout *cl = r->cl;
	const uint8_t *k = p->body.p;
	struct dkeys d = {0};
	if (!p->body.ok || !k)
		return d;
	d.refcnt = (int64_t)read_u64(k, 0);
	d.usable = (int64_t)read_u64(k, cl->dk_usable);
	d.nentries = (int64_t)read_u64(k, cl->dk_nentries);
	uint64_t ixsize;
	if (cl->dk_size != PY_NONE) {
		d.size = read_u64(k, cl->dk_size);
		if (d.size < 8 || (d.size & (d.size - 1)) || d.size > (1ULL << 32))
			return d;
		ixsize = d.size <= 0xff ? 1 : d.size <= 0xffff ? 2 : 4;
		d.general = true;
		d.es = cl->dk_entry_size;
		d.keyoff = 8;
		d.valoff = 16;
	} else {
		unsigned log2 = k[cl->dk_log2_size], log2ix = k[cl->dk_log2_index_bytes];
		unsigned kind = k[cl->dk_kind];
		if (log2 < 3 || log2 > 32 || log2ix < log2 || log2ix > log2 + 3 || kind > 2)
			return d;
		d.size = 1ULL << log2;
		ixsize = 1ULL << (log2ix - log2);
		d.general = kind == 0;
		d.es = d.general ? cl->dk_entry_size : cl->dk_unicode_entry_size;
		d.keyoff = d.general ? 8 : 0;
		d.valoff = d.general ? 16 : 8;
	}
	if (d.nentries < 0 || (uint64_t)d.nentries > d.size || d.usable < 0 ||
	    (uint64_t)d.usable > d.size)
		return d;
	d.entries = p->body.addr + cl->dk_indices + d.size * ixsize;
	d.ixbytes_log2 = 0;
	while ((1ULL << d.ixbytes_log2) < d.size * ixsize)
		d.ixbytes_log2++;
	d.ok = true;
	return d;
}

/* A Python class instance's values (3.11+), once its pre-header is read. */
static void plan_values(struct refs *r, struct pend *p)
{
	uint32_t nv;
	uint64_t v = instance_values(r, p, &nv);
	uint64_t inline_at = r->h->objs[p->obj].addr + 16 + r->cl->dv_values;
	if (v && nv && !(v == inline_at && in_win(p, 16 + r->cl->dv_values, nv * 8u)))
		want(r, &p->ivals, v, nv * 8u);
}

static void plan_c(struct refs *r, struct pend *p)
{
	const struct ctype *ct = ptype(r, p);
	if (ct->py_class)
		plan_values(r, p);
	if (ct->kind != CK_DICT || p->big)
		return;
	struct dkeys d = dict_keys(r, p);
	if (!d.ok || (size_t)d.nentries > r->h->lim.max_items)
		return;
	if (!want(r, &p->ents, d.entries, (size_t)d.nentries * d.es)) {
		p->big = true;
		return;
	}
	uint64_t values = wf(p, r->cl->dict_values);
	if (values && !want(r, &p->vals, values, r->cl->dv_values + (size_t)d.nentries * 8))
		p->big = true;
}

/* --- stage V: did the container change? --- */

static bool checks(const struct ctype *ct)
{
	return ct->kind == CK_LIST || ct->kind == CK_DICT || ct->kind == CK_SET ||
	       ct->kind == CK_TUPLE;
}

static void plan_v(struct refs *r, struct pend *p)
{
	r->reqs[r->nreqs++] = (struct read_req){
	    .addr = r->h->objs[p->obj].addr, .dst = p->chk, .len = sizeof(p->chk)};
}

/* Fields that change when the container's contents do. */
static bool changed(const struct refs *r, const struct pend *p)
{
	const struct ctype *ct = ptype(r, p);
	size_t lo = 16, hi = 48;
	if (ct->kind == CK_LIST)
		hi = 40;
	else if (ct->kind == CK_TUPLE)
		hi = 24;
	else if (ct->kind == CK_DICT && r->h->t->minor >= 13)
		/* ma_used, then keys and values: 3.13's word at 24 is no version */
		return memcmp(p->chk + 16, p->win + 16, 8) || memcmp(p->chk + 32, p->win + 32, 16);
	return memcmp(p->chk + lo, p->win + lo, hi - lo) != 0;
}

/* --- driving the stages --- */

/* Contents that could not be read under a valid header, or a header that
 * changed while they were read: start over, then give up on them. */
static void read_again(struct refs *r, struct pend *p)
{
	if (++p->tries < MAX_TRIES) {
		r->h->st.retries++;
		p->stage = ST_A;
		p->a_try = 0;
	} else {
		p->torn = true;
		p->stage = ST_EMIT;
	}
}

static bool bufs_ok(const struct pend *p)
{
	return (!p->body.len || p->body.ok) && (!p->ext.len || p->ext.ok) &&
	       (!p->ivals.len || p->ivals.ok) && (!p->vals.len || p->vals.ok) &&
	       (!p->ents.len || p->ents.ok);
}

static void mark(struct buf *b, const struct read_req *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b->len && q[i].dst == b->p)
			b->ok = q[i].ok;
}

static void run_stages(struct refs *r)
{
	for (int guard = 0; guard < 8 * MAX_TRIES + 8; guard++) {
		r->nreqs = 0;
		size_t active = 0;
		/* each pending object adds its reads for its stage */
		size_t *first = calloc(r->np + 1, sizeof(*first));
		if (!first)
			return;
		for (size_t i = 0; i < r->np; i++) {
			struct pend *p = &r->p[i];
			first[i] = r->nreqs;
			switch (p->stage) {
			case ST_A:
				plan_a(r, p);
				active++;
				break;
			case ST_B:
				plan_b(r, p);
				active++;
				break;
			case ST_C:
				plan_c(r, p);
				active++;
				break;
			case ST_V:
				plan_v(r, p);
				active++;
				break;
			default:
				break;
			}
		}
		first[r->np] = r->nreqs;
		if (!active) {
			free(first);
			return;
		}
		read_batch(r->h->t->pid, r->reqs, r->nreqs, &r->h->st.reads);
		for (size_t i = 0; i < r->np; i++) {
			struct pend *p = &r->p[i];
			const struct read_req *q = r->reqs + first[i];
			size_t nq = first[i + 1] - first[i];
			switch (p->stage) {
			case ST_A:
				after_a(r, p, nq && q[0].ok);
				break;
			case ST_B:
				mark(&p->body, q, nq);
				mark(&p->ext, q, nq);
				if (!bufs_ok(p))
					read_again(r, p);
				else
					p->stage = ST_C;
				break;
			case ST_C:
				mark(&p->ents, q, nq);
				mark(&p->vals, q, nq);
				mark(&p->ivals, q, nq);
				if (!bufs_ok(p))
					read_again(r, p);
				else
					p->stage = checks(ptype(r, p)) && !p->big ? ST_V : ST_EMIT;
				break;
			case ST_V:
				if (nq && q[0].ok && changed(r, p))
					read_again(r, p);
				else
					p->stage = ST_EMIT;
				break;
			default:
				break;
			}
		}
		free(first);
	}
}

/* --- sizes: what sys.getsizeof says --- */

static uint64_t usable_fraction(uint64_t n)
{
	return (n << 1) / 3;
}

/* Whether [start, start + len) can be the memory of an object: large
 * extents claimed by a header are checked at their last byte (a forged or
 * torn size is not added to the totals). */
static bool extent_ok(struct refs *r, uint64_t start, uint64_t len)
{
	uint8_t b;
	if (len <= SMALL_READ)
		return true;
	if (start + len < start || start + len > (1ULL << 47))
		return false;
	return !read_one(r->h->t->pid, start + len - 1, &b, 1, &r->h->st.reads);
}

/* A count read from a header, or -1 when it is beyond any real one. */
static int64_t bounded(const struct refs *r, int64_t n)
{
	return n >= 0 && (uint64_t)n <= 4 * (uint64_t)r->h->lim.max_items ? n : -1;
}

/* Bytes of a dict beyond its basic size (its keys and values tables). */
static uint64_t dict_extra(struct refs *r, const struct pend *p)
{
	const struct census_layout *cl = r->cl;
	struct dkeys d = dict_keys(r, p);
	uint64_t extra = 0, keys = 0;
	if (!d.ok)
		return 0;
	bool split = wf(p, cl->dict_values) != 0;
	if (cl->dk_size != PY_NONE) {
		if (split)
			extra += usable_fraction(d.size) * 8;
		if (d.refcnt == 1)
			keys = cl->dk_indices +
			       (d.size <= 0xff	   ? 1
				: d.size <= 0xffff ? 2
						   : 4) *
				   d.size +
			       cl->dk_entry_size * usable_fraction(d.size);
	} else {
		bool embedded = split && r->h->t->minor >= 13 && p->vals.ok && p->vals.len &&
				p->vals.p[cl->dv_embedded];
		if (split && !embedded)
			extra += (uint64_t)(d.nentries + d.usable) * 8;
		if (d.refcnt == 1)
			keys = cl->dk_indices + (1ULL << d.ixbytes_log2) +
			       usable_fraction(d.size) * d.es;
	}
	if (!extent_ok(r, p->body.addr, keys))
		return 0;
	return extra + keys;
}

/* A field of a str: past the window, from the body read for it. */
static uint64_t str_field(const struct pend *p, int off)
{
	if (off < WIN)
		return wf(p, off);
	if (p->body.ok && off - WIN + 8 <= (int)p->body.len)
		return read_u64(p->body.p, (size_t)(off - WIN));
	return 0;
}

static uint64_t str_size(struct refs *r, const struct pend *p)
{
	const struct census_layout *cl = r->cl;
	uint64_t a = r->h->objs[p->obj].addr;
	uint32_t state = (uint32_t)wf(p, r->h->t->pl.str_state);
	int64_t len = (int64_t)wf(p, r->h->t->pl.str_length);
	unsigned kind = (state >> 2) & 7;
	bool compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	bool ready = r->h->t->minor >= 12 || ((state >> 7) & 1);
	if (len < 0 || len > (1LL << 40) || (kind != 1 && kind != 2 && kind != 4))
		return cl->str_ascii_size;
	uint64_t size, data, chars = ((uint64_t)len + 1) * kind;
	if (compact && ascii) {
		size = cl->str_ascii_size + (uint64_t)len + 1;
		data = a + cl->str_ascii_size;
	} else if (compact) {
		size = cl->str_compact_size + chars;
		data = a + cl->str_compact_size;
	} else {
		/* a legacy string (str subclasses): PyUnicodeObject adds a data
		 * pointer */
		data = str_field(p, cl->str_compact_size);
		size = cl->str_compact_size + 8 + (data ? chars : 0);
	}
	if (data && !extent_ok(r, data, chars))
		return cl->str_compact_size;
	if (!ascii) {
		uint64_t utf8 = str_field(p, cl->str_utf8);
		int64_t utf8_len = (int64_t)str_field(p, cl->str_utf8_length);
		if (utf8 && utf8 != data && utf8_len >= 0 && extent_ok(r, utf8, (uint64_t)utf8_len))
			size += (uint64_t)utf8_len + 1;
	}
	if (cl->str_wstr != PY_NONE) {
		uint64_t wstr = str_field(p, cl->str_wstr);
		int64_t wlen = compact && ascii ? len : (int64_t)str_field(p, cl->str_wstr_length);
		if (wstr && (!ready || wstr != data) && wlen >= 0 &&
		    extent_ok(r, wstr, ((uint64_t)wlen + 1) * 4))
			size += ((uint64_t)wlen + 1) * 4;
	}
	return size;
}

static uint64_t long_size(struct refs *r, const struct pend *p)
{
	int64_t n;
	if (r->h->t->minor >= 12) {
		n = (int64_t)(wf(p, 16) >> 3); /* lv_tag: digits << NON_SIZE_BITS */
	} else {
		n = (int64_t)wf(p, 16);
		n = n < 0 ? -n : n;
	}
	if (r->h->t->minor >= 11 && n < 1)
		n = 1;
	if (n < 0 || !extent_ok(r, r->h->objs[p->obj].addr, r->cl->long_digits + (uint64_t)n * 4))
		n = 0;
	return r->cl->long_digits + (uint64_t)n * 4;
}

static uint64_t object_size(struct refs *r, const struct pend *p, const struct ctype *ct)
{
	const struct census_layout *cl = r->cl;
	int minor = r->h->t->minor;
	uint64_t a = r->h->objs[p->obj].addr;
	uint64_t size = (uint64_t)ct->basicsize;
	if (!p->win_ok) {
		/* only the header: the type's basic size */
	} else if (ct->kind == CK_LIST) {
		int64_t alloc = bounded(r, (int64_t)wf(p, cl->list_allocated));
		if (alloc > 0 && extent_ok(r, wf(p, cl->list_item), (uint64_t)alloc * 8))
			size += (uint64_t)alloc * 8;
	} else if (ct->kind == CK_DICT) {
		size += dict_extra(r, p);
	} else if (ct->kind == CK_SET) {
		int64_t slots = bounded(r, (int64_t)(wf(p, cl->set_mask) + 1));
		uint64_t table = wf(p, cl->set_table);
		if (table != a + cl->set_smalltable && slots > 0 &&
		    extent_ok(r, table, (uint64_t)slots * cl->setentry_size))
			size += (uint64_t)slots * cl->setentry_size;
	} else if (ct->kind == CK_DEQUE) {
		int64_t left = (int64_t)wf(p, CL_DEQUE_LEFTINDEX), n = bounded(r, ob_size(p));
		/* a deque whose blocks could not all be read counts one */
		if (left >= 0 && left < CL_BLOCKLEN && n >= 0 && !p->torn)
			size += (uint64_t)(left + n + CL_BLOCKLEN) / CL_BLOCKLEN * CL_BLOCK_SIZE;
	} else if (ct->kind == CK_STR) {
		size = str_size(r, p);
	} else if (ct->kind == CK_LONG) {
		size = long_size(r, p);
	} else if (ct->kind == CK_BYTEARRAY) {
		int64_t alloc = (int64_t)wf(p, cl->bytearray_alloc);
		if (alloc > 0 && extent_ok(r, wf(p, cl->bytearray_alloc + 8), (uint64_t)alloc))
			size += (uint64_t)alloc;
	} else if (ct->kind == CK_TYPE) {
		uint32_t ti = addrmap_get(&r->h->type_index, a);
		bool heap = ti < r->h->ntypes && r->h->types[ti].heap;
		size = heap ? cl->heaptype_size : cl->type_size;
	} else if (ct->itemsize) {
		int64_t n = ob_size(p);
		n = n < 0 ? -n : n;
		uint64_t items = (uint64_t)n * (uint64_t)ct->itemsize;
		if (n < (1LL << 40) && extent_ok(r, a, size + items))
			size += items;
	}
	/* the pre-header sys.getsizeof adds */
	if (minor <= 10) {
		bool is_gc = ct->gc;
		if (ct->kind == CK_TYPE && ct->addr == r->h->t->type_type) {
			/* type's tp_is_gc: only heap types are collected */
			uint32_t ti = addrmap_get(&r->h->type_index, a);
			is_gc = ti < r->h->ntypes && r->h->types[ti].heap;
		}
		if (is_gc)
			size += cl->gc_head_size;
	} else {
		if (ct->gc)
			size += cl->gc_head_size;
		uint64_t pre = minor == 11 ? CL_TPFLAGS_MANAGED_DICT
					   : CL_TPFLAGS_MANAGED_DICT | CL_TPFLAGS_MANAGED_WEAKREF;
		if (ct->flags & pre)
			size += 16;
	}
	return size;
}

/* --- emitting the edges --- */

static void refs_of(struct census_heap *h, enum crole role, const uint8_t *ptrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		census_ref(h, role, read_u64(ptrs, i * 8));
}

/* Items of a large array, read in pieces. -1 when a piece cannot be read. */
static int big_array(struct refs *r, uint64_t at, uint64_t n)
{
	uint8_t buf[PIECE * 8];
	for (uint64_t i = 0; i < n; i += PIECE) {
		size_t k = n - i < PIECE ? (size_t)(n - i) : PIECE;
		if (read_one(r->h->t->pid, at + i * 8, buf, k * 8, &r->h->st.reads))
			return -1;
		refs_of(r->h, CR_ITEM, buf, k);
	}
	return 0;
}

/* Entries of a dict, in pieces when large; values of a split table from
 * `values` when it is set (owned unless embedded in an instance, 3.13). */
static int dict_entries(struct refs *r, const struct dkeys *d, uint64_t values, bool owned,
			const uint8_t *ents, const uint8_t *vals)
{
	struct census_heap *h = r->h;
	uint8_t ebuf[PIECE * 24], vbuf[PIECE * 8];
	size_t per = PIECE;
	for (int64_t i = 0; i < d->nentries; i += (int64_t)per) {
		size_t k = (size_t)(d->nentries - i) < per ? (size_t)(d->nentries - i) : per;
		const uint8_t *e = ents ? ents + (size_t)i * d->es : ebuf;
		const uint8_t *v = vals ? vals + (size_t)i * 8 : vbuf;
		if (!ents && read_one(h->t->pid, d->entries + (uint64_t)i * d->es, ebuf, k * d->es,
				      &h->st.reads))
			return -1;
		if (values && !vals &&
		    read_one(h->t->pid, values + r->cl->dv_values + (uint64_t)i * 8, vbuf, k * 8,
			     &h->st.reads))
			return -1;
		for (size_t j = 0; j < k; j++) {
			uint64_t key = read_u64(e, j * d->es + d->keyoff);
			uint64_t val =
			    values ? read_u64(v, j * 8) : read_u64(e, j * d->es + d->valoff);
			if (!key || !val)
				continue;
			if (values && !owned)
				continue;
			census_ref(h, values ? CR_NAME : CR_KEY, key);
			census_ref(h, CR_ITEM, val);
		}
	}
	return 0;
}

static int big_set(struct refs *r, uint64_t table, uint64_t slots)
{
	struct census_heap *h = r->h;
	uint8_t buf[PIECE * 16];
	for (uint64_t i = 0; i < slots; i += PIECE) {
		size_t k = slots - i < PIECE ? (size_t)(slots - i) : PIECE;
		if (read_one(h->t->pid, table + i * 16, buf, k * 16, &h->st.reads))
			return -1;
		for (size_t j = 0; j < k; j++)
			census_ref(h, CR_ITEM, read_u64(buf, j * 16));
	}
	return 0;
}

/* A deque's items, block by block. -1 when a block cannot be read or the
 * chain is inconsistent. */
static int deque_items(struct refs *r, const struct pend *p)
{
	struct census_heap *h = r->h;
	int64_t n = ob_size(p), left = (int64_t)wf(p, CL_DEQUE_LEFTINDEX);
	uint64_t block = wf(p, CL_DEQUE_LEFTBLOCK);
	uint8_t b[CL_BLOCK_SIZE];
	if (n < 0 || left < 0 || left >= CL_BLOCKLEN)
		return -1;
	if ((size_t)n > h->lim.max_items) {
		h->st.items_cut++;
		n = (int64_t)h->lim.max_items;
	}
	/* a deque of n items has at most n / BLOCKLEN + 2 blocks, each once */
	struct addrmap seen = {0};
	int64_t i = left;
	for (int64_t done = 0; done < n;) {
		if (!block || addrmap_get(&seen, block) != ADDRMAP_NONE ||
		    addrmap_put(&seen, block, 0) ||
		    read_one(h->t->pid, block, b, sizeof(b), &h->st.reads)) {
			addrmap_free(&seen);
			return -1;
		}
		for (; i < CL_BLOCKLEN && done < n; i++, done++)
			census_ref(h, CR_ITEM, read_u64(b, CL_BLOCK_DATA + (size_t)i * 8));
		block = read_u64(b, CL_BLOCK_RIGHTLINK);
		i = 0;
	}
	addrmap_free(&seen);
	return 0;
}

/* The references of a container too large for the batches. -1 on a read
 * failure. */
static int big_contents(struct refs *r, struct pend *p, const struct ctype *ct)
{
	const struct census_layout *cl = r->cl;
	int64_t n = ob_size(p);
	uint64_t a = r->h->objs[p->obj].addr;
	size_t max = r->h->lim.max_items;
	switch (ct->kind) {
	case CK_TUPLE:
	case CK_LIST:
		if (n < 0)
			return -1;
		if ((size_t)n > max) {
			r->h->st.items_cut++;
			n = (int64_t)max;
		}
		return big_array(r,
				 ct->kind == CK_TUPLE ? a + cl->tuple_item : wf(p, cl->list_item),
				 (uint64_t)n);
	case CK_SET:
		return big_set(r, wf(p, cl->set_table), wf(p, cl->set_mask) + 1);
	case CK_DEQUE:
		return deque_items(r, p);
	case CK_DICT: {
		if (!p->body.ok) {
			/* the keys header too was not read */
			p->body.p = arena_get(r, cl->dk_indices);
			p->body.addr = wf(p, cl->dict_keys);
			p->body.ok = p->body.p && !read_one(r->h->t->pid, p->body.addr, p->body.p,
							    cl->dk_indices, &r->h->st.reads);
		}
		struct dkeys d = dict_keys(r, p);
		if (!d.ok)
			return -1;
		if ((size_t)d.nentries > max) {
			r->h->st.items_cut++;
			d.nentries = (int64_t)max;
		}
		uint64_t values = wf(p, cl->dict_values);
		bool owned = true;
		if (values && cl->dv_embedded != PY_NONE) {
			uint8_t head[8];
			if (read_one(r->h->t->pid, values, head, sizeof(head), &r->h->st.reads))
				return -1;
			owned = !head[cl->dv_embedded];
		}
		return dict_entries(r, &d, values, owned, NULL, NULL);
	}
	default:
		return 0;
	}
}

static void emit_small(struct refs *r, struct pend *p, const struct ctype *ct)
{
	const struct census_layout *cl = r->cl;
	struct census_heap *h = r->h;
	int64_t n = ob_size(p);
	switch (ct->kind) {
	case CK_TUPLE:
		if (n >= 0 && (size_t)n <= h->lim.max_items)
			refs_of(h, CR_ITEM, p->body.len ? p->body.p : p->win + cl->tuple_item,
				(size_t)n);
		break;
	case CK_LIST:
		if (p->body.ok)
			refs_of(h, CR_ITEM, p->body.p, p->body.len / 8);
		break;
	case CK_SET:
		if (p->body.ok)
			for (size_t i = 0; i < p->body.len / cl->setentry_size; i++)
				census_ref(h, CR_ITEM, read_u64(p->body.p, i * cl->setentry_size));
		break;
	case CK_DICT: {
		struct dkeys d = dict_keys(r, p);
		if (!d.ok || !p->ents.ok || (size_t)d.nentries > h->lim.max_items)
			break;
		uint64_t values = wf(p, cl->dict_values);
		bool owned = true;
		if (values && cl->dv_embedded != PY_NONE)
			owned = p->vals.ok && !p->vals.p[cl->dv_embedded];
		if (values && !p->vals.ok)
			break;
		dict_entries(r, &d, values, owned, p->ents.p,
			     values ? p->vals.p + cl->dv_values : NULL);
		break;
	}
	case CK_MODULE:
		census_ref(h, CR_ATTRS, wf(p, cl->module_dict));
		break;
	case CK_CELL:
		census_ref(h, CR_ITEM, wf(p, cl->cell_ref));
		break;
	case CK_TYPE:
		if (p->body.ok)
			census_ref(h, CR_ATTRS, read_u64(p->body.p, 0));
		break;
	default:
		break;
	}
}

/* __dict__, instance values and __slots__ of a Python class instance. */
static void emit_class_extras(struct refs *r, struct pend *p, const struct ctype *ct)
{
	struct census_heap *h = r->h;
	/* a dict at the solid base's offset is the base's (a module's, a
	 * type's): CPython's subtype_traverse leaves it to the base too */
	if (ct->own_dict)
		census_ref(h, CR_ATTRS, instance_dict(r, p));
	uint32_t nv;
	uint64_t v = instance_values(r, p, &nv);
	ct = &h->types[p->type]; /* instance_values may read the type's keys */
	if (v && nv) {
		const uint8_t *vals = p->ivals.len ? p->ivals.p : p->win + 16 + r->cl->dv_values;
		if (p->ivals.len && !p->ivals.ok)
			vals = NULL;
		for (uint32_t i = 0; vals && i < nv; i++) {
			uint64_t val = read_u64(vals, (size_t)i * 8);
			if (!val)
				continue;
			census_ref(h, CR_NAME, h->skeys[ct->skeys0 + i]);
			census_ref(h, CR_ITEM, val);
		}
	}
	for (uint32_t i = 0; i < ct->nslots; i++) {
		uint32_t off = h->slots[ct->slot0 + i].offset;
		census_ref(h, CR_ITEM, xf(p, off));
	}
}

static uint32_t items_of(const struct refs *r, const struct pend *p, const struct ctype *ct)
{
	const struct census_layout *cl = r->cl;
	int64_t n = 0;
	if (!p->win_ok)
		return 0;
	switch (ct->kind) {
	case CK_TUPLE:
	case CK_LIST:
	case CK_DEQUE:
		n = ob_size(p);
		break;
	case CK_DICT:
		n = (int64_t)wf(p, cl->dict_used);
		break;
	case CK_SET:
		n = (int64_t)wf(p, cl->set_used);
		break;
	default:
		return 0;
	}
	return n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void emit(struct refs *r, struct pend *p)
{
	struct census_heap *h = r->h;
	const struct ctype *ct = ptype(r, p);
	uint32_t lo = (uint32_t)h->nedges;
	if (!ct) {
		/* never got past its header */
		done_invalid(r, p);
		return;
	}
	if (ct->heap)
		census_ref(h, CR_TYPE, ct->addr);
	if (p->win_ok && !p->torn) {
		if (p->big) {
			for (int tries = 0;; tries++) {
				uint32_t keep = (uint32_t)h->nedges;
				uint8_t again[48];
				int err = big_contents(r, p, ct);
				bool same = !err &&
					    !read_one(h->t->pid, h->objs[p->obj].addr, again,
						      sizeof(again), &h->st.reads) &&
					    !memcmp(again + 16, p->win + 16, 48 - 16);
				if (same)
					break;
				/* changed while read: forget what was read, try again */
				h->nedges = keep;
				if (tries + 1 >= MAX_TRIES) {
					p->torn = true;
					break;
				}
				h->st.retries++;
				if (read_one(h->t->pid, h->objs[p->obj].addr, p->win, WIN,
					     &h->st.reads)) {
					p->torn = true;
					break;
				}
			}
		} else {
			emit_small(r, p, ct);
		}
	}
	if (p->win_ok && ct->py_class)
		emit_class_extras(r, p, ct);
	ct = ptype(r, p);
	struct cobj *o = &h->objs[p->obj];
	o->edge_lo = lo;
	o->nedges = (uint32_t)h->nedges - lo;
	o->items = items_of(r, p, ct);
	uint64_t size = object_size(r, p, ct);
	o->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	o->flags |= CO_DONE;
	if (p->torn) {
		o->flags |= CO_TORN;
		h->st.torn++;
	}
	/* references leakbpf cannot enumerate, or not all of them */
	if (ct->kind == CK_OPAQUE || ct->kind == CK_TYPE || ct->kind == CK_MODULE || p->torn ||
	    !p->win_ok)
		o->flags |= CO_OPAQUE;
}

int census_read_refs(struct census_heap *h, size_t lo, size_t hi)
{
	struct refs r = {.h = h, .cl = &h->t->cl};
	size_t n = hi - lo;
	r.p = calloc(n, sizeof(*r.p));
	r.reqs = malloc(n * 4 * sizeof(*r.reqs));
	r.arena = malloc(ARENA_BYTES);
	if (!r.p || !r.reqs || !r.arena) {
		free(r.p);
		free(r.reqs);
		free(r.arena);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		r.p[i].obj = (uint32_t)(lo + i);
		r.p[i].type = CT_NONE;
	}
	r.np = n;
	run_stages(&r);
	for (size_t i = 0; i < n; i++) {
		if (r.p[i].stage == ST_DONE)
			continue;
		if (r.p[i].stage != ST_EMIT)
			r.p[i].torn = true; /* still changing after every round */
		emit(&r, &r.p[i]);
	}
	free(r.p);
	free(r.reqs);
	free(r.arena);
	return 0;
}

size_t census_chunk(void)
{
	return CHUNK;
}
