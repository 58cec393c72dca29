// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/u64_table.c against a direct-indexed reference, on random adds and
 * removes over keys that collide a lot (few distinct keys, small table). */
#include <stdlib.h>
#include "unit.h"
#include "util/u64_table.h"

struct entry {
	uint64_t key;
	uint32_t value;
};

#define KEYS 3000

/* Every key present is found with its value; absent ones are not. */
static void check_against(const struct u64_table *t, const uint32_t *ref)
{
	uint64_t present = 0;
	for (uint64_t k = 1; k <= KEYS; k++) {
		const struct entry *e = u64_table_find(t, k * 0x1000);
		if (ref[k]) {
			present++;
			if (!e || e->value != ref[k]) {
				CHECK(e && e->value == ref[k]);
				return;
			}
		} else if (e) {
			CHECK(!e);
			return;
		}
	}
	CHECK_EQ(t->used, present);
}

static void test_random_against_reference(void)
{
	static uint32_t ref[KEYS + 1];
	struct u64_table t;
	unsigned seed = 7;
	u64_table_init(&t, sizeof(struct entry));
	CHECK(u64_table_find(&t, 1) == NULL); /* no memory yet */
	for (int round = 0; round < 200000; round++) {
		uint64_t k = 1 + (uint64_t)rand_r(&seed) % KEYS;
		struct entry *e = u64_table_find(&t, k * 0x1000);
		CHECK_EQ(!!e, !!ref[k]);
		if (e && rand_r(&seed) % 2) {
			u64_table_remove(&t, e);
			ref[k] = 0;
		} else if (!e) {
			CHECK_EQ(u64_table_reserve(&t, 1), 0);
			e = u64_table_add(&t, k * 0x1000);
			CHECK_EQ(e->value, 0);
			e->value = ref[k] = (uint32_t)round + 1;
		}
		if (round % 20000 == 0)
			check_against(&t, ref);
	}
	check_against(&t, ref);
	CHECK(t.used * 10 <= t.cap * 7);
	u64_table_clear(&t);
	CHECK_EQ(t.used, 0);
	CHECK(u64_table_find(&t, 0x1000) == NULL);
	u64_table_free(&t);
	CHECK_EQ(t.cap, 0);
}

static void test_zero_key_is_never_found(void)
{
	struct u64_table t;
	u64_table_init(&t, sizeof(struct entry));
	CHECK_EQ(u64_table_reserve(&t, 10), 0);
	CHECK(u64_table_find(&t, 0) == NULL);
	CHECK_EQ(u64_table_bytes(&t), t.cap * sizeof(struct entry));
	u64_table_free(&t);
}

int main(void)
{
	RUN(test_random_against_reference);
	RUN(test_zero_key_is_never_found);
	return unit_done();
}
