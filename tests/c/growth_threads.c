// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread stacks and a heap leak side by side: THREADS threads each go
 * DEPTH calls deep in deep_recursion(), whose frames hold 16 KiB arrays, so
 * each thread makes about DEPTH * 16 KiB of its stack resident, then waits;
 * the main thread leaks 512 KiB from the heap in leak_heap(). The growth
 * mode must show the stacks' pages apart from the heap's.
 * Usage: growth_threads [--now]; "done" once the threads are deep and the
 * leak is made, then it waits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	THREADS = 4,
	DEPTH = 16,
	FRAME = 16 * 1024,
};

static pthread_barrier_t deep;

static long deep_recursion(int level)
{
	volatile char frame[FRAME];
	memset((char *)frame, level, sizeof(frame));
	if (level + 1 < DEPTH)
		return deep_recursion(level + 1) + frame[level];
	pthread_barrier_wait(&deep); /* all deep: the main thread reports */
	pthread_barrier_wait(&deep); /* and never lets them go */
	return frame[0];
}

static void *thread_main(void *arg)
{
	(void)arg;
	lt_keep((void *)deep_recursion(0));
	return NULL;
}

static void leak_heap(void)
{
	for (int i = 0; i < 512; i++) {
		char *p = malloc(1024);
		memset(p, i, 1024);
		lt_keep(p);
	}
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	pthread_barrier_init(&deep, NULL, THREADS + 1);
	lt_ready(&lt);
	lt_wait_go(&lt);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, thread_main, NULL);
	pthread_barrier_wait(&deep);
	leak_heap();
	lt_say("stack %d bytes", THREADS * DEPTH * FRAME);
	lt_done(&lt);
	return lt_end(&lt);
}
