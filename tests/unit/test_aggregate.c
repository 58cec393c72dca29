// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/account/aggregate.c: the address and stack tables, their bounds. */
#include <stdlib.h>
#include "unit.h"
#include "account/aggregate.h"

/* An allocation of size bytes at addr by the stack {ip} (no Python). */
static struct agg_alloc at(uint64_t addr, uint64_t size, const uint64_t *ip, uint64_t ts_ns)
{
	return (struct agg_alloc){
	    .addr = addr, .size = size, .ts_ns = ts_ns, .ips = ip, .n_native = 1};
}

/* agg_alloc of at(...). */
static void put(struct aggregate *a, uint64_t addr, uint64_t size, const uint64_t *ip,
		uint64_t ts_ns)
{
	struct agg_alloc al = at(addr, size, ip, ts_ns);
	agg_alloc(a, &al);
}

static uint64_t outstanding(const struct aggregate *a)
{
	struct agg_totals t;
	agg_totals(a, &t);
	return t.out_bytes;
}

/* The stack id holding addr (its block must be live). */
static uint32_t stack_of(const struct aggregate *a, uint64_t addr)
{
	const struct agg_block *b = u64_table_find(&a->blocks, addr);
	return b ? b->stack : UINT32_MAX;
}

static void test_alloc_and_free(void)
{
	struct aggregate a;
	uint64_t ip = 0x401000;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	put(&a, 0x1000, 64, &ip, 5);
	put(&a, 0x2000, 32, &ip, 6);
	CHECK_EQ(outstanding(&a), 96);
	CHECK_EQ(a.blocks.used, 2);
	agg_free_block(&a, 0x1000);
	CHECK_EQ(outstanding(&a), 32);
	CHECK_EQ(a.counts.allocs, 2);
	CHECK_EQ(a.counts.frees, 1);
	CHECK_EQ(a.counts.frees_unknown, 0);
	/* the stack keeps what went through it */
	const struct agg_stack *s = &a.stacks[stack_of(&a, 0x2000)];
	CHECK_EQ(s->alloc_bytes, 96);
	CHECK_EQ(s->alloc_count, 2);
	CHECK_EQ(s->out_count, 1);
	CHECK_EQ(s->first_ns, 5);
	CHECK_EQ(s->last_ns, 6);
	agg_free(&a);
}

static void test_unknown_frees(void)
{
	struct aggregate a;
	uint64_t ip = 0x401000;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	agg_free_block(&a, 0xdead0);
	agg_free_block(&a, 0); /* 0 is the empty slot's mark, never a block */
	CHECK_EQ(a.counts.frees, 2);
	CHECK_EQ(a.counts.frees_unknown, 2);
	put(&a, 0x1000, 64, &ip, 1);
	agg_free_block(&a, 0x1000);
	agg_free_block(&a, 0x1000); /* freed twice: the second is unknown */
	CHECK_EQ(a.counts.frees_unknown, 3);
	CHECK_EQ(outstanding(&a), 0);
	CHECK_EQ(a.blocks.used, 0);
	agg_free(&a);
}

static void test_realloc_forgets_old_block(void)
{
	struct aggregate a;
	uint64_t ip1 = 0x401000, ip2 = 0x402000;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	put(&a, 0x1000, 64, &ip1, 1);
	struct agg_alloc al = at(0x5000, 256, &ip2, 2);
	al.old_addr = 0x1000;
	agg_alloc(&a, &al);
	CHECK_EQ(outstanding(&a), 256);
	CHECK_EQ(a.blocks.used, 1);
	CHECK_EQ(a.stacks[stack_of(&a, 0x5000)].out_bytes, 256);
	/* in place: the same address, a new size */
	al = at(0x5000, 512, &ip2, 3);
	al.old_addr = 0x5000;
	agg_alloc(&a, &al);
	CHECK_EQ(outstanding(&a), 512);
	CHECK_EQ(a.blocks.used, 1);
	/* an allocation at a live address: its free was lost, the old block is gone */
	put(&a, 0x5000, 8, &ip1, 4);
	CHECK_EQ(outstanding(&a), 8);
	CHECK_EQ(a.counts.frees_unknown, 0);
	agg_free(&a);
}

static int resolved;

static void count_resolve(void *ctx, const struct agg_py_frame *f, struct rm_frame *out)
{
	(void)ctx;
	resolved++;
	out->kind = RM_FRAME_PYTHON;
	out->line = (int)f->lasti;
}

static void test_interning(void)
{
	struct aggregate a;
	CHECK_EQ(agg_init(&a, 1000, 100, count_resolve, NULL), 0);
	uint64_t ips[3] = {0x401000, 0x402000, 0x403000};
	struct agg_py_frame py[2] = {{0x7f0000, 10, 0xaa}, {0x7f1000, 20, 0xbb}};
	resolved = 0;
	struct agg_alloc al = {.size = 16, .ips = ips, .n_native = 3, .py = py, .n_py = 2};
	for (uint64_t i = 1; i <= 10; i++) {
		al.addr = i * 0x100;
		agg_alloc(&a, &al);
	}
	uint32_t id = stack_of(&a, 0x100);
	CHECK(id != 0);
	CHECK_EQ(stack_of(&a, 0xa00), id);
	CHECK_EQ(resolved, 2); /* once per frame of a new stack */
	const struct agg_stack *s = &a.stacks[id];
	CHECK_EQ(s->n_native, 3);
	CHECK_EQ(s->n_py, 2);
	CHECK_EQ(s->ips[2], 0x403000);
	CHECK_EQ(s->py[1].tag, 0xbb);
	CHECK_EQ(s->pyres[1].line, 20);
	CHECK_EQ(s->out_count, 10);

	/* another instruction offset, tag, depth or native frame: another stack */
	struct agg_py_frame py2[2] = {{0x7f0000, 11, 0xaa}, {0x7f1000, 20, 0xbb}};
	al.py = py2;
	al.addr = 0x5000;
	agg_alloc(&a, &al);
	CHECK(stack_of(&a, 0x5000) != id);
	py2[0].lasti = 10;
	py2[0].tag = 0xab;
	al.addr = 0x5100;
	agg_alloc(&a, &al);
	CHECK(stack_of(&a, 0x5100) != id && stack_of(&a, 0x5100) != stack_of(&a, 0x5000));
	al.py = py;
	al.n_py = 1;
	al.addr = 0x5200;
	agg_alloc(&a, &al);
	uint32_t shallow = stack_of(&a, 0x5200);
	CHECK(shallow != id);
	al.n_py = 2;
	al.flags = RM_STACK_PY_TRUNC;
	al.addr = 0x5300;
	agg_alloc(&a, &al); /* flags are not identity: the first stack again */
	CHECK_EQ(stack_of(&a, 0x5300), id);
	CHECK_EQ(a.stacks[id].flags, 0);
	al.n_native = 2;
	al.addr = 0x5400;
	agg_alloc(&a, &al);
	CHECK(stack_of(&a, 0x5400) != id);
	CHECK_EQ(a.nstacks - a.nfree, 6); /* the overflow stack and five */
	/* stacks with no native or no Python frames */
	struct agg_alloc bare = {.addr = 0x6000, .size = 1};
	agg_alloc(&a, &bare);
	bare.addr = 0x6100;
	agg_alloc(&a, &bare);
	CHECK_EQ(stack_of(&a, 0x6000), stack_of(&a, 0x6100));
	CHECK(stack_of(&a, 0x6000) != 0);
	agg_free(&a);
}

static void test_address_table_grows(void)
{
	struct aggregate a;
	uint64_t ip = 0x401000;
	CHECK_EQ(agg_init(&a, 1000000, 100, NULL, NULL), 0);
	uint64_t cap = a.blocks.cap;
	uint64_t n = cap; /* past the load limit: the table doubles at least once */
	for (uint64_t i = 1; i <= n; i++) {
		put(&a, i * 16, 1, &ip, i);
	}
	CHECK(a.blocks.cap > cap);
	CHECK_EQ(a.blocks.used, n);
	CHECK_EQ(outstanding(&a), n);
	/* every other one freed: backward-shift deletion keeps the rest findable */
	for (uint64_t i = 1; i <= n; i += 2)
		agg_free_block(&a, i * 16);
	CHECK_EQ(a.counts.frees_unknown, 0);
	for (uint64_t i = 2; i <= n; i += 2)
		agg_free_block(&a, i * 16);
	CHECK_EQ(a.counts.frees_unknown, 0);
	CHECK_EQ(a.blocks.used, 0);
	CHECK_EQ(outstanding(&a), 0);
	agg_free(&a);
}

static void test_max_tracked(void)
{
	struct aggregate a;
	uint64_t ip = 0x401000;
	CHECK_EQ(agg_init(&a, 3, 100, NULL, NULL), 0);
	for (uint64_t i = 1; i <= 5; i++) {
		put(&a, i * 16, 10, &ip, i);
	}
	CHECK_EQ(a.blocks.used, 3);
	CHECK_EQ(a.addr_table_full, 2);
	CHECK_EQ(a.counts.allocs, 5);
	CHECK_EQ(outstanding(&a), 30);
	/* the untracked ones' frees are unknown; room is made by frees */
	agg_free_block(&a, 5 * 16);
	CHECK_EQ(a.counts.frees_unknown, 1);
	agg_free_block(&a, 16);
	put(&a, 6 * 16, 10, &ip, 6);
	CHECK_EQ(a.blocks.used, 3);
	CHECK_EQ(a.addr_table_full, 2);
	struct agg_totals t;
	agg_totals(&a, &t);
	CHECK_EQ(t.addr_table_full, 2);
	CHECK_EQ(t.out_count, 3);
	agg_free(&a);
}

static void test_max_stacks_and_compaction(void)
{
	struct aggregate a;
	/* stack 0 (the overflow stack) counts: 3 real stacks fit */
	CHECK_EQ(agg_init(&a, 1 << 20, 4, NULL, NULL), 0);
	uint64_t ips[8];
	for (int i = 0; i < 8; i++)
		ips[i] = 0x401000 + 0x10 * i;
	for (int i = 0; i < 3; i++) {
		put(&a, 0x1000 * (i + 1), 100, &ips[i], 1);
	}
	CHECK_EQ(a.stack_table_full, 0);
	/* a fourth stack does not fit while every stack holds a block */
	put(&a, 0x9000, 7, &ips[3], 2);
	CHECK_EQ(stack_of(&a, 0x9000), 0);
	CHECK_EQ(a.stack_table_full, 1);
	CHECK_EQ(a.stacks[0].out_bytes, 7);
	CHECK_EQ(outstanding(&a), 307);
	/* a stack that holds nothing: compaction could drop it, but after a
	 * scan that found nothing it waits for 4096 more overflows */
	agg_free_block(&a, 0x1000);
	uint64_t serial = a.stacks[1].serial;
	put(&a, 0x9100, 7, &ips[4], 3);
	CHECK_EQ(stack_of(&a, 0x9100), 0);
	CHECK_EQ(a.stack_table_full, 2);
	for (uint64_t i = 0; a.stack_table_full < 4096; i++) {
		put(&a, 0xa0000 + 16 * i, 1, &ips[5], 4);
		CHECK_EQ(stack_of(&a, 0xa0000 + 16 * i), 0);
	}
	/* then the stack that holds nothing is dropped, its id taken again */
	put(&a, 0xb000, 9, &ips[6], 5);
	uint32_t id = stack_of(&a, 0xb000);
	CHECK_EQ(id, 1);
	CHECK(a.stacks[id].serial != serial);
	CHECK_EQ(a.stacks[id].alloc_bytes, 9);
	CHECK_EQ(a.stacks[id].ips[0], ips[6]);
	CHECK_EQ(a.stack_table_full, 4096);
	CHECK_EQ(a.stacks[0].out_bytes, 7 + 7 + 4094);
	/* the live stacks kept their blocks and ids */
	CHECK_EQ(a.stacks[stack_of(&a, 0x2000)].out_bytes, 100);
	CHECK_EQ(a.stacks[stack_of(&a, 0x3000)].out_bytes, 100);
	CHECK_EQ(agg_compact(&a), 0);
	agg_free(&a);
}

static void test_age_filter(void)
{
	struct aggregate a;
	uint64_t ip1 = 0x401000, ip2 = 0x402000;
	CHECK_EQ(agg_init(&a, 1000, 100, NULL, NULL), 0);
	put(&a, 0x1000, 10, &ip1, 100);
	put(&a, 0x2000, 20, &ip1, 200);
	put(&a, 0x3000, 40, &ip2, 300);
	uint32_t s1 = stack_of(&a, 0x1000), s2 = stack_of(&a, 0x3000);
	uint64_t *bytes = calloc(a.nstacks, sizeof(*bytes));
	uint64_t *count = calloc(a.nstacks, sizeof(*count));
	CHECK(bytes && count);
	agg_outstanding_older(&a, 200, bytes, count); /* at or before 200 */
	CHECK_EQ(bytes[s1], 30);
	CHECK_EQ(count[s1], 2);
	CHECK_EQ(bytes[s2], 0);
	memset(bytes, 0, a.nstacks * sizeof(*bytes));
	memset(count, 0, a.nstacks * sizeof(*count));
	agg_free_block(&a, 0x1000);
	agg_outstanding_older(&a, 1000, bytes, count);
	CHECK_EQ(bytes[s1], 20);
	CHECK_EQ(count[s1], 1);
	CHECK_EQ(bytes[s2], 40);
	free(bytes);
	free(count);
	agg_free(&a);
}

int main(void)
{
	RUN(test_alloc_and_free);
	RUN(test_unknown_frees);
	RUN(test_realloc_forgets_old_block);
	RUN(test_interning);
	RUN(test_address_table_grows);
	RUN(test_max_tracked);
	RUN(test_max_stacks_and_compaction);
	RUN(test_age_filter);
	return unit_done();
}
