// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/account/intake.c: BPF records, well-formed and not, decoded. */
#include <stdlib.h>
#include "unit.h"
#include "account/intake.h"

/* A record as the BPF programs send it (8-byte aligned), len bytes. */
struct rec {
	union {
		struct lb_hdr h;
		struct lb_alloc_event e;
		uint64_t w[sizeof(struct lb_alloc_event) / 8];
	};
	size_t len;
};

/* An allocation record with n native frames 0x401000 + i and p Python
 * frames (code 0x7f0000 + 0x100 i, lasti 2 i, tag 0xc0de0000 + i). */
static void alloc_record(struct rec *r, uint64_t addr, unsigned n, unsigned p, uint8_t flags)
{
	struct lb_alloc_event *e = &r->e;
	memset(r, 0xee, sizeof(*r)); /* bytes past the record are not read */
	e->h.type = LB_EV_ALLOC;
	e->h.n_native = (uint8_t)n;
	e->h.n_py = (uint8_t)p;
	e->h.flags = flags;
	e->h.addr = addr;
	e->ts_ns = 123456789;
	e->size = 48;
	e->old_addr = 0x9000;
	for (unsigned i = 0; i < n; i++)
		e->ips[i] = 0x401000 + i;
	for (unsigned i = 0; i < p; i++) {
		struct lb_py_frame f = {0x7f0000 + 0x100 * i, 2 * i, 0xc0de0000 + i};
		memcpy(&e->words[n + 2 * i], &f, sizeof(f));
	}
	e->h.n_inner = 0;
	r->len = LB_ALLOC_LEN(n, p, 0);
}

/* Append an inner block (struct lb_inner) to an allocation record. */
static void add_inner(struct rec *r, uint64_t addr, uint64_t old, uint64_t size, uint64_t ip)
{
	struct lb_alloc_event *e = &r->e;
	struct lb_inner in = {addr, old, size, ip};
	unsigned at = e->h.n_native + 2u * e->h.n_py + 4u * e->h.n_inner;
	memcpy(&e->words[at], &in, sizeof(in));
	e->h.n_inner++;
	r->len = LB_ALLOC_LEN(e->h.n_native, e->h.n_py, e->h.n_inner);
}

static void test_alloc_with_frames(void)
{
	struct rec r;
	struct intake_event ev;
	alloc_record(&r, 0x1000, 3, 2, LB_F_PY_TRUNC | LB_F_NATIVE_TRUNC);
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.type, LB_EV_ALLOC);
	const struct agg_alloc *al = &ev.alloc;
	CHECK_EQ(al->addr, 0x1000);
	CHECK_EQ(al->old_addr, 0x9000);
	CHECK_EQ(al->size, 48);
	CHECK_EQ(al->ts_ns, 123456789);
	CHECK_EQ(al->n_native, 3);
	CHECK_EQ(al->n_py, 2);
	CHECK_EQ(al->ips[0], 0x401000);
	CHECK_EQ(al->ips[2], 0x401002);
	CHECK_EQ(al->py[0].code, 0x7f0000);
	CHECK_EQ(al->py[1].code, 0x7f0100);
	CHECK_EQ(al->py[1].lasti, 2);
	CHECK_EQ(al->py[1].tag, 0xc0de0001);
	CHECK_EQ(al->flags, RM_STACK_PY_TRUNC | RM_STACK_NATIVE_TRUNC);

	/* not 8-byte aligned (ring buffer records always are): the same */
	static char odd[sizeof(r) + 1];
	memcpy(odd + 1, r.w, r.len);
	struct intake_event ev2;
	CHECK_EQ(intake_decode(odd + 1, r.len, &ev2), 0);
	CHECK(ev2.alloc.ips == ev2.ips && ev2.alloc.py == ev2.py);
	CHECK_EQ(ev2.alloc.ips[2], 0x401002);
	CHECK_EQ(ev2.alloc.py[1].tag, 0xc0de0001);
	CHECK_EQ(ev2.alloc.py[1].lasti, 2);

	/* the largest record there is, and one without frames */
	alloc_record(&r, 0x2000, LB_MAX_NATIVE, LB_MAX_PY, LB_F_PY_ERR);
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.alloc.ips[LB_MAX_NATIVE - 1], 0x401000 + LB_MAX_NATIVE - 1);
	CHECK_EQ(ev.alloc.py[LB_MAX_PY - 1].tag, 0xc0de0000 + LB_MAX_PY - 1);
	CHECK_EQ(ev.alloc.flags, RM_STACK_PY_MISSING);
	alloc_record(&r, 0x3000, 0, 0, 0);
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.alloc.n_native + ev.alloc.n_py, 0);
	/* reserved records come at sizeof, longer than their frames */
	alloc_record(&r, 0x4000, 2, 0, 0);
	CHECK_EQ(intake_decode(r.w, sizeof(struct lb_alloc_event), &ev), 0);
	CHECK_EQ(ev.alloc.ips[1], 0x401001);
}

/* Blocks of nested allocator calls that are not the outer call's own:
 * allocations of their own, under the record's stack with the inner
 * call's return address innermost. */
static void test_inner_blocks(void)
{
	struct rec r;
	struct intake_event ev;
	struct agg_alloc al;
	alloc_record(&r, 0x1000, 3, 1, 0);
	add_inner(&r, 0x7000, 0, 4096, 0x555000);
	add_inner(&r, 0, 0x8000, 0, 0x555100); /* only freed a block */
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.alloc.addr, 0x1000);
	CHECK_EQ(ev.n_inner, 2);
	intake_inner(&ev, 0, &al);
	CHECK_EQ(al.addr, 0x7000);
	CHECK_EQ(al.old_addr, 0);
	CHECK_EQ(al.size, 4096);
	CHECK_EQ(al.ts_ns, 123456789);
	CHECK_EQ(al.n_native, 4);
	CHECK_EQ(al.ips[0], 0x555000);
	CHECK_EQ(al.ips[1], 0x401000);
	CHECK_EQ(al.ips[3], 0x401002);
	CHECK_EQ(al.n_py, 1);
	CHECK_EQ(al.py[0].code, 0x7f0000);
	intake_inner(&ev, 1, &al);
	CHECK_EQ(al.addr, 0);
	CHECK_EQ(al.old_addr, 0x8000);
	/* truncated inside the inner blocks */
	for (size_t len = LB_ALLOC_LEN(3, 1, 0); len < r.len; len++)
		CHECK_EQ(intake_decode(r.w, len, &ev), -1);
	r.h.n_inner = LB_MAX_INNER + 1;
	CHECK_EQ(intake_decode(r.w, sizeof(r.w), &ev), -1);

	/* the outer call made no block of its own: only its inner blocks */
	alloc_record(&r, 0, LB_MAX_NATIVE, 0, LB_F_NATIVE_TRUNC);
	r.e.old_addr = 0;
	add_inner(&r, 0x9000, 0, 32, 0x555200);
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.alloc.addr, 0);
	intake_inner(&ev, 0, &al);
	/* a full stack loses its outermost frame to the inner call's */
	CHECK_EQ(al.n_native, LB_MAX_NATIVE);
	CHECK_EQ(al.ips[0], 0x555200);
	CHECK_EQ(al.ips[LB_MAX_NATIVE - 1], 0x401000 + LB_MAX_NATIVE - 2);
	CHECK(al.flags & RM_STACK_NATIVE_TRUNC);

	/* into the aggregate: the outer block, the inner one, the freed one */
	struct aggregate a;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	struct intake in = {.agg = &a};
	alloc_record(&r, 0x8000, 1, 0, 0);
	r.e.old_addr = 0;
	CHECK_EQ(intake_record(&in, r.w, r.len), 0);
	alloc_record(&r, 0x1000, 2, 0, 0);
	r.e.old_addr = 0;
	add_inner(&r, 0x7000, 0, 4096, 0x555000);
	add_inner(&r, 0, 0x8000, 0, 0x555100);
	CHECK_EQ(intake_record(&in, r.w, r.len), 0);
	CHECK_EQ(in.malformed, 0);
	CHECK_EQ(a.counts.allocs, 3);
	CHECK_EQ(a.counts.frees, 1);
	CHECK_EQ(a.blocks.used, 2);
	struct agg_totals t;
	agg_totals(&a, &t);
	CHECK_EQ(t.out_bytes, 48 + 4096);
	agg_free(&a);
}

static void test_free_records(void)
{
	struct intake_event ev;
	struct lb_free_event f = {.h = {.type = LB_EV_FREE, .addr = 0x1234}};
	CHECK_EQ(intake_decode(&f, sizeof(f), &ev), 0);
	CHECK_EQ(ev.type, LB_EV_FREE);
	CHECK_EQ(ev.addr, 0x1234);
	/* a realloc to size 0 frees its block in an allocation-sized record */
	struct rec r;
	alloc_record(&r, 0x5000, 0, 0, 0);
	r.h.type = LB_EV_FREE;
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.type, LB_EV_FREE);
	CHECK_EQ(ev.addr, 0x5000);
}

static void test_malformed_rejected(void)
{
	struct rec r;
	struct intake_event ev;
	alloc_record(&r, 0x1000, 3, 2, 0);
	/* truncated anywhere: header, head, native or Python frames */
	for (size_t len = 0; len < r.len; len++)
		CHECK_EQ(intake_decode(r.w, len, &ev), -1);
	struct lb_hdr *h = &r.h;
	h->n_native = LB_MAX_NATIVE + 1;
	CHECK_EQ(intake_decode(r.w, sizeof(r.w), &ev), -1);
	h->n_native = 3;
	h->n_py = LB_MAX_PY + 1;
	CHECK_EQ(intake_decode(r.w, sizeof(r.w), &ev), -1);
	h->n_py = 2;
	h->type = 0;
	CHECK_EQ(intake_decode(r.w, r.len, &ev), -1);
	h->type = 200; /* no such type */
	CHECK_EQ(intake_decode(r.w, r.len, &ev), -1);
	h->type = LB_EV_ALLOC;
	h->addr = 0; /* an allocation at 0 would be the aggregate's empty slot */
	CHECK_EQ(intake_decode(r.w, r.len, &ev), -1);
	struct lb_free_event f = {.h = {.type = LB_EV_FREE, .addr = 1}};
	CHECK_EQ(intake_decode(&f, sizeof(f) - 1, &ev), -1);
}

/* Growth mode: a page record is an allocation record whose old_addr is the
 * thread's stack pointer and whose h.pad is the process. */
static void test_page_records(void)
{
	struct rec r;
	struct intake_event ev;
	alloc_record(&r, 0x7f0000001000, 2, 1, LB_F_KERNEL);
	r.e.h.type = LB_EV_PAGE;
	r.e.h.pad = 4242;
	r.e.old_addr = 0x7ffd0000;
	CHECK_EQ(intake_decode(r.w, r.len, &ev), 0);
	CHECK_EQ(ev.type, LB_EV_PAGE);
	CHECK_EQ(ev.tgid, 4242);
	CHECK_EQ(ev.sp, 0x7ffd0000);
	CHECK(ev.kernel);
	CHECK_EQ(ev.alloc.addr, 0x7f0000001000);
	CHECK_EQ(ev.alloc.old_addr, 0); /* not a block that died */
	CHECK_EQ(ev.alloc.n_native, 2);
	CHECK_EQ(ev.alloc.n_py, 1);
	CHECK_EQ(ev.alloc.flags, 0);
}

static void test_range_records(void)
{
	struct lb_range_event rr = {
	    .h = {.type = LB_EV_RELEASE, .pad = 77, .addr = 0x10000},
	    .ts_ns = 5,
	    .args = {0x3000, 4, 0, 0},
	    .nr = 28,
	};
	struct intake_event ev;
	CHECK_EQ(intake_decode(&rr, sizeof(rr), &ev), 0);
	CHECK_EQ(ev.type, LB_EV_RELEASE);
	CHECK_EQ(ev.range.type, LB_EV_RELEASE);
	CHECK_EQ(ev.range.tgid, 77);
	CHECK_EQ(ev.range.nr, 28);
	CHECK_EQ(ev.range.ts_ns, 5);
	CHECK_EQ(ev.range.args[0], 0x10000);
	CHECK_EQ(ev.range.args[1], 0x3000);
	CHECK_EQ(ev.range.args[2], 4);
	CHECK_EQ(intake_decode(&rr, sizeof(rr) - 1, &ev), -1);
	rr.h.type = LB_EV_EXIT;
	CHECK_EQ(intake_decode(&rr, sizeof(rr), &ev), 0);
	CHECK_EQ(ev.range.type, LB_EV_EXIT);
}

static int pages_seen, ranges_seen;

static void page_sink(void *ctx, struct intake_event *ev)
{
	(void)ctx;
	pages_seen += ev->type == LB_EV_PAGE;
}

static void range_sink(void *ctx, const struct intake_range *r)
{
	(void)ctx;
	ranges_seen += r->type == LB_EV_MOVE;
}

/* Page and range records go to the growth mode's sinks, and count as
 * malformed when there are none (the exact mode sends none). */
static void test_growth_records_reach_their_sinks(void)
{
	struct aggregate a;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	struct intake in = {.agg = &a};
	struct rec r;
	alloc_record(&r, 0x1000, 1, 0, 0);
	r.e.h.type = LB_EV_PAGE;
	struct lb_range_event rr = {.h = {.type = LB_EV_MOVE, .addr = 0x1000}};
	CHECK_EQ(intake_record(&in, r.w, r.len), 0);
	CHECK_EQ(intake_record(&in, &rr, sizeof(rr)), 0);
	CHECK_EQ(in.malformed, 2);
	in.page = page_sink;
	in.range = range_sink;
	CHECK_EQ(intake_record(&in, r.w, r.len), 0);
	CHECK_EQ(intake_record(&in, &rr, sizeof(rr)), 0);
	CHECK_EQ(in.malformed, 2);
	CHECK_EQ(pages_seen, 1);
	CHECK_EQ(ranges_seen, 1);
	CHECK_EQ(a.counts.allocs, 0); /* pages are the growth mode's to add */
	agg_free(&a);
}

static void test_records_reach_the_aggregate(void)
{
	struct aggregate a;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	struct intake in = {.agg = &a};
	struct rec r;
	alloc_record(&r, 0x1000, 2, 1, 0);
	r.e.old_addr = 0;
	CHECK_EQ(intake_record(&in, r.w, r.len), 0);
	alloc_record(&r, 0x2000, 2, 1, 0);
	CHECK_EQ(intake_record(&in, r.w, r.len - 1), 0); /* malformed: counted only */
	struct lb_free_event f = {.h = {.type = LB_EV_FREE, .addr = 0x1000}};
	CHECK_EQ(intake_record(&in, &f, sizeof(f)), 0);
	CHECK_EQ(in.malformed, 1);
	CHECK_EQ(a.counts.allocs, 1);
	CHECK_EQ(a.counts.frees, 1);
	CHECK_EQ(a.counts.frees_unknown, 0);
	CHECK_EQ(a.blocks.used, 0);
	CHECK_EQ(a.nstacks - a.nfree, 2);
	agg_free(&a);
}

/* Random bytes of every length: decoded or rejected, never read past. */
static void test_garbage_does_not_crash(void)
{
	struct aggregate a;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	struct intake in = {.agg = &a};
	srand(8);
	uint64_t taken = 0;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand() % 256;
		uint8_t *buf = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (len && round % 2)
			buf[0] = (uint8_t)(1 + round % 4); /* often a known type */
		if (len > 2 && round % 3 == 0)
			buf[1] = buf[2] = (uint8_t)(round % 7);
		if (len > 4)
			buf[4] = 0; /* n_inner: one record, one allocation or free */
		intake_record(&in, buf, len);
		free(buf);
	}
	taken = a.counts.allocs + a.counts.frees + in.new_programs + in.code_maps + in.exiting;
	CHECK(in.malformed > 0);
	CHECK(taken > 0);
	CHECK_EQ(in.malformed + taken, 20000);
	agg_free(&a);
}

int main(void)
{
	RUN(test_alloc_with_frames);
	RUN(test_inner_blocks);
	RUN(test_free_records);
	RUN(test_malformed_rejected);
	RUN(test_records_reach_the_aggregate);
	RUN(test_page_records);
	RUN(test_range_records);
	RUN(test_growth_records_reach_their_sinks);
	RUN(test_garbage_does_not_crash);
	return unit_done();
}
