// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The locals of every thread's Python frames: seeds of the census (from 3.11
 * on frames are no objects, so what only a local holds is reached from
 * here) and roots of the paths that name holders ("__main__.main:q").
 */
#include <string.h>
#include "python/census_names.h"
#include "python/census_walk.h"

#define MAX_THREADS 1024
#define MAX_FRAMES  1024
#define MAX_LOCALS  256
#define CODE_HEAD   256

static uint64_t field(struct census_heap *h, uint64_t addr, uint16_t off)
{
	uint64_t v = 0;
	if (off == PY_NONE || read_one(h->t->pid, addr + off, &v, sizeof(v), &h->st.reads))
		return 0;
	return v;
}

/* Items of a tuple (at most max) into out; their count, 0 when unreadable. */
static size_t tuple_items(struct census_heap *h, uint64_t tuple, uint64_t *out, size_t max)
{
	int64_t n;
	if (!tuple || read_one(h->t->pid, tuple + 16, &n, sizeof(n), &h->st.reads) || n <= 0)
		return 0;
	if ((size_t)n > max)
		n = (int64_t)max;
	if (read_one(h->t->pid, tuple + h->t->cl.tuple_item, out, (size_t)n * 8, &h->st.reads))
		return 0;
	return (size_t)n;
}

/* The locals of one frame whose code object is `code`. */
static void frame_locals(struct census_heap *h, uint64_t frame, uint64_t code)
{
	const struct census_target *t = h->t;
	const struct census_layout *cl = &t->cl;
	uint8_t head[CODE_HEAD];
	uint64_t names[MAX_LOCALS], values[MAX_LOCALS];
	size_t n = 0;
	if (read_one(t->pid, code, head, sizeof(head), &h->st.reads) ||
	    read_u64(head, 8) != t->code_type)
		return;
	if (cl->co_nlocalsplus != PY_NONE) {
		int32_t nplus;
		memcpy(&nplus, head + cl->co_nlocalsplus, sizeof(nplus));
		n = tuple_items(h, read_u64(head, cl->co_localsplusnames), names, MAX_LOCALS);
		if (nplus >= 0 && (size_t)nplus < n)
			n = (size_t)nplus;
	} else {
		/* locals, then cell variables, then free variables */
		int32_t nlocals;
		memcpy(&nlocals, head + cl->co_nlocals, sizeof(nlocals));
		n = tuple_items(h, read_u64(head, cl->co_localsplusnames), names, MAX_LOCALS);
		if (nlocals >= 0 && (size_t)nlocals < n)
			n = (size_t)nlocals;
		n += tuple_items(h, read_u64(head, cl->co_cellvars), names + n, MAX_LOCALS - n);
		n += tuple_items(h, read_u64(head, cl->co_freevars), names + n, MAX_LOCALS - n);
	}
	if (!n || read_one(t->pid, frame + cl->fr_localsplus, values, n * 8, &h->st.reads))
		return;
	uint64_t qual = t->pl.co_qualname != PY_NONE ? read_u64(head, t->pl.co_qualname) : 0;
	const char *func = qual ? census_pystr(h, qual) : NULL;
	if (!func)
		func = census_pystr(h, read_u64(head, t->pl.co_name));
	uint64_t globals = field(h, frame, cl->fr_globals);
	for (size_t i = 0; i < n; i++) {
		if (!values[i])
			continue;
		uint32_t obj = census_obj(h, values[i], CO_SEED);
		const char *var = census_pystr(h, names[i]);
		if (obj == CT_NONE)
			continue;
		h->st.seeds++;
		struct croot r = {.obj = obj,
				  .func = func ? func : "?",
				  .var = var ? var : "?",
				  .globals = globals};
		census_root(h, &r);
	}
}

void census_frames(struct census_heap *h)
{
	const struct census_target *t = h->t;
	const struct py_layout *pl = &t->pl;
	uint64_t interp = census_interp(t);
	uint64_t threads[MAX_THREADS], frames[MAX_FRAMES];
	size_t nt = 0;
	for (uint64_t ts = interp ? field(h, interp, pl->interp_threads) : 0;
	     ts && nt < MAX_THREADS; ts = field(h, ts, pl->ts_next))
		threads[nt++] = ts;
	/* the oldest thread (the main one) and the outermost frames first:
	 * their locals name holders best ("__main__.main:q") */
	while (nt--) {
		size_t nf = 0;
		uint64_t f = field(h, threads[nt], pl->ts_frame);
		if (f && pl->cframe_frame != PY_NONE)
			f = field(h, f, pl->cframe_frame);
		for (; f && nf < MAX_FRAMES; f = field(h, f, pl->fr_prev)) {
			if (pl->fr_owner != PY_NONE && pl->owner_cstack != 0xff) {
				uint8_t owner;
				if (read_one(t->pid, f + pl->fr_owner, &owner, 1, &h->st.reads))
					break;
				if (owner == pl->owner_cstack)
					continue; /* an entry shim owned by the C stack */
			}
			frames[nf++] = f;
		}
		while (nf--)
			frame_locals(h, frames[nf], field(h, frames[nf], pl->fr_code));
	}
}
