// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Attach in the middle of a run. Before "ready" the program allocates blocks
 * and starts a churn thread (a ring of blocks replaced continuously). After
 * "go" it frees the blocks of before the attach, grows some of them with
 * realloc, leaks new ones, then stops the churn thread, which frees its whole
 * ring. Frees of blocks leakbpf never saw allocated must be ignored (counted
 * as frees_unknown), never turned into negative or bogus numbers.
 * Usage: leak_midrun [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "harness.h"

enum {
	PRE_N = 50,
	PRE_SZ = 256,
	PRE_REALLOC_N = 3,
	PRE_REALLOC_SZ = 640,
	AFTER_N = 7,
	AFTER_SZ = 333,
	RING = 64,
	CHURN_SZ = 48,
};

struct churn {
	atomic_int stop;
	atomic_long steps;
	void *ring[RING];
	pthread_t th;
};

struct state {
	void *pre[PRE_N];
	void *pre_grow[PRE_REALLOC_N];
	struct churn churn;
};

static void prealloc_blocks(struct state *s)
{
	for (int i = 0; i < PRE_N; i++)
		s->pre[i] = malloc(PRE_SZ);
	for (int i = 0; i < PRE_REALLOC_N; i++)
		s->pre_grow[i] = malloc(PRE_SZ / 2);
}

static void *churn_step(struct churn *c, long i)
{
	void *p = malloc(CHURN_SZ);

	free(c->ring[i % RING]);
	return p;
}

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	struct timespec pause = {0, 20000};
	long i;

	for (i = 0; !atomic_load(&c->stop); i++) {
		c->ring[i % RING] = churn_step(c, i);
		atomic_store(&c->steps, i);
		nanosleep(&pause, NULL);
	}
	for (int k = 0; k < RING; k++)
		free(c->ring[k]);
	return NULL;
}

static void free_preattach(const struct lt *lt, struct state *s)
{
	for (int i = 0; i < PRE_N; i++)
		free(s->pre[i]);
	lt_clean(lt, "prealloc_blocks");
}

/* realloc of a block allocated before the attach: the old block is unknown,
 * the new one is an allocation like any other. */
static void realloc_preattach(const struct lt *lt, struct state *s)
{
	for (int i = 0; i < PRE_REALLOC_N; i++)
		lt_keep(realloc(s->pre_grow[i], PRE_REALLOC_SZ));
	lt_leak(lt, __func__, PRE_REALLOC_N, PRE_REALLOC_N * PRE_REALLOC_SZ);
}

static void leak_after_attach(const struct lt *lt)
{
	for (int i = 0; i < AFTER_N; i++)
		lt_keep(malloc(AFTER_SZ));
	lt_leak(lt, __func__, AFTER_N, AFTER_N * AFTER_SZ);
}

int main(int argc, char **argv)
{
	static struct state s;
	struct timespec settle = {0, 200 * 1000 * 1000};
	struct lt lt;

	lt_init(&lt, argc, argv);
	prealloc_blocks(&s);
	pthread_create(&s.churn.th, NULL, churn_main, &s.churn);
	lt_ready(&lt);
	lt_wait_go(&lt);
	nanosleep(&settle, NULL); /* let the churn run under tracing */
	free_preattach(&lt, &s);
	realloc_preattach(&lt, &s);
	leak_after_attach(&lt);
	atomic_store(&s.churn.stop, 1);
	pthread_join(s.churn.th, NULL);
	lt_say("churn steps %ld", atomic_load(&s.churn.steps));
	lt_clean(&lt, "churn_step");
	lt_say("unknown_frees_at_least %d", PRE_N + PRE_REALLOC_N);
	lt_done(&lt);
	return lt_end(&lt);
}
