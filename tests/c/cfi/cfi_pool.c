// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread pool: WORKERS threads take TASKS tasks from a queue; every task
 * leaks one block in task_leak(). Stacks end at the thread's root
 * (start_thread, clone3), where the return address is undefined.
 * Usage: cfi_pool [--now] [--exit N]
 */
#include <pthread.h>
#include <stdlib.h>
#include "../harness.h"

#define STEP __attribute__((noinline, noipa))

enum { WORKERS = 4, TASKS = 40, TASK_SZ = 48 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static int next_task;
static void *kept[TASKS];

STEP static void *task_leak(int i)
{
	void *p = malloc(TASK_SZ);
	lt_keep(p);
	kept[i] = p;
	return p;
}

STEP static void run_task(int i)
{
	lt_keep(task_leak(i));
}

STEP static void *worker_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (;;) {
		pthread_mutex_lock(&mu);
		int i = next_task < TASKS ? next_task++ : -1;
		pthread_mutex_unlock(&mu);
		if (i < 0)
			return NULL;
		run_task(i);
	}
}

int main(int argc, char **argv)
{
	struct lt lt;
	pthread_t th[WORKERS];
	lt_init(&lt, argc, argv);
	pthread_barrier_init(&start, NULL, WORKERS + 1);
	/* the workers exist before tracing starts */
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, worker_main, NULL);
	lt_ready(&lt);
	lt_wait_go(&lt);
	pthread_barrier_wait(&start);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	lt_leak(&lt, "task_leak", TASKS, TASKS * TASK_SZ);
	lt_done(&lt);
	return lt_end(&lt);
}
