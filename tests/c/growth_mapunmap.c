// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Makes pages resident and gives them all back, in a loop, every way a
 * program can: munmap, madvise(MADV_DONTNEED / MADV_FREE), mremap (moved,
 * then unmapped; shrunk in place), mmap(MAP_FIXED) over touched pages, and
 * the brk heap grown and shrunk. Nothing stays: the growth mode must show
 * nothing outstanding once it stops.
 * Usage: growth_mapunmap [--now] [ROUNDS]  (default 200); prints
 * "rounds N pages P" (P: pages touched) and "done" after "go".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "harness.h"

#define MIB (1UL << 20)

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	return p;
}

/* Write one byte per page: each page becomes resident. */
static size_t touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	return len / 4096;
}

static size_t one_round(void)
{
	size_t pages = 0;
	char *p = map(MIB);
	pages += touch(p, MIB);
	munmap(p, MIB);

	p = map(MIB);
	pages += touch(p, MIB);
	madvise(p, MIB, MADV_DONTNEED);
	pages += touch(p, MIB / 2); /* resident again, then unmapped */
	munmap(p, MIB);

	p = map(MIB);
	pages += touch(p, MIB);
	madvise(p, MIB, MADV_FREE);
	munmap(p, MIB);

	/* moved by mremap: the pages go with it */
	p = map(MIB / 4);
	pages += touch(p, MIB / 4);
	char *q = mremap(p, MIB / 4, 2 * MIB, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		_exit(4);
	pages += touch(q + MIB / 4, MIB);
	/* shrunk in place: the tail goes */
	q = mremap(q, 2 * MIB, MIB / 2, 0);
	if (q == MAP_FAILED)
		_exit(5);
	munmap(q, MIB / 2);

	/* a new mapping over touched pages replaces them */
	p = map(MIB);
	pages += touch(p, MIB);
	if (mmap(p, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		_exit(6);
	munmap(p, MIB);

	/* the brk heap */
	char *top = sbrk(0);
	if (sbrk((intptr_t)MIB) == (void *)-1)
		_exit(7);
	pages += touch(top, MIB);
	if (sbrk(-(intptr_t)MIB) == (void *)-1)
		_exit(8);
	return pages;
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	long rounds = lt.argc > 0 ? atol(lt.argv[0]) : 200;
	lt_ready(&lt);
	lt_wait_go(&lt);
	size_t pages = 0;
	for (long i = 0; i < rounds; i++)
		pages += one_round();
	lt_say("rounds %ld pages %zu", rounds, pages);
	lt_done(&lt);
	return lt_end(&lt);
}
