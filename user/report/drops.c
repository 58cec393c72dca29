// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "report/drops.h"

const struct rm_drop_info rm_drop_list[] = {
#define RM_DROP_INFO(field, text, kind) {#field, text, kind, offsetof(struct rm_drops, field)},
    RM_DROPS(RM_DROP_INFO)
#undef RM_DROP_INFO
};

const size_t rm_drop_count = sizeof(rm_drop_list) / sizeof(rm_drop_list[0]);

uint64_t rm_drops_lost(const struct rm_drops *d)
{
	uint64_t n = 0;

	for (size_t i = 0; i < rm_drop_count; i++)
		if (rm_drop_list[i].kind == RM_DROP_LOST)
			n += rm_drop_value(d, i);
	return n;
}
