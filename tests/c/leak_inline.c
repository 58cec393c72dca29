// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocation in static inline functions, built with -O2 -g and frame
 * pointers (tests/Makefile): the compiler inlines make_item into new_record
 * and new_record into leak_records, so the machine stack has leak_records
 * calling malloc, and only DWARF knows the two functions between them. The
 * markers in the comments name the lines the test expects.
 * Usage: leak_inline [--now] [--exit N]   (protocol: harness.h)
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	RECORDS = 6,
	RECORD_SZ = 72,
	CHURN = 4,
};

static inline __attribute__((always_inline)) char *make_item(size_t n, int fill)
{
	char *p = malloc(n); /* MARK:alloc */

	if (p)
		memset(p, fill, n);
	return p;
}

static inline __attribute__((always_inline)) char *new_record(int id)
{
	return make_item(RECORD_SZ, 'a' + id); /* MARK:make_item */
}

__attribute__((noinline)) void leak_records(const struct lt *lt)
{
	for (int i = 0; i < RECORDS; i++)
		lt_keep(new_record(i)); /* MARK:new_record */
	lt_leak(lt, __func__, RECORDS, RECORDS * RECORD_SZ);
}

__attribute__((noinline)) void clean_records(const struct lt *lt)
{
	for (int i = 0; i < CHURN; i++) {
		char *p = new_record(i);

		lt_keep(p);
		free(p);
	}
	lt_clean(lt, __func__);
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_records(&lt);
	clean_records(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
