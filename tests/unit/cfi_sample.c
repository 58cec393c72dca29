// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Frame shapes for the unwind-table unit test (test_cfi_table.c), built
 * without frame pointers, with them, and with .debug_frame only in a
 * separate debug file (Makefile: the unit rule).
 */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static long leaf(long x)
{
	return x * 3 + 1;
}

/* Callee-saved registers pushed: CFA = %rsp + 8..N. */
__attribute__((noinline)) long pushes(long a, long b, long c)
{
	long s = 0;
	for (long i = 0; i < a; i++)
		s += leaf(i + b) ^ leaf(c - i);
	return s + leaf(s);
}

/* A variable-length array: the CFA is based on %rbp even without frame
 * pointers. */
__attribute__((noinline)) long with_vla(int n)
{
	char buf[n];
	memset(buf, n, (size_t)n);
	__asm__ volatile("" : : "r"(buf) : "memory");
	return pushes(buf[n / 2], n, 3);
}

/* A frame larger than 32 KiB. */
__attribute__((noinline)) long big_frame(int n)
{
	volatile char buf[40000];
	buf[n % 40000] = (char)n;
	return pushes(buf[n % 40000], n, 5) + buf[0];
}

/* An over-aligned local with an argument on the stack: the stack is
 * realigned through %r10, then the CFA is *(%rbp - 8) (DRAP). */
__attribute__((noinline)) long realigned(int n, long a, long b, long c, long d, long e, long g)
{
	char buf[64] __attribute__((aligned(64)));
	char vla[n];
	memset(buf, n, sizeof(buf));
	memset(vla, (int)g, (size_t)n);
	__asm__ volatile("" : : "r"(buf), "r"(vla) : "memory");
	return pushes(buf[1] + vla[0], a + b + c + d + e, g);
}

int main(int argc, char **argv)
{
	(void)argv;
	long r = with_vla(argc + 16) + big_frame(argc) + realigned(argc + 4, 1, 2, 3, 4, 5, 6);
	printf("%ld\n", r);
	return 0;
}
