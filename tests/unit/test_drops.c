// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report/drops.h: the one list of drop counters and the outputs drawn
 * from it (table line, JSON keys read back by the snapshot loader). */
#include <stdlib.h>
#include "unit.h"
#include "out/formats.h"
#include "out/table.h"
#include "report/drops.h"

static void test_list_covers_the_struct(void)
{
	CHECK_EQ(rm_drop_count * sizeof(uint64_t), sizeof(struct rm_drops));
	for (size_t i = 0; i < rm_drop_count; i++) {
		CHECK_EQ(rm_drop_list[i].offset, i * sizeof(uint64_t));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(rm_drop_list[i].key, rm_drop_list[j].key));
	}
}

static void test_lost_counts_only_lost_events(void)
{
	struct rm_drops d = {0};
	for (size_t i = 0; i < rm_drop_count; i++)
		*rm_drop_field(&d, i) = 1;
	uint64_t lost = 0;
	for (size_t i = 0; i < rm_drop_count; i++)
		lost += rm_drop_list[i].kind == RM_DROP_LOST;
	CHECK_EQ(rm_drops_lost(&d), lost);
	CHECK_EQ(d.ringbuf_alloc + d.stack_table_full, 2);
}

static void test_table_line(void)
{
	char buf[1024];
	struct rm_drops d = {0};
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	table_print_drops(&d, f);
	fclose(f);
	CHECK_STR(buf, "drops: none\n");
	d.ringbuf_free = 3;
	d.py_truncated = 2;
	f = fmemopen(buf, sizeof(buf), "w");
	table_print_drops(&d, f);
	fclose(f);
	CHECK_STR(buf, "drops: 3 free events lost (ring buffer full), 2 python stacks truncated\n");
}

/* Every counter's JSON key, in the order of the list, with its value. */
static void test_json_has_every_counter(void)
{
	char *mem = NULL;
	size_t len = 0;
	struct rm_report r = {.pid = 1};
	for (size_t i = 0; i < rm_drop_count; i++)
		*rm_drop_field(&r.drops, i) = 100 + i;
	FILE *f = open_memstream(&mem, &len);
	CHECK_EQ(json_write(&r, f), 0);
	fclose(f);
	const char *at = strstr(mem, "\"drops\":{");
	CHECK(at != NULL);
	for (size_t i = 0; at && i < rm_drop_count; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\"%s\":%zu", rm_drop_list[i].key, 100 + i);
		const char *p = strstr(at, want);
		CHECK(p != NULL);
		at = p ? p : at;
	}
	free(mem);
}

int main(void)
{
	RUN(test_list_covers_the_struct);
	RUN(test_lost_counts_only_lost_events);
	RUN(test_table_line);
	RUN(test_json_has_every_counter);
	return unit_done();
}
