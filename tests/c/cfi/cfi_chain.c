// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Exact stacks through every frame shape the CFI walk meets, built with -O2
 * without frame pointers and with them (tests/Makefile): a variable-length
 * array (CFA based on %rbp even without frame pointers), a frame over
 * 32 KiB, a realigned stack (DRAP: CFA = *(%rbp - 8)), libc's qsort in the
 * middle of the chain (libc has no frame pointers), and a leaf in libc
 * (strdup). Every function of the chain is a frame of the leaking stack.
 * Usage: cfi_chain [--now] [--exit N]
 */
#include <stdlib.h>
#include <string.h>
#include "../harness.h"

/* no inlining, cloning or sibling calls: each function is one frame */
#define STEP __attribute__((noinline, noipa))

enum { LEAF_SZ = 100, ROUNDS = 3 };

static const char text[] = "leaked through strdup, a libc function without frame pointers";

STEP static void *leaf_alloc(size_t n)
{
	void *p = malloc(n);
	lt_keep(p);
	return p;
}

STEP static void *in_vla(int n)
{
	char buf[n];
	memset(buf, 0, (size_t)n);
	lt_keep(buf);
	void *p = leaf_alloc(LEAF_SZ + (size_t)buf[n / 2]);
	lt_keep(p);
	return p;
}

STEP static void *in_big_frame(int n)
{
	volatile char buf[40000];
	buf[n % 40000] = (char)n;
	void *p = in_vla(n + buf[n % 40000] - (char)n);
	lt_keep((void *)buf);
	return p;
}

/* An over-aligned local and an argument on the stack: realigned through
 * %r10 (DRAP). */
STEP static void *in_realigned(int n, long a, long b, long c, long d, long e, long g)
{
	char buf[64] __attribute__((aligned(64)));
	char vla[n];
	memset(buf, 0, sizeof(buf));
	memset(vla, (int)g, (size_t)n);
	lt_keep(buf);
	lt_keep(vla);
	void *p = in_big_frame(n + buf[1] + (int)(a + b + c + d + e - 15));
	lt_keep(p);
	return p;
}

static void *kept[ROUNDS * 2];
static int nkept, sorting_leaked;

/* Called by libc's qsort: leaks once per sort. */
STEP static int compare_and_leak(const void *x, const void *y)
{
	if (!sorting_leaked) {
		sorting_leaked = 1;
		kept[nkept++] = in_realigned(24, 1, 2, 3, 4, 5, 6);
	}
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

STEP static void through_qsort(void)
{
	int v[8] = {5, 3, 7, 1, 8, 2, 6, 4};
	sorting_leaked = 0;
	qsort(v, 8, sizeof(v[0]), compare_and_leak);
	lt_keep(v);
}

STEP static void leak_strdup(void)
{
	char *s = strdup(text);
	lt_keep(s);
	kept[nkept++] = s;
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	for (int i = 0; i < ROUNDS; i++) {
		through_qsort();
		leak_strdup();
	}
	lt_leak(&lt, "leaf_alloc", ROUNDS, ROUNDS * LEAF_SZ);
	lt_leak(&lt, "leak_strdup", ROUNDS, ROUNDS * sizeof(text));
	lt_done(&lt);
	return lt_end(&lt);
}
