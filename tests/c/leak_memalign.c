// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The aligned allocators: posix_memalign (result through an out-pointer),
 * aligned_alloc, memalign (the same function as aligned_alloc in glibc 2.36:
 * one address, two names), valloc and pvalloc; a failing posix_memalign must
 * not be recorded even though its out-pointer holds a stale value.
 * Usage: leak_memalign [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include "harness.h"

enum {
	PM_N = 2,
	PM_ALIGN = 64,
	PM_SZ = 1000,
	AA_N = 3,
	AA_ALIGN = 128,
	AA_SZ = 256,
	MA_N = 4,
	MA_ALIGN = 32,
	MA_SZ = 100,
	VA_N = 1,
	VA_SZ = 5000,
	PV_N = 2,
	PV_SZ = 8192, /* a page multiple: pvalloc's rounding changes nothing */
};

static void leak_posix_memalign(const struct lt *lt)
{
	for (int i = 0; i < PM_N; i++) {
		void *p = NULL;

		if (posix_memalign(&p, PM_ALIGN, PM_SZ) != 0)
			lt_say("unexpected: posix_memalign failed");
		lt_keep(p);
	}
	lt_leak(lt, __func__, PM_N, PM_N * PM_SZ);
}

/* posix_memalign with an invalid alignment returns EINVAL and leaves *memptr
 * alone: a tool that reads the out-pointer without checking the return value
 * would record the stale address below. */
static void posix_memalign_fail(const struct lt *lt)
{
	void *p = (void *)(uintptr_t)0x10000;
	static volatile size_t bad_align = 24; /* not a power of two */
	static volatile size_t huge = SIZE_MAX / 2;

	if (posix_memalign(&p, bad_align, 128) != EINVAL)
		lt_say("unexpected: posix_memalign accepted alignment 24");
	p = (void *)(uintptr_t)0x20000;
	if (posix_memalign(&p, 64, huge) != ENOMEM)
		lt_say("unexpected: huge posix_memalign succeeded");
	lt_keep(p);
	lt_clean(lt, __func__);
}

static void leak_aligned_alloc(const struct lt *lt)
{
	for (int i = 0; i < AA_N; i++)
		lt_keep(aligned_alloc(AA_ALIGN, AA_SZ));
	lt_leak(lt, __func__, AA_N, AA_N * AA_SZ);
}

static void leak_memalign(const struct lt *lt)
{
	for (int i = 0; i < MA_N; i++)
		lt_keep(memalign(MA_ALIGN, MA_SZ));
	lt_leak(lt, __func__, MA_N, MA_N * MA_SZ);
}

static void leak_valloc(const struct lt *lt)
{
	for (int i = 0; i < VA_N; i++)
		lt_keep(valloc(VA_SZ));
	lt_leak(lt, __func__, VA_N, VA_N * VA_SZ);
}

static void leak_pvalloc(const struct lt *lt)
{
	for (int i = 0; i < PV_N; i++)
		lt_keep(pvalloc(PV_SZ));
	lt_leak(lt, __func__, PV_N, PV_N * PV_SZ);
}

static void clean_memalign(const struct lt *lt)
{
	void *p[6];
	int n = 0;

	if (posix_memalign(&p[n], PM_ALIGN, PM_SZ) == 0)
		n++;
	p[n++] = aligned_alloc(AA_ALIGN, AA_SZ);
	p[n++] = memalign(MA_ALIGN, MA_SZ);
	p[n++] = valloc(VA_SZ);
	p[n++] = pvalloc(PV_SZ);
	while (n > 0)
		free(p[--n]);
	lt_clean(lt, __func__);
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_posix_memalign(&lt);
	posix_memalign_fail(&lt);
	leak_aligned_alloc(&lt);
	leak_memalign(&lt);
	leak_valloc(&lt);
	leak_pvalloc(&lt);
	clean_memalign(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
