// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * realloc semantics: chains that grow (and move) a block, shrinking,
 * realloc(NULL, n) as malloc, realloc(p, 0) as free (glibc), a failing
 * realloc that leaves the old block live, and a chain that ends in free.
 * Usage: leak_realloc [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	CHAIN_N = 3,
	CHAIN_LAST = 5000,
	NULL_N = 2,
	NULL_SZ = 200,
	SHRINK_FROM = 4096,
	SHRINK_TO = 10,
	FAIL_SZ = 400,
};

static volatile size_t huge = SIZE_MAX / 2;

/* Grow one block step by step (it moves at least once): only the last size
 * is outstanding, once per chain. */
static void leak_realloc_chain(const struct lt *lt)
{
	static const size_t steps[] = {64, 1000, 3000, CHAIN_LAST};

	for (int i = 0; i < CHAIN_N; i++) {
		char *p = malloc(16);

		memset(p, 'x', 16);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
			p = realloc(p, steps[s]);
		lt_keep(p);
	}
	lt_leak(lt, __func__, CHAIN_N, CHAIN_N * CHAIN_LAST);
}

static void leak_realloc_null(const struct lt *lt)
{
	for (int i = 0; i < NULL_N; i++)
		lt_keep(realloc(NULL, NULL_SZ));
	lt_leak(lt, __func__, NULL_N, NULL_N * NULL_SZ);
}

static void leak_realloc_shrink(const struct lt *lt)
{
	char *p = malloc(SHRINK_FROM);

	lt_keep(realloc(p, SHRINK_TO)); /* glibc shrinks in place: same address */
	lt_leak(lt, __func__, 1, SHRINK_TO);
}

/* A realloc that fails returns NULL and must not free the old block. */
static void leak_realloc_fail(const struct lt *lt)
{
	char *p = malloc(FAIL_SZ);
	char *q = realloc(p, huge);

	if (q != NULL) {
		lt_say("unexpected: huge realloc succeeded");
		p = q;
	}
	lt_keep(p);
	lt_leak(lt, __func__, 1, FAIL_SZ);
}

/* glibc: realloc(p, 0) frees p and returns NULL. */
static void realloc_to_zero(const struct lt *lt)
{
	char *p = malloc(300);
	char *q = realloc(p, 0);

	free(q); /* NULL with glibc; free(NULL) is harmless */
	lt_clean(lt, __func__);
}

static void clean_realloc(const struct lt *lt)
{
	char *p = realloc(NULL, 8);

	for (size_t s = 16; s <= 65536; s *= 2)
		p = realloc(p, s);
	p = realloc(p, 100);
	free(p);
	lt_clean(lt, __func__);
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_realloc_chain(&lt);
	leak_realloc_null(&lt);
	leak_realloc_shrink(&lt);
	leak_realloc_fail(&lt);
	realloc_to_zero(&lt);
	clean_realloc(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
