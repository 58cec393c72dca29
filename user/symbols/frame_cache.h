/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Resolved frames per code address, bounded. */
#ifndef SYMBOLS_FRAME_CACHE_H
#define SYMBOLS_FRAME_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "report/model.h"

/* At most this many addresses and frames are kept; past either the cache
 * starts over (re-resolving costs time, never correctness), so it holds at
 * most 16 MiB of entries and ~56 MiB of frames whatever the target does. */
#define FRAME_CACHE_MAX_ADDRS  (1u << 19)
#define FRAME_CACHE_MAX_FRAMES (1u << 20)

struct frame_cache {
	struct frame_cache_ent *ents; /* open addressing */
	size_t cap, count;
	struct rm_frame *frames; /* every entry's frames, back to back */
	size_t nframes, capframes;
	uint64_t restarts; /* times a bound made it start over */
};

/* The frames cached for (addr, variant), *n of them, or NULL. Valid until
 * the next put or clear. */
const struct rm_frame *frame_cache_get(const struct frame_cache *c, uint64_t addr, uint8_t variant,
				       unsigned *n);

/* Remember n frames for (addr, variant); false when there was no memory
 * (the cache is then only less useful). */
bool frame_cache_put(struct frame_cache *c, uint64_t addr, uint8_t variant,
		     const struct rm_frame *frames, unsigned n);

void frame_cache_clear(struct frame_cache *c);
void frame_cache_free(struct frame_cache *c);

#endif
