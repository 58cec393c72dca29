// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/: the growable array, the hash, the interner, the byte formatters. */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "util/array.h"
#include "util/fmt.h"
#include "util/hash.h"
#include "util/intern.h"
#include "util/search.h"

static void test_array_grows_keeps_and_zeroes(void)
{
	int *v = NULL;
	size_t cap = 0, n = 0;

	for (int i = 0; i < 1000; i++) {
		size_t before = cap;
		CHECK_EQ(ARRAY_RESERVE(v, cap, n + 1), 0);
		CHECK(cap >= n + 1);
		/* at least doubling: few reallocations however long the list */
		if (cap != before)
			CHECK(before == 0 || cap >= 2 * before);
		/* the new room is zeroed */
		size_t nonzero = 0;
		for (size_t k = n; k < cap; k++)
			nonzero += v[k] != 0;
		CHECK_EQ(nonzero, 0);
		v[n++] = i;
	}
	int wrong = 0;
	for (int i = 0; i < 1000; i++)
		wrong += v[i] != i;
	CHECK_EQ(wrong, 0);
	/* room already there: nothing moves */
	int *same = v;
	CHECK_EQ(ARRAY_RESERVE(v, cap, 10), 0);
	CHECK(v == same);
	free(v);
}

static void test_array_refuses_overflow(void)
{
	char *p = NULL;
	size_t cap = 0;

	/* n * size would not fit a size_t */
	CHECK_EQ(array_reserve((void **)&p, &cap, SIZE_MAX / 8, 16), -1);
	CHECK(p == NULL);
	CHECK_EQ(cap, 0);
	/* the doubling itself would overflow */
	CHECK_EQ(ARRAY_RESERVE(p, cap, SIZE_MAX), -1);
	CHECK(p == NULL);
	CHECK_EQ(cap, 0);

	/* a refusal leaves a live array as it was */
	CHECK_EQ(ARRAY_RESERVE(p, cap, 3), 0);
	memcpy(p, "ab", 3);
	char *before = p;
	size_t cap_before = cap;
	CHECK_EQ(array_reserve((void **)&p, &cap, SIZE_MAX / 2, 4), -1);
	CHECK(p == before);
	CHECK_EQ(cap, cap_before);
	CHECK_STR(p, "ab");
	free(p);
}

static void test_hash_is_fnv1a_and_separates_what_callers_need(void)
{
	/* FNV-1a 64 reference values (Fowler, Noll, Vo test suite) */
	CHECK(hash_bytes(HASH_SEED, "", 0) == HASH_SEED);
	CHECK(hash_bytes(HASH_SEED, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(hash_bytes(HASH_SEED, "foobar", 6) == 0x85944171f73967e8ULL);
	/* folding is incremental: callers hash a key field by field */
	CHECK(hash_bytes(hash_bytes(HASH_SEED, "foo", 3), "bar", 3) ==
	      hash_bytes(HASH_SEED, "foobar", 6));
	uint64_t v = 0x123456789abcdef0ULL;
	CHECK(hash_u64(HASH_SEED, v) == hash_bytes(HASH_SEED, &v, sizeof(v)));

	/* frame keys: NULL and "" differ, and string boundaries count */
	CHECK(hash_str(HASH_SEED, NULL) != hash_str(HASH_SEED, ""));
	CHECK(hash_str(hash_str(HASH_SEED, "ab"), "c") != hash_str(hash_str(HASH_SEED, "a"), "bc"));
	CHECK(hash_str(hash_str(HASH_SEED, "a"), NULL) != hash_str(hash_str(HASH_SEED, NULL), "a"));
	CHECK(hash_str(HASH_SEED, "x") == hash_str(HASH_SEED, "x"));

	/* the finalizer is a bijection (distinct in, distinct out) ... */
	CHECK(hash_mix64(1) != hash_mix64(2));
	CHECK(hash_mix64(0) == 0);
	/* ... and spreads page-aligned addresses over the low bits that
	 * power-of-two tables index with: 65536 addresses into 1024 buckets */
	static unsigned buckets[1024];
	for (uint64_t i = 0; i < 65536; i++)
		buckets[hash_mix64(0x7f0000000000ULL + (i << 12)) & 1023]++;
	unsigned lo = UINT32_MAX, hi = 0;
	for (size_t b = 0; b < 1024; b++) {
		lo = buckets[b] < lo ? buckets[b] : lo;
		hi = buckets[b] > hi ? buckets[b] : hi;
	}
	CHECK(lo >= 32); /* 64 expected in each */
	CHECK(hi <= 110);
}

static void test_interner_identity(void)
{
	struct interner in = {0};
	char buf[8] = "abc";

	const char *a = interner_str(&in, "abc");
	const char *b = interner_str(&in, buf);
	CHECK(a != NULL);
	CHECK(a == b); /* same text, same pointer */
	CHECK(a != buf);
	CHECK_STR(a, "abc");
	buf[0] = 'x'; /* the copy does not follow the caller's buffer */
	CHECK_STR(a, "abc");
	CHECK(interner_str(&in, "abd") != a);
	CHECK(interner_str(&in, "") != NULL);
	CHECK(interner_str(&in, "") == interner_str(&in, ""));
	CHECK(interner_str(&in, NULL) == NULL);
	/* the copy is the key of its index */
	CHECK(interner_key(&in, (size_t)interner_find(&in, "abc", 3), NULL) == a);
	interner_clear(&in);
}

static void test_interner_indices_in_insertion_order(void)
{
	struct interner *in = interner_new();
	bool added;

	CHECK(in != NULL);
	CHECK_EQ(interner_find(in, "a", 1), -1); /* empty: nothing found */
	CHECK_EQ(interner_add(in, "a", 1, &added), 0);
	CHECK(added);
	CHECK_EQ(interner_add(in, "b", 1, &added), 1);
	CHECK(added);
	CHECK_EQ(interner_add(in, "a", 1, &added), 0);
	CHECK(!added);
	CHECK_EQ(interner_add(in, "c", 1, NULL), 2);
	CHECK_EQ(interner_count(in), 3);
	CHECK_EQ(interner_find(in, "b", 1), 1);
	CHECK_EQ(interner_find(in, "d", 1), -1);
	size_t len = 99;
	CHECK_STR(interner_key(in, 1, &len), "b");
	CHECK_EQ(len, 1);
	interner_free(in);
	interner_free(NULL);
}

static void test_interner_keys_with_nul_bytes(void)
{
	struct interner in = {0};
	const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'};
	const uint64_t ids[2] = {7, 0}; /* binary keys: pprof's (name id, file id) */

	CHECK_EQ(interner_add(&in, k1, sizeof(k1), NULL), 0);
	CHECK_EQ(interner_add(&in, k2, sizeof(k2), NULL), 1);
	CHECK_EQ(interner_add(&in, "a", 1, NULL), 2); /* a prefix is another key */
	CHECK_EQ(interner_add(&in, "a", 2, NULL), 3); /* "a\0" too */
	CHECK_EQ(interner_add(&in, ids, sizeof(ids), NULL), 4);
	CHECK_EQ(interner_add(&in, k1, sizeof(k1), NULL), 0);
	size_t len;
	const char *k = interner_key(&in, 0, &len);
	CHECK_EQ(len, 3);
	CHECK(!memcmp(k, k1, 3));
	CHECK_EQ(k[3], 0); /* NUL-terminated as well */
	CHECK(!memcmp(interner_key(&in, 4, &len), ids, sizeof(ids)));
	CHECK_EQ(len, sizeof(ids));
	/* a string lookup stops at the NUL: "a", not "a\0b" */
	CHECK(interner_str(&in, k1) == interner_key(&in, 2, NULL));
	interner_clear(&in);
}

static void test_interner_many_keys_stay_put(void)
{
	enum { N = 200000 };
	struct interner in = {0};
	static const char *copies[N];
	char key[32];
	int misnumbered = 0;

	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		bool added;
		misnumbered += interner_add(&in, key, (size_t)n, &added) != i || !added;
		copies[i] = interner_key(&in, (size_t)i, NULL);
	}
	CHECK_EQ(misnumbered, 0);
	CHECK_EQ(interner_count(&in), N);
	/* every copy is where it was when added, with its text, and found */
	int moved = 0, lost = 0;
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		moved += interner_key(&in, (size_t)i, NULL) != copies[i] || strcmp(copies[i], key);
		lost += interner_find(&in, key, (size_t)n) != i;
	}
	CHECK_EQ(moved, 0);
	CHECK_EQ(lost, 0);
	/* a cleared interner is empty and usable again */
	interner_clear(&in);
	CHECK_EQ(interner_count(&in), 0);
	CHECK_EQ(interner_bytes(&in), 0);
	CHECK_EQ(interner_find(&in, "key-1", 5), -1);
	CHECK_EQ(interner_add(&in, "key-1", 5, NULL), 0);
	interner_clear(&in);
}

/* Bytes the heap hands out right now (glibc: arenas and mmapped chunks). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_interner_memory_is_measured_in_bytes(void)
{
	enum { N = 100000, KEYLEN = 40 };
	struct interner in = {0};
	char key[KEYLEN + 1];
	size_t last = 0, payload = 0;
	int shrank = 0;

	CHECK_EQ(interner_bytes(&in), 0);
	size_t heap0 = heap_in_use();
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%0*d", KEYLEN, i);
		interner_add(&in, key, KEYLEN, NULL);
		payload += KEYLEN + 1;
		shrank += interner_bytes(&in) < last;
		last = interner_bytes(&in);
	}
	size_t bytes = interner_bytes(&in), heap = heap_in_use() - heap0;
	CHECK_EQ(shrank, 0);
	/* it holds the copies, and not much more than copies and tables */
	CHECK(bytes >= payload + N * sizeof(struct intern_key));
	CHECK(bytes <= 2 * (payload + N * (sizeof(struct intern_key) + 4 * sizeof(uint32_t))));
	/* what it says it holds is what the heap gave it (glibc's chunk
	 * headers and rounding aside); another allocator (a sanitizer's)
	 * does not report through mallinfo2 */
	if (heap) {
		CHECK(heap >= bytes);
		CHECK(heap <= bytes + bytes / 10 + 65536);
	}
	fprintf(stderr, "  interner: %d keys of %d bytes: %zu bytes held, heap grew %zu\n", N,
		KEYLEN, bytes, heap);

	/* an adversarial key of 1 MiB costs 1 MiB, once */
	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, 'q', big);
	size_t before = interner_bytes(&in);
	interner_add(&in, huge, big, NULL);
	CHECK(interner_bytes(&in) >= before + big);
	CHECK(interner_bytes(&in) <= before + big + 4096);
	before = interner_bytes(&in);
	interner_add(&in, huge, big, NULL);
	CHECK_EQ(interner_bytes(&in), before);
	free(huge);
	interner_clear(&in);
	CHECK_EQ(interner_bytes(&in), 0);
}

static void test_byte_formatters(void)
{
	char b[32];

	CHECK_STR(fmt_bytes(0, 1, b, sizeof(b)), "0 B");
	CHECK_STR(fmt_bytes(512, 1, b, sizeof(b)), "512 B");
	CHECK_STR(fmt_bytes(1023, 1, b, sizeof(b)), "1023 B");
	CHECK_STR(fmt_bytes(1024, 1, b, sizeof(b)), "1.0 KiB");
	CHECK_STR(fmt_bytes(1536, 2, b, sizeof(b)), "1.50 KiB");
	CHECK_STR(fmt_bytes(1048576, 1, b, sizeof(b)), "1.0 MiB");
	CHECK_STR(fmt_bytes(5.5 * 1073741824.0, 1, b, sizeof(b)), "5.5 GiB");
	CHECK_STR(fmt_bytes(-2048, 1, b, sizeof(b)), "-2.0 KiB");
	CHECK_STR(fmt_bytes(-100, 1, b, sizeof(b)), "-100 B");
	CHECK_STR(fmt_bytes(NAN, 1, b, sizeof(b)), "0 B");
	/* EiB is the last unit */
	CHECK_STR(fmt_bytes(ldexp(1, 70), 1, b, sizeof(b)), "1024.0 EiB");
	/* a short buffer is cut, still a string */
	CHECK_STR(fmt_bytes(1536, 1, b, 4), "1.5");

	CHECK_STR(human_bytes(1536, b, sizeof(b)), "1.5 KiB");
	CHECK_STR(human_bytes(3 * 1048576.0 + 1, b, sizeof(b)), "3.0 MiB");

	CHECK_STR(signed_bytes(1536, b, sizeof(b)), "+1.5 KiB");
	CHECK_STR(signed_bytes(-200, b, sizeof(b)), "-200 B");
	CHECK_STR(signed_bytes(0, b, sizeof(b)), "+0 B");
	CHECK_STR(signed_bytes(INT64_MIN, b, sizeof(b)), "-8.0 EiB");
	CHECK_STR(signed_bytes(INT64_MAX, b, sizeof(b)), "+8.0 EiB");
}

/* Both searches against a linear scan, on runs of equal keys and the ends. */
static void test_sorted_search(void)
{
	struct {
		int k;
	} a[] = {{1}, {3}, {3}, {3}, {7}, {9}};
	const size_t n = sizeof(a) / sizeof(a[0]);
	for (int key = -1; key <= 11; key++) {
		size_t up = 0, low = 0;
		while (up < n && a[up].k <= key)
			up++;
		while (low < n && a[low].k < key)
			low++;
		CHECK_EQ(SORTED_UPPER(a, n, .k, key), up);
		CHECK_EQ(SORTED_LOWER(a, n, .k, key), low);
	}
	CHECK_EQ(SORTED_UPPER(a, 0, .k, 5), 0);
	typeof(&a[0]) p[] = {&a[0], &a[4]};
	CHECK_EQ(SORTED_LOWER(p, 2, ->k, 7), 1);
}

int main(void)
{
	RUN(test_sorted_search);
	RUN(test_array_grows_keeps_and_zeroes);
	RUN(test_array_refuses_overflow);
	RUN(test_hash_is_fnv1a_and_separates_what_callers_need);
	RUN(test_interner_identity);
	RUN(test_interner_indices_in_insertion_order);
	RUN(test_interner_keys_with_nul_bytes);
	RUN(test_interner_many_keys_stay_put);
	RUN(test_interner_memory_is_measured_in_bytes);
	RUN(test_byte_formatters);
	return unit_done();
}
