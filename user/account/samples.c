// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The blocks of the allocation windows, and which of them survive. */
#include <string.h>
#include "account/samples.h"

void samples_init(struct samples *s, uint64_t max)
{
	memset(s, 0, sizeof(*s));
	u64_table_init(&s->blocks, sizeof(struct sample_block));
	s->max = max;
}

void samples_free(struct samples *s)
{
	u64_table_free(&s->blocks);
	memset(s, 0, sizeof(*s));
}

static void forget(struct samples *s, struct sample_block *b)
{
	if (b->survivor)
		s->survivors--;
	u64_table_remove(&s->blocks, b);
}

void samples_release(struct samples *s, uint64_t addr)
{
	struct sample_block *b = addr ? u64_table_find(&s->blocks, addr) : NULL;
	if (b)
		forget(s, b);
}

void samples_alloc(struct samples *s, uint64_t addr, uint64_t size, uint64_t ts_ns, uint32_t stack,
		   uint64_t serial)
{
	if (!addr)
		return;
	samples_release(s, addr);
	if (s->blocks.used >= s->max || u64_table_reserve(&s->blocks, 1)) {
		s->unkept++;
		return;
	}
	struct sample_block *b = u64_table_add(&s->blocks, addr);
	b->size = size;
	b->ts_ns = ts_ns;
	b->serial = serial;
	b->stack = stack;
}

void samples_window_end(struct samples *s, uint64_t cutoff_ns)
{
	uint32_t w = ++s->windows;
	/* removal moves entries back: visit a slot again after one goes */
	for (uint64_t i = 0; i < s->blocks.cap;) {
		struct sample_block *b = u64_table_at(&s->blocks, i);
		if (!b->addr || b->survivor == w) {
			i++;
			continue;
		}
		if (b->survivor ? w - b->survivor >= SAMPLES_KEEP_WINDOWS : b->ts_ns > cutoff_ns) {
			forget(s, b);
			continue;
		}
		if (!b->survivor) {
			b->survivor = w;
			s->survivors++;
			s->survived++;
		}
		i++;
	}
}
