/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The hash every table uses: FNV-1a over bytes, and a 64-bit finalizer
 * (murmur3's) for keys that are already integers or to spread FNV's bits. */
#ifndef UTIL_HASH_H
#define UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ULL /* FNV-1a offset basis */

static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Fold n bytes at p into h (start with HASH_SEED). */
static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Fold one 64-bit value into h. */
static inline uint64_t hash_u64(uint64_t h, uint64_t v)
{
	return hash_bytes(h, &v, sizeof(v));
}

/* Fold a NUL-terminated string into h; NULL and "" differ, and the end of
 * each string is marked so that ("ab", "c") and ("a", "bc") differ. */
static inline uint64_t hash_str(uint64_t h, const char *s)
{
	if (!s)
		return hash_u64(h, 0x6e756c6c);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

#endif
