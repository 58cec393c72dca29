// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Producer/consumer with cross-thread frees: PRODUCERS threads allocate
 * items in produce_item() and queue them, CONSUMERS threads free them in
 * consume_item(), and the consumers stop KEEP items short, so exactly KEEP
 * items (KEEP * ITEM_SZ bytes) remain outstanding in produce_item.
 * Usage: leak_threads [--now] [--exit N] [ITEMS_PER_PRODUCER]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	PRODUCERS = 2,
	CONSUMERS = 2,
	QCAP = 1024,
	ITEM_SZ = 72,
	KEEP = 37,
	DEFAULT_ITEMS = 20000,
};

struct item {
	long seq;
	char payload[ITEM_SZ - sizeof(long)];
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	pthread_barrier_t start;
	struct item *slot[QCAP];
	size_t head, len;
	long per_producer;
	long to_consume; /* items the consumers will still take */
};

static struct item *produce_item(long seq)
{
	struct item *it = malloc(sizeof(*it));

	it->seq = seq;
	memset(it->payload, (int)seq, sizeof(it->payload));
	return it;
}

static void consume_item(struct item *it)
{
	lt_keep(it);
	free(it);
}

static void *producer_main(void *arg)
{
	struct queue *q = arg;

	pthread_barrier_wait(&q->start);
	for (long i = 0; i < q->per_producer; i++) {
		struct item *it = produce_item(i);

		pthread_mutex_lock(&q->mu);
		while (q->len == QCAP)
			pthread_cond_wait(&q->not_full, &q->mu);
		q->slot[(q->head + q->len) % QCAP] = it;
		q->len++;
		pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->mu);
	}
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct queue *q = arg;

	pthread_barrier_wait(&q->start);
	for (;;) {
		struct item *it;

		pthread_mutex_lock(&q->mu);
		while (q->len == 0 && q->to_consume > 0)
			pthread_cond_wait(&q->not_empty, &q->mu);
		if (q->to_consume == 0) {
			pthread_cond_broadcast(&q->not_empty);
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		it = q->slot[q->head];
		q->head = (q->head + 1) % QCAP;
		q->len--;
		q->to_consume--;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->mu);
		consume_item(it);
	}
}

int main(int argc, char **argv)
{
	static struct queue q;
	pthread_t th[PRODUCERS + CONSUMERS];
	struct lt lt;
	int n = 0;

	lt_init(&lt, argc, argv);
	q.per_producer = lt.argc > 0 ? atol(lt.argv[0]) : DEFAULT_ITEMS;
	q.to_consume = q.per_producer * PRODUCERS - KEEP;
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.not_empty, NULL);
	pthread_cond_init(&q.not_full, NULL);
	pthread_barrier_init(&q.start, NULL, PRODUCERS + CONSUMERS + 1);
	/* Threads exist before tracing starts; they wait at the barrier. */
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&th[n++], NULL, producer_main, &q);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&th[n++], NULL, consumer_main, &q);
	lt_ready(&lt);
	lt_wait_go(&lt);
	pthread_barrier_wait(&q.start);
	while (n > 0)
		pthread_join(th[--n], NULL);
	lt_say("produced %ld consumed %ld", q.per_producer * PRODUCERS,
	       q.per_producer * PRODUCERS - KEEP);
	lt_leak(&lt, "produce_item", KEEP, KEEP * sizeof(struct item));
	lt_clean(&lt, "consume_item");
	lt_done(&lt);
	return lt_end(&lt);
}
