// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* account/page_set.c against a plain sorted reference, on random operations. */
#include <stdlib.h>
#include "unit.h"
#include "account/page_set.h"

/* Pages drawn from a few clusters far apart (heap, mmap area, stack,
 * the top of the page number space) so that every level is used. */
static uint64_t draw(unsigned *seed)
{
	static const uint64_t base[] = {0, 0x55550000ULL, 0x7f0000000ULL, (1ULL << 52) - 4096};
	return base[rand_r(seed) % 4] + (uint64_t)(rand_r(seed) % 3000);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The reference: an unsorted array of members. */
struct ref {
	uint64_t v[20000];
	size_t n;
};

static long ref_find(const struct ref *r, uint64_t page)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i] == page)
			return (long)i;
	return -1;
}

static void check_range(const struct page_set *s, const struct ref *r, uint64_t lo, uint64_t hi)
{
	uint64_t *got = NULL;
	size_t n = 0, cap = 0;
	CHECK_EQ(page_set_range(s, lo, hi, &got, &n, &cap), 0);
	static uint64_t want[20000];
	size_t nw = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i] >= lo && r->v[i] < hi)
			want[nw++] = r->v[i];
	qsort(want, nw, sizeof(want[0]), cmp_u64);
	CHECK_EQ(n, nw);
	for (size_t i = 0; i < n && i < nw; i++)
		CHECK_EQ(got[i], want[i]);
	free(got);
}

static void test_random_operations_match_reference(void)
{
	static struct ref r;
	struct page_set s;
	unsigned seed = 12345;
	CHECK_EQ(page_set_init(&s), 0);
	r.n = 0;
	for (int step = 0; step < 40000; step++) {
		uint64_t page = draw(&seed);
		long at = ref_find(&r, page);
		switch (rand_r(&seed) % 4) {
		case 0:
		case 1:
			CHECK_EQ(page_set_add(&s, page), at < 0 ? 1 : 0);
			if (at < 0)
				r.v[r.n++] = page;
			break;
		case 2:
			CHECK_EQ(page_set_del(&s, page), at >= 0);
			if (at >= 0)
				r.v[at] = r.v[--r.n];
			break;
		default:
			CHECK_EQ(page_set_has(&s, page), at >= 0);
		}
		if (step % 2000 == 0) {
			uint64_t a = draw(&seed), b = draw(&seed);
			check_range(&s, &r, a < b ? a : b, a < b ? b : a);
		}
	}
	CHECK_EQ(s.count, r.n);
	check_range(&s, &r, 0, ~0ULL);
	check_range(&s, &r, 0x55550000ULL + 100, 0x55550000ULL + 101);
	page_set_free(&s);
}

static void test_range_edges(void)
{
	struct page_set s;
	CHECK_EQ(page_set_init(&s), 0);
	uint64_t pages[] = {0, 63, 64, 4095, 4096, 262143, 262144, (1ULL << 52) - 1};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		CHECK_EQ(page_set_add(&s, pages[i]), 1);
	CHECK_EQ(page_set_add(&s, 1ULL << 52), -1); /* beyond any address */
	uint64_t *got = NULL;
	size_t n = 0, cap = 0;
	CHECK_EQ(page_set_range(&s, 63, 4096, &got, &n, &cap), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(got[0], 63);
	CHECK_EQ(got[2], 4095);
	n = 0;
	CHECK_EQ(page_set_range(&s, 5, 5, &got, &n, &cap), 0); /* empty range */
	CHECK_EQ(n, 0);
	CHECK_EQ(page_set_range(&s, 262144, ~0ULL, &got, &n, &cap), 0);
	CHECK_EQ(n, 2);
	/* deleting every member leaves no node behind */
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		CHECK(page_set_del(&s, pages[i]));
	CHECK_EQ(s.count, 0);
	CHECK_EQ(s.nodes.used, 0);
	CHECK(!page_set_del(&s, 63));
	free(got);
	page_set_free(&s);
}

static void test_dense_pages_and_clear(void)
{
	struct page_set s;
	CHECK_EQ(page_set_init(&s), 0);
	for (uint64_t p = 1000000; p < 1000000 + 100000; p++)
		CHECK_EQ(page_set_add(&s, p), 1);
	CHECK_EQ(s.count, 100000);
	/* about one level-1 word per 64 pages */
	CHECK(s.nodes.used < 100000 / 64 + 100);
	uint64_t *got = NULL;
	size_t n = 0, cap = 0;
	CHECK_EQ(page_set_range(&s, 1050000, 1050100, &got, &n, &cap), 0);
	CHECK_EQ(n, 100);
	page_set_clear(&s);
	CHECK_EQ(s.count, 0);
	CHECK(!page_set_has(&s, 1050000));
	CHECK_EQ(page_set_add(&s, 1050000), 1);
	free(got);
	page_set_free(&s);
}

int main(void)
{
	RUN(test_random_operations_match_reference);
	RUN(test_range_edges);
	RUN(test_dense_pages_and_clear);
	return unit_done();
}
