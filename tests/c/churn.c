// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Millions of malloc/free pairs over a small steady live set (LIVE blocks of
 * random sizes), to check that leakbpf's own memory stays bounded and that its
 * books balance under load. After "go" a worker churns until the driver sends
 * a second byte; then it reports the pairs done and the live bytes, which
 * are all outstanding in churn_alloc.
 * Usage: churn [--now] [--exit N] [SECONDS (with --now)]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

enum {
	LIVE = 1000,
	MAX_SZ = 2048,
};

struct churn {
	atomic_int stop;
	long pairs;
	size_t size[LIVE];
	void *slot[LIVE];
	unsigned long rng;
};

static unsigned long next_rand(struct churn *c)
{
	c->rng = c->rng * 6364136223846793005UL + 1442695040888963407UL;
	return c->rng >> 33;
}

static void *churn_alloc(size_t n)
{
	return malloc(n);
}

static void *worker(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		for (int k = 0; k < 256; k++) {
			unsigned long r = next_rand(c);
			size_t i = r % LIVE;
			size_t n = 16 + (r >> 10) % MAX_SZ;

			free(c->slot[i]);
			c->slot[i] = churn_alloc(n);
			c->size[i] = n;
			c->pairs++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct churn c;
	pthread_t th;
	struct lt lt;
	size_t live = 0;

	lt_init(&lt, argc, argv);
	c.rng = 42;
	lt_ready(&lt);
	lt_wait_go(&lt);
	pthread_create(&th, NULL, worker, &c);
	if (lt.now)
		sleep(lt.argc > 0 ? (unsigned)atoi(lt.argv[0]) : 5);
	else
		lt_wait_go(&lt);
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	for (int i = 0; i < LIVE; i++)
		live += c.size[i];
	lt_say("pairs %ld", c.pairs);
	lt_leak(&lt, "churn_alloc", LIVE, live);
	lt_done(&lt);
	return lt_end(&lt);
}
