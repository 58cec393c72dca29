// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers shared by every output rendered from the report model. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "report/model.h"

/* Python and native frames follow the same rule, so mixed stacks read alike. */
const char *rm_frame_format(const struct rm_frame *f, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	if (f->function && f->file && f->line > 0) {
		snprintf(buf, len, "%s (%s:%d)", f->function, f->file, f->line);
	} else if (f->function) {
		snprintf(buf, len, "%s", f->function);
	} else if (f->module) {
		const char *base = strrchr(f->module, '/');

		snprintf(buf, len, "%s+0x%" PRIx64, base ? base + 1 : f->module, f->offset);
	} else {
		snprintf(buf, len, "0x%" PRIx64, f->address);
	}
	return buf;
}

int rm_stack_rank(const void *pa, const void *pb)
{
	const struct rm_stack *a = pa, *b = pb;
	if (a->out_bytes != b->out_bytes)
		return a->out_bytes < b->out_bytes ? 1 : -1;
	if (a->alloc_bytes != b->alloc_bytes)
		return a->alloc_bytes < b->alloc_bytes ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}
