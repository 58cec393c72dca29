// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pure parts of `leakbpf objects`: the unreachable computation on
 * synthetic graphs, the address map, the per-version layouts,
 * batched reads of this process's own memory, and the JSON and table
 * outputs read back. */
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "out/objects.h"
#include "python/census_addrmap.h"
#include "python/census_layout.h"
#include "python/census_read.h"
#include "python/census_unreachable.h"
#include "util/json.h"

/* A graph: objects with reference counts, edges given as (from, role, to). */
struct graph {
	struct cobj objs[16];
	uint32_t edges[64];
	size_t n, nedges;
};

static uint32_t add_obj(struct graph *g, int64_t refcnt, uint8_t flags)
{
	struct cobj *o = &g->objs[g->n];
	memset(o, 0, sizeof(*o));
	o->addr = 0x1000 * (g->n + 1);
	o->refcnt = refcnt;
	o->flags = flags | CO_READ | CO_DONE;
	return (uint32_t)g->n++;
}

/* Edges must be added object by object, in order. */
static void add_edge(struct graph *g, uint32_t from, enum crole role, uint32_t to)
{
	struct cobj *o = &g->objs[from];
	if (!o->nedges)
		o->edge_lo = (uint32_t)g->nedges;
	g->edges[g->nedges++] = CE_MAKE(role, to);
	o->nedges++;
}

static size_t unreachable(struct graph *g, uint8_t *mark, uint64_t *inconsistent)
{
	*inconsistent = 0;
	return census_find_unreachable(g->objs, g->n, g->edges, mark, inconsistent);
}

static void test_cycle_alone_is_garbage(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* parent -> list -> child -> parent, each referenced once */
	uint32_t parent = add_obj(&g, 1, CO_GC), list = add_obj(&g, 1, CO_GC),
		 child = add_obj(&g, 1, CO_GC);
	add_edge(&g, parent, CR_ITEM, list);
	add_edge(&g, list, CR_ITEM, child);
	add_edge(&g, child, CR_ITEM, parent);
	CHECK_EQ(unreachable(&g, mark, &bad), 3);
	CHECK(mark[parent] && mark[list] && mark[child]);
	CHECK_EQ(bad, 0);
}

static void test_outside_reference_keeps_cycle(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* the same cycle, and one more reference to the list from outside */
	uint32_t parent = add_obj(&g, 1, CO_GC), list = add_obj(&g, 2, CO_GC),
		 child = add_obj(&g, 1, CO_GC);
	add_edge(&g, parent, CR_ITEM, list);
	add_edge(&g, list, CR_ITEM, child);
	add_edge(&g, child, CR_ITEM, parent);
	CHECK_EQ(unreachable(&g, mark, &bad), 0);
}

static void test_garbage_beside_live_objects(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* a live dict (referenced from outside) holding a, a <-> b garbage */
	uint32_t live = add_obj(&g, 1, CO_GC), held = add_obj(&g, 1, CO_GC);
	uint32_t a = add_obj(&g, 1, CO_GC), b = add_obj(&g, 1, CO_GC);
	add_edge(&g, live, CR_KEY, held);
	add_edge(&g, a, CR_ITEM, b);
	add_edge(&g, b, CR_ITEM, a);
	CHECK_EQ(unreachable(&g, mark, &bad), 2);
	CHECK(!mark[live] && !mark[held] && mark[a] && mark[b]);
}

static void test_opaque_objects_are_roots(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* an object of an unknown C type holds the cycle: never garbage */
	uint32_t opaque = add_obj(&g, 1, CO_GC | CO_OPAQUE);
	uint32_t a = add_obj(&g, 2, CO_GC), b = add_obj(&g, 1, CO_GC);
	add_edge(&g, opaque, CR_ITEM, a);
	add_edge(&g, a, CR_ITEM, b);
	add_edge(&g, b, CR_ITEM, a);
	add_edge(&g, b, CR_ITEM, opaque);
	CHECK_EQ(unreachable(&g, mark, &bad), 0);
	/* nor are a frame's locals, torn or immortal objects */
	static const uint8_t roots[] = {CO_SEED, CO_TORN, CO_IMMORTAL};
	for (size_t i = 0; i < sizeof(roots); i++) {
		struct graph h = {0};
		uint32_t x = add_obj(&h, 1, CO_GC | roots[i]), y = add_obj(&h, 1, CO_GC);
		add_edge(&h, x, CR_ITEM, y);
		add_edge(&h, y, CR_ITEM, x);
		CHECK_EQ(unreachable(&h, mark, &bad), 0);
	}
}

static void test_only_owned_references_count(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* a shared key names a value: it is no reference the holder owns */
	uint32_t inst = add_obj(&g, 1, CO_GC), name = add_obj(&g, 1, CO_GC),
		 val = add_obj(&g, 1, CO_GC);
	add_edge(&g, inst, CR_NAME, name);
	add_edge(&g, inst, CR_ITEM, val);
	add_edge(&g, val, CR_ITEM, inst);
	CHECK_EQ(unreachable(&g, mark, &bad), 2);
	CHECK(!mark[name] && mark[inst] && mark[val]);
}

static void test_untracked_holders_are_outside(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* a reference from an object the collector does not track (an untracked
	 * tuple, a slice) is an outside reference, as for CPython's collector */
	uint32_t untracked = add_obj(&g, 1, 0);
	uint32_t a = add_obj(&g, 2, CO_GC), b = add_obj(&g, 1, CO_GC);
	add_edge(&g, untracked, CR_ITEM, a);
	add_edge(&g, a, CR_ITEM, b);
	add_edge(&g, b, CR_ITEM, a);
	CHECK_EQ(unreachable(&g, mark, &bad), 0);
}

static void test_torn_counts_are_roots(void)
{
	struct graph g = {0};
	uint8_t mark[16];
	uint64_t bad;
	/* referenced twice by the census but counted once: read while changing */
	uint32_t a = add_obj(&g, 1, CO_GC), b = add_obj(&g, 1, CO_GC), c = add_obj(&g, 1, CO_GC);
	add_edge(&g, a, CR_ITEM, c);
	add_edge(&g, b, CR_ITEM, c);
	add_edge(&g, c, CR_ITEM, a);
	CHECK_EQ(unreachable(&g, mark, &bad), 0);
	CHECK_EQ(bad, 1);
}

static void test_addrmap(void)
{
	struct addrmap m = {0};
	for (uint32_t i = 1; i <= 5000; i++)
		CHECK_EQ(addrmap_put(&m, (uint64_t)i * 16, i), 0);
	CHECK_EQ(m.table.used, 5000);
	CHECK_EQ(addrmap_get(&m, 16 * 4321), 4321);
	CHECK_EQ(addrmap_get(&m, 8), ADDRMAP_NONE);
	CHECK_EQ(addrmap_put(&m, 0, 1), -1);
	addrmap_put(&m, 16, 77);
	CHECK_EQ(addrmap_get(&m, 16), 77);
	CHECK_EQ(m.table.used, 5000);
	addrmap_clear(&m);
	CHECK_EQ(addrmap_get(&m, 16 * 4321), ADDRMAP_NONE);
	addrmap_free(&m);
}

static void test_layouts(void)
{
	CHECK(census_layout_find(7) == NULL);
	CHECK(census_layout_find(14) == NULL);
	for (int minor = 8; minor <= 13; minor++) {
		const struct census_layout *cl = census_layout_find(minor);
		CHECK(cl && cl->minor == minor);
		/* one way to size dict keys per version */
		CHECK((cl->dk_size == PY_NONE) == (minor >= 11));
		CHECK((cl->dv_capacity == PY_NONE) == (minor < 13));
	}
	CHECK(census_layout_find(8)->gc_in_runtime && !census_layout_find(9)->gc_in_runtime);
}

static void test_debug_offsets(void)
{
	uint64_t w[PY_DEBUG_OFFSETS_SIZE / 8] = {0};
	struct census_layout cl = *census_layout_find(13);
	char err[200];
	CHECK_EQ(census_layout_from_debug_offsets(w, sizeof(w), &cl, err, sizeof(err)), -1);
	memcpy(w, "xdebugpy", 8);
	for (size_t i = 3; i < sizeof(w) / 8; i++)
		w[i] = 8 * i;
	w[5] = 632;   /* runtime_state.interpreters_head */
	w[10] = 7400; /* interpreter_state.gc */
	w[70] = 40;   /* unicode_object.asciiobject_size */
	CHECK_EQ(census_layout_from_debug_offsets(w, sizeof(w), &cl, err, sizeof(err)), 0);
	CHECK_EQ(cl.gc_state, 7400);
	CHECK_EQ(cl.rt_interp_main, 640);
	CHECK_EQ(cl.list_item, 8 * 54);
	CHECK_EQ(cl.str_compact_size, 56);
	w[57] = 1u << 20; /* an offset no struct has */
	CHECK_EQ(census_layout_from_debug_offsets(w, sizeof(w), &cl, err, sizeof(err)), -1);
	CHECK(strstr(err, "ma_keys") != NULL);
}

static void test_batched_reads(void)
{
	/* this process's own memory: a request in the middle that cannot be
	 * read does not stop the ones after it */
	static char page_a[64] = "first", page_b[64] = "third";
	char a[8] = {0}, b[8] = {0}, c[8] = {0};
	struct read_req reqs[3] = {
	    {.addr = (uintptr_t)page_a, .dst = a, .len = 6},
	    {.addr = 16, .dst = b, .len = 8},
	    {.addr = (uintptr_t)page_b, .dst = c, .len = 6},
	};
	struct read_stats st = {0};
	read_batch(getpid(), reqs, 3, &st);
	CHECK(reqs[0].ok && !reqs[1].ok && reqs[2].ok);
	CHECK_STR(a, "first");
	CHECK_STR(c, "third");
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.requests, 3);
	/* the block cache, across a block boundary */
	char *big = aligned_alloc(READ_BLOCK, 2 * READ_BLOCK);
	for (int i = 0; i < 2 * READ_BLOCK; i++)
		big[i] = (char)(i * 7);
	struct read_cache cache;
	CHECK_EQ(read_cache_init(&cache, getpid(), 4 * READ_BLOCK, &st), 0);
	char got[32];
	CHECK_EQ(read_cached(&cache, (uintptr_t)big + READ_BLOCK - 16, got, sizeof(got)), 0);
	CHECK(!memcmp(got, big + READ_BLOCK - 16, sizeof(got)));
	CHECK_EQ(read_cached(&cache, (uintptr_t)big + 8, got, 8), 0);
	CHECK_EQ(cache.misses, 2);
	CHECK_EQ(cache.hits, 1);
	CHECK_EQ(read_cached(&cache, 16, got, 8), -1);
	read_cache_free(&cache);
	free(big);
}

static struct obj_report sample_report(struct obj_census *c, struct obj_type_row *t,
				       struct obj_holder *h, struct obj_unreachable_type *u)
{
	*c = (struct obj_census){.time = 1700000000.5,
				 .duration_s = 0.25,
				 .rss = 1 << 24,
				 .objects = 1234567,
				 .gc_objects = 1000,
				 .bytes = 99999};
	t[0] = (struct obj_type_row){.type = "__main__.Session",
				     .count = 1234567,
				     .bytes = 77777,
				     .count_growth = 1000,
				     .bytes_growth = 56000};
	t[1] = (struct obj_type_row){
	    .type = "ev\\x1bil", .count = 3, .bytes = 90, .count_growth = -2, .bytes_growth = -60};
	*h = (struct obj_holder){.path = "__main__._REGISTRY",
				 .container = "dict",
				 .addr = 0x7f0012345678,
				 .items = 1000,
				 .items_growth = 1000,
				 .new_container = true,
				 .growing_items = 1000,
				 .nitem_types = 1};
	h->item_types[0].type = "__main__.Session";
	h->item_types[0].count = 1000;
	*u = (struct obj_unreachable_type){.type = "__main__.Parent", .count = 50, .bytes = 2800};
	return (struct obj_report){
	    .pid = 42,
	    .comm = "python3",
	    .python = "CPython 3.11.2",
	    .leakbpf_version = "test",
	    .censuses = c,
	    .ncensuses = 1,
	    .types = t,
	    .ntypes = 2,
	    .holders = h,
	    .nholders = 1,
	    .unreachable = {.computed = true, .count = 50, .bytes = 2800, .types = u, .ntypes = 1},
	    .gc = {.known = true, .enabled = false, .thresholds = {700, 10, 10}},
	};
}

static void test_json_reads_back(void)
{
	struct obj_census c;
	struct obj_type_row t[2];
	struct obj_holder h;
	struct obj_unreachable_type u;
	struct obj_report r = sample_report(&c, t, &h, &u);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK_EQ(objects_json_write(&r, f), 0);
	fclose(f);
	struct jr jr;
	jr_init(&jr, buf, len);
	CHECK(jr_object(&jr));
	const char *k;
	int seen = 0;
	while ((k = jr_key(&jr))) {
		if (!strcmp(k, "schema")) {
			CHECK_STR(jr_string(&jr), "leakbpf/objects/v1");
			seen |= 1;
		} else if (!strcmp(k, "types")) {
			CHECK(jr_array(&jr));
			CHECK(jr_next(&jr));
			CHECK(jr_object(&jr));
			while ((k = jr_key(&jr))) {
				if (!strcmp(k, "type"))
					CHECK_STR(jr_string(&jr), "__main__.Session");
				else if (!strcmp(k, "count"))
					CHECK(jr_uint(&jr) == 1234567);
				else
					jr_skip(&jr);
			}
			while (jr_next(&jr))
				jr_skip(&jr);
			seen |= 2;
		} else if (!strcmp(k, "holders")) {
			CHECK(jr_array(&jr));
			CHECK(jr_next(&jr));
			CHECK(jr_object(&jr));
			while ((k = jr_key(&jr))) {
				if (!strcmp(k, "path"))
					CHECK_STR(jr_string(&jr), "__main__._REGISTRY");
				else if (!strcmp(k, "item_types")) {
					CHECK(jr_object(&jr));
					CHECK_STR(jr_key(&jr), "__main__.Session");
					CHECK_EQ(jr_uint(&jr), 1000);
					CHECK(!jr_key(&jr));
				} else
					jr_skip(&jr);
			}
			CHECK(!jr_next(&jr));
			seen |= 4;
		} else if (!strcmp(k, "unreachable")) {
			CHECK(jr_object(&jr));
			while ((k = jr_key(&jr))) {
				if (!strcmp(k, "types")) {
					CHECK(jr_object(&jr));
					CHECK_STR(jr_key(&jr), "__main__.Parent");
					CHECK_EQ(jr_uint(&jr), 50);
					CHECK(!jr_key(&jr));
				} else {
					jr_skip(&jr);
				}
			}
			seen |= 8;
		} else if (!strcmp(k, "gc")) {
			CHECK(jr_object(&jr));
			CHECK_STR(jr_key(&jr), "enabled");
			CHECK(!jr_bool(&jr));
			while (jr_key(&jr))
				jr_skip(&jr);
			seen |= 16;
		} else {
			jr_skip(&jr);
		}
	}
	CHECK(jr_end(&jr));
	CHECK(!jr_failed(&jr));
	CHECK_EQ(seen, 31);
	jr_fini(&jr);
	free(buf);
}

static void test_table(void)
{
	struct obj_census c;
	struct obj_type_row t[2];
	struct obj_holder h;
	struct obj_unreachable_type u;
	struct obj_report r = sample_report(&c, t, &h, &u);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK_EQ(objects_table_write(&r, f, 10), 0);
	fclose(f);
	CHECK(strstr(buf, "1,234,567") != NULL);
	CHECK(strstr(buf, "__main__.Session") != NULL);
	CHECK(strstr(buf, "DISABLED") != NULL);
	CHECK(strstr(buf, "__main__.Parent") != NULL);
	/* one census: no growth columns, no holders yet */
	CHECK(strstr(buf, "since first") == NULL);
	free(buf);
	r.ncensuses = 2;
	struct obj_census two[2] = {c, c};
	r.censuses = two;
	buf = NULL;
	f = open_memstream(&buf, &len);
	objects_table_write(&r, f, 1);
	fclose(f);
	CHECK(strstr(buf, "+1,000") != NULL);
	CHECK(strstr(buf, "__main__._REGISTRY") != NULL);
	CHECK(strstr(buf, "1 more types") != NULL);
	free(buf);
}

int main(void)
{
	RUN(test_cycle_alone_is_garbage);
	RUN(test_outside_reference_keeps_cycle);
	RUN(test_garbage_beside_live_objects);
	RUN(test_opaque_objects_are_roots);
	RUN(test_only_owned_references_count);
	RUN(test_untracked_holders_are_outside);
	RUN(test_torn_counts_are_roots);
	RUN(test_addrmap);
	RUN(test_layouts);
	RUN(test_debug_offsets);
	RUN(test_batched_reads);
	RUN(test_json_reads_back);
	RUN(test_table);
	return unit_done();
}
