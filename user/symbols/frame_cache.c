// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-address cache of resolved frames: an address stands for one frame,
 * or several when functions were inlined there. */
#include <stdlib.h>
#include <string.h>
#include "symbols/frame_cache.h"
#include "util/array.h"
#include "util/hash.h"

struct frame_cache_ent {
	uint64_t addr;
	uint32_t first; /* index into frames */
	uint16_t n;
	uint8_t variant; /* the caller's, plus one: 0 marks an empty slot */
};

static struct frame_cache_ent *slot(const struct frame_cache *c, uint64_t addr, uint8_t tag)
{
	size_t j = hash_mix64(addr) & (c->cap - 1);

	while (c->ents[j].variant && (c->ents[j].addr != addr || c->ents[j].variant != tag))
		j = (j + 1) & (c->cap - 1);
	return &c->ents[j];
}

const struct rm_frame *frame_cache_get(const struct frame_cache *c, uint64_t addr, uint8_t variant,
				       unsigned *n)
{
	if (!c->count)
		return NULL;
	const struct frame_cache_ent *e = slot(c, addr, (uint8_t)(variant + 1));

	if (!e->variant)
		return NULL;
	*n = e->n;
	return &c->frames[e->first];
}

void frame_cache_clear(struct frame_cache *c)
{
	if (c->ents)
		memset(c->ents, 0, c->cap * sizeof(*c->ents));
	c->count = 0;
	c->nframes = 0;
}

static bool grow_table(struct frame_cache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 4096;
	struct frame_cache_ent *ents = calloc(cap, sizeof(*ents));

	if (!ents)
		return false;
	struct frame_cache old = *c;

	c->ents = ents;
	c->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.ents[i].variant)
			*slot(c, old.ents[i].addr, old.ents[i].variant) = old.ents[i];
	free(old.ents);
	return true;
}

bool frame_cache_put(struct frame_cache *c, uint64_t addr, uint8_t variant,
		     const struct rm_frame *frames, unsigned n)
{
	uint8_t tag = (uint8_t)(variant + 1);

	if (!n || n > UINT16_MAX || n > FRAME_CACHE_MAX_FRAMES)
		return false;
	/* Bounded: a target with endless distinct addresses (JIT) must not
	 * make us grow forever. */
	if (c->count >= FRAME_CACHE_MAX_ADDRS || c->nframes + n > FRAME_CACHE_MAX_FRAMES) {
		frame_cache_clear(c);
		c->restarts++;
	}
	if ((c->count + 1) * 2 > c->cap && !grow_table(c))
		return false;
	if (ARRAY_RESERVE(c->frames, c->capframes, c->nframes + n))
		return false;
	struct frame_cache_ent *e = slot(c, addr, tag);

	if (!e->variant)
		c->count++;
	/* a replaced entry's old frames stay unused until the next clear */
	*e = (struct frame_cache_ent){
	    .addr = addr, .first = (uint32_t)c->nframes, .n = (uint16_t)n, .variant = tag};
	memcpy(&c->frames[c->nframes], frames, n * sizeof(*frames));
	c->nframes += n;
	return true;
}

void frame_cache_free(struct frame_cache *c)
{
	free(c->ents);
	free(c->frames);
	memset(c, 0, sizeof(*c));
}
