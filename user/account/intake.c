// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* BPF records and counters -> the aggregate and the report model's drops. */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "account/intake.h"

_Static_assert(offsetof(struct lb_alloc_event, ips) == LB_ALLOC_HEAD &&
		   sizeof(struct lb_py_frame) == 16 && sizeof(struct lb_hdr) == 16 &&
		   sizeof(struct lb_inner) == 32,
	       "records as sent: see bpf/records.h");
/* A Python frame as sent is read as the aggregate's, in place. */
_Static_assert(sizeof(struct agg_py_frame) == sizeof(struct lb_py_frame) &&
		   offsetof(struct agg_py_frame, code) == offsetof(struct lb_py_frame, code) &&
		   offsetof(struct agg_py_frame, lasti) == offsetof(struct lb_py_frame, lasti) &&
		   offsetof(struct agg_py_frame, tag) == offsetof(struct lb_py_frame, tag),
	       "struct agg_py_frame is struct lb_py_frame's layout");

static uint32_t stack_flags(uint8_t f)
{
	uint32_t r = 0;
	if (f & LB_F_NATIVE_TRUNC)
		r |= RM_STACK_NATIVE_TRUNC;
	if (f & LB_F_PY_TRUNC)
		r |= RM_STACK_PY_TRUNC;
	if (f & LB_F_PY_ERR)
		r |= RM_STACK_PY_MISSING;
	if (f & LB_F_NATIVE_ANON)
		r |= RM_STACK_NATIVE_ANON;
	if (f & LB_F_NATIVE_STOPPED)
		r |= RM_STACK_NATIVE_STOPPED;
	return r;
}

/* A range record (growth mode). */
static int decode_range(const void *data, size_t size, const struct lb_hdr *h,
			struct intake_range *r)
{
	struct lb_range_event e;
	if (size < sizeof(e))
		return -1;
	memcpy(&e, data, sizeof(e));
	*r = (struct intake_range){
	    .type = h->type,
	    .tgid = h->pad,
	    .nr = e.nr,
	    .ts_ns = e.ts_ns,
	    .args = {h->addr, e.args[0], e.args[1], e.args[2], e.args[3]},
	};
	return 0;
}

int intake_decode(const void *data, size_t size, struct intake_event *ev)
{
	struct lb_hdr h;
	if (size < sizeof(h))
		return -1;
	memcpy(&h, data, sizeof(h));
	ev->type = h.type;
	if (h.type == LB_EV_FREE || h.type == LB_EV_NEW_PROGRAM || h.type == LB_EV_CODE_MAP ||
	    h.type == LB_EV_EXITING || h.type == LB_EV_FORK) {
		ev->addr = h.addr;
		ev->tgid = h.pad; /* LB_EV_FORK: whether the child is held */
		return 0;
	}
	if (h.type >= LB_EV_RELEASE && h.type <= LB_EV_EXIT)
		return decode_range(data, size, &h, &ev->range);
	bool page = h.type == LB_EV_PAGE;
	unsigned n_inner = page ? 0 : h.n_inner;
	if ((h.type != LB_EV_ALLOC && !page) || size < LB_ALLOC_HEAD ||
	    h.n_native > LB_MAX_NATIVE || h.n_py > LB_MAX_PY || n_inner > LB_MAX_INNER ||
	    size < LB_ALLOC_LEN(h.n_native, h.n_py, n_inner) || (!h.addr && !n_inner))
		return -1;
	const char *rec = data;
	uint64_t ts_ns, bytes, old_addr;
	memcpy(&ts_ns, rec + offsetof(struct lb_alloc_event, ts_ns), 8);
	memcpy(&bytes, rec + offsetof(struct lb_alloc_event, size), 8);
	memcpy(&old_addr, rec + offsetof(struct lb_alloc_event, old_addr), 8);
	/* ips[0..n_native), then the Python frames (records.h). Ring buffer
	 * records are 8-byte aligned: read in place; copied otherwise. */
	const char *frames = rec + LB_ALLOC_HEAD;
	const char *pyf = frames + 8u * h.n_native;
	const uint64_t *ips = (const uint64_t *)frames;
	const struct agg_py_frame *py = (const struct agg_py_frame *)pyf;
	if ((uintptr_t)frames % 8) {
		memcpy(ev->ips, frames, 8u * h.n_native);
		memcpy(ev->py, pyf, sizeof(*py) * h.n_py);
		ips = ev->ips;
		py = ev->py;
	}
	ev->n_inner = n_inner;
	memcpy(ev->inner, pyf + sizeof(*py) * h.n_py, sizeof(ev->inner[0]) * n_inner);
	ev->addr = h.addr;
	/* a page record's old_addr is the thread's stack pointer */
	ev->tgid = page ? h.pad : 0;
	ev->sp = page ? old_addr : 0;
	ev->kernel = page && (h.flags & LB_F_KERNEL);
	ev->alloc = (struct agg_alloc){
	    .addr = h.addr,
	    .old_addr = page ? 0 : old_addr,
	    .size = bytes,
	    .ts_ns = ts_ns,
	    .ips = ips,
	    .py = py,
	    .n_native = h.n_native,
	    .n_py = h.n_py,
	    .flags = stack_flags(h.flags),
	};
	return 0;
}

void intake_inner(struct intake_event *ev, unsigned i, struct agg_alloc *out)
{
	const struct agg_alloc *al = &ev->alloc;
	unsigned n = al->n_native < LB_MAX_NATIVE ? al->n_native : LB_MAX_NATIVE - 1;
	ev->inner_ips[0] = ev->inner[i].ip;
	memcpy(ev->inner_ips + 1, al->ips, 8u * n);
	*out = *al;
	out->addr = ev->inner[i].addr;
	out->old_addr = ev->inner[i].old;
	out->size = ev->inner[i].size;
	out->ips = ev->inner_ips;
	out->n_native = (uint16_t)(n + 1);
	if (n < al->n_native)
		out->flags |= RM_STACK_NATIVE_TRUNC;
}

/* An allocation record: the call's own block (or only the block it freed),
 * then each inner block. */
static void made(struct intake *in, const struct agg_alloc *al)
{
	if (in->block)
		in->block(in->windows, al);
	else
		agg_alloc(in->agg, al);
}

static void freed(struct intake *in, uint64_t addr)
{
	if (in->block_freed)
		in->block_freed(in->windows, addr);
	else
		agg_free_block(in->agg, addr);
}

static void take_alloc(struct intake *in, struct intake_event *ev)
{
	if (ev->alloc.addr)
		made(in, &ev->alloc);
	else if (ev->alloc.old_addr)
		freed(in, ev->alloc.old_addr);
	for (unsigned i = 0; i < ev->n_inner; i++) {
		struct agg_alloc al;
		intake_inner(ev, i, &al);
		if (al.addr)
			made(in, &al);
		else if (al.old_addr)
			freed(in, al.old_addr);
	}
}

int intake_record(void *ctx, void *data, size_t size)
{
	struct intake *in = ctx;
	struct intake_event ev;
	if (intake_decode(data, size, &ev)) {
		in->malformed++;
		return 0;
	}
	switch (ev.type) {
	case LB_EV_FREE:
		freed(in, ev.addr);
		break;
	case LB_EV_ALLOC:
		take_alloc(in, &ev);
		break;
	case LB_EV_NEW_PROGRAM:
		in->new_programs++;
		break;
	case LB_EV_CODE_MAP:
		in->code_maps++;
		break;
	case LB_EV_EXITING:
		in->exiting++;
		break;
	case LB_EV_FORK:
		if (in->fork && ev.addr && ev.addr <= UINT32_MAX)
			in->fork(in->fork_ctx, (uint32_t)ev.addr, ev.tgid != 0);
		else
			in->malformed++;
		break;
	case LB_EV_PAGE:
		if (in->page)
			in->page(in->growth, &ev);
		else
			in->malformed++;
		break;
	default:
		if (in->range)
			in->range(in->growth, &ev.range);
		else
			in->malformed++;
		break;
	}
	return 0;
}

void intake_counters_add(int fd, int ncpus, uint64_t *sum)
{
	uint64_t *vals = calloc(ncpus > 0 ? ncpus : 1, sizeof(*vals));
	for (uint32_t k = 0; vals && k < LB_C_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int cpu = 0; cpu < ncpus; cpu++)
			sum[k] += vals[cpu];
	}
	free(vals);
}

void intake_counters(int fd, int ncpus, struct rm_drops *d, struct rm_counts *c)
{
	uint64_t sum[LB_C_MAX] = {0};
	intake_counters_add(fd, ncpus, sum);
	intake_counters_report(sum, d, c);
}

void intake_counters_report(const uint64_t *sum, struct rm_drops *d, struct rm_counts *c)
{
	memset(d, 0, sizeof(*d));
	memset(c, 0, sizeof(*c));
	d->ringbuf_alloc = sum[LB_C_RB_DROP_ALLOC];
	d->ringbuf_free = sum[LB_C_RB_DROP_FREE];
	d->thread_map_full = sum[LB_C_THREAD_FULL];
	d->nest_overflow = sum[LB_C_NEST_OVERFLOW];
	d->stack_errors = sum[LB_C_STACK_ERR];
	d->stacks_truncated = sum[LB_C_STACK_TRUNC];
	d->py_errors = sum[LB_C_PY_ERR];
	d->py_truncated = sum[LB_C_PY_TRUNC];
	d->returns_unmatched = sum[LB_C_RET_UNMATCHED];
	d->ringbuf_page = sum[LB_C_RB_DROP_PAGE];
	d->ringbuf_range = sum[LB_C_RB_DROP_RANGE];
	d->children_unheld = sum[LB_C_FORK_UNHELD];
	d->procs_untraced = sum[LB_C_FORK_LOST];
	c->nested_ignored = sum[LB_C_NESTED_IGNORED];
	c->filtered = sum[LB_C_FILTERED];
}
