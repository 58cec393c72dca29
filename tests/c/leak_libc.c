// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leaks through libc functions that call malloc themselves: strdup, strndup
 * and asprintf. glibc is built without frame pointers (strdup even keeps a
 * length in %rbp), so a plain frame-pointer walk from malloc loses the
 * function that called strdup; leakbpf must still name it. Sizes are exact:
 * strdup/strndup allocate strlen+1 (strndup: n+1 at most), and glibc's
 * asprintf leaves a block of exactly strlen+1 bytes.
 * Usage: leak_libc [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	DUP_N = 3,
	NDUP_N = 2,
	NDUP_MAX = 5,
	ASP_N = 2,
};

static const char text[] = "seventeen chars!!";

static void leak_strdup(const struct lt *lt)
{
	for (int i = 0; i < DUP_N; i++)
		lt_keep(strdup(text));
	lt_leak(lt, __func__, DUP_N, DUP_N * sizeof(text));
}

static void leak_strndup(const struct lt *lt)
{
	for (int i = 0; i < NDUP_N; i++)
		lt_keep(strndup(text, NDUP_MAX));
	lt_leak(lt, __func__, NDUP_N, NDUP_N * (NDUP_MAX + 1));
}

static void leak_asprintf(const struct lt *lt)
{
	size_t bytes = 0;

	for (int i = 0; i < ASP_N; i++) {
		char *s = NULL;
		int n = asprintf(&s, "%s-%d", text, 12345 + i);

		if (n < 0)
			lt_say("unexpected: asprintf failed");
		bytes += (size_t)n + 1;
		lt_keep(s);
	}
	lt_leak(lt, __func__, ASP_N, bytes);
}

static void clean_libc(const struct lt *lt)
{
	char *s = NULL;

	free(strdup(text));
	free(strndup(text, NDUP_MAX));
	if (asprintf(&s, "%s-%d", text, 1) >= 0)
		free(s);
	lt_clean(lt, __func__);
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_strdup(&lt);
	leak_strndup(&lt);
	leak_asprintf(&lt);
	clean_libc(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
