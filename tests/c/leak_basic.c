// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * malloc, calloc and reallocarray leaks with exactly known sizes, one call
 * site per function, plus functions that must not show up as outstanding:
 * failing allocations and code that frees all it allocates.
 * Usage: leak_basic [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include "harness.h"

enum {
	MALLOC_N = 5,
	MALLOC_SZ = 111,
	CALLOC_N = 3,
	CALLOC_NMEMB = 7,
	CALLOC_SZ = 13,
	RA_N = 2,
	RA_NMEMB = 6,
	RA_SZ = 50,
	BIG_N = 2,
	BIG_SZ = 300000, /* above the mmap threshold: malloc calls mmap */
	LOOP_N = 1000,
	LOOP_SZ = 24,
};

/* A size the compiler cannot see, so that it does not warn about it. */
static volatile size_t huge = SIZE_MAX / 2;

static void leak_malloc(const struct lt *lt)
{
	for (int i = 0; i < MALLOC_N; i++)
		lt_keep(malloc(MALLOC_SZ));
	lt_leak(lt, __func__, MALLOC_N, MALLOC_N * MALLOC_SZ);
}

static void leak_calloc(const struct lt *lt)
{
	for (int i = 0; i < CALLOC_N; i++)
		lt_keep(calloc(CALLOC_NMEMB, CALLOC_SZ));
	lt_leak(lt, __func__, CALLOC_N, CALLOC_N * CALLOC_NMEMB * CALLOC_SZ);
}

static void leak_reallocarray(const struct lt *lt)
{
	/* glibc's reallocarray calls realloc: a nested allocator call. */
	for (int i = 0; i < RA_N; i++)
		lt_keep(reallocarray(NULL, RA_NMEMB, RA_SZ));
	lt_leak(lt, __func__, RA_N, RA_N * RA_NMEMB * RA_SZ);
}

static void leak_big(const struct lt *lt)
{
	for (int i = 0; i < BIG_N; i++)
		lt_keep(malloc(BIG_SZ));
	lt_leak(lt, __func__, BIG_N, (size_t)BIG_N * BIG_SZ);
}

static void leak_loop(const struct lt *lt)
{
	for (int i = 0; i < LOOP_N; i++)
		lt_keep(malloc(LOOP_SZ));
	lt_leak(lt, __func__, LOOP_N, LOOP_N * LOOP_SZ);
}

/* Failing allocations return NULL and must not be recorded. */
static void fail_alloc(const struct lt *lt)
{
	void *old;

	lt_keep(malloc(huge));
	lt_keep(calloc(huge, 4));
	old = malloc(64);
	/* overflowing reallocarray fails and leaves the old block alone... */
	if (reallocarray(old, huge, 16) == NULL)
		free(old); /* ...which is freed here: nothing outstanding */
	lt_clean(lt, __func__);
}

static void clean_basic(const struct lt *lt)
{
	void *p[MALLOC_N + CALLOC_N + RA_N + BIG_N];
	int n = 0;

	for (int i = 0; i < MALLOC_N; i++)
		p[n++] = malloc(MALLOC_SZ);
	for (int i = 0; i < CALLOC_N; i++)
		p[n++] = calloc(CALLOC_NMEMB, CALLOC_SZ);
	for (int i = 0; i < RA_N; i++)
		p[n++] = reallocarray(NULL, RA_NMEMB, RA_SZ);
	for (int i = 0; i < BIG_N; i++)
		p[n++] = malloc(BIG_SZ);
	while (n > 0)
		free(p[--n]);
	free(NULL); /* a free of NULL is no event */
	lt_clean(lt, __func__);
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_malloc(&lt);
	leak_calloc(&lt);
	leak_reallocarray(&lt);
	leak_big(&lt);
	leak_loop(&lt);
	fail_alloc(&lt);
	clean_basic(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
