// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leakers for the growth mode: memory that grows steadily, beside work that
 * allocates and frees (churn_scratch) without growing. Each mode leaks
 * through its own function, which the tests look for in the stacks:
 *   heap    leak_record():     256-byte records from malloc (the brk heap)
 *   mmap    leak_buffer():     256 KiB buffers (malloc maps each one)
 *   strdup  leak_copy():       strings from strdup (libc, no frame pointers)
 *   thread  leak_in_thread():  records from malloc in a second thread
 *   huge    leak_huge():       2 MiB regions asking for transparent huge pages
 * Usage: growth_leak [--now] MODE [RATE_KB [SECONDS]]
 * Leaks about RATE_KB KiB per second (default 512) after "go"; with SECONDS
 * it exits 0 after that long, else it runs until killed (stdin closed).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

static volatile size_t sink;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A request's temporary buffer: allocated, used, freed. */
static void churn_scratch(int seq)
{
	char *p = malloc(1024);
	memset(p, seq, 1024);
	sink += (size_t)p[seq & 1023];
	free(p);
}

static void *leak_record(int seq)
{
	char *p = malloc(256);
	memset(p, seq, 256);
	return p;
}

static void *leak_buffer(int seq)
{
	char *p = malloc(256 * 1024);
	memset(p, seq, 256 * 1024);
	return p;
}

static void *leak_copy(int seq)
{
	char line[200];
	memset(line, 'a' + seq % 26, sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	return strdup(line);
}

#define HUGE (2UL << 20)

static void *leak_huge(int seq)
{
	/* twice the size, to cut an aligned 2 MiB range out of it */
	char *p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	char *a = (char *)(((unsigned long)p + HUGE - 1) & ~(HUGE - 1));
	madvise(a, HUGE, MADV_HUGEPAGE);
	memset(a, seq, HUGE);
	return a;
}

struct run {
	void *(*leak)(int);
	size_t unit;	/* bytes per leak call */
	double rate;	/* bytes per second */
	double seconds; /* 0: forever */
};

static void leak_loop(const struct run *r)
{
	double start = now_s(), done = 0;
	for (int seq = 0;; seq++) {
		churn_scratch(seq);
		lt_keep(r->leak(seq));
		done += (double)r->unit;
		double t = now_s() - start;
		if (r->seconds > 0 && t >= r->seconds)
			return;
		double ahead = done / r->rate - t;
		if (ahead > 0.001)
			usleep((useconds_t)(ahead * 1e6));
	}
}

static void *leak_in_thread(void *arg)
{
	leak_loop(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	if (lt.argc < 1)
		return 2;
	const char *mode = lt.argv[0];
	struct run r = {leak_record, 256, 512 * 1024.0, 0};
	if (lt.argc > 1)
		r.rate = atof(lt.argv[1]) * 1024;
	if (lt.argc > 2)
		r.seconds = atof(lt.argv[2]);
	if (!strcmp(mode, "mmap")) {
		r.leak = leak_buffer;
		r.unit = 256 * 1024;
	} else if (!strcmp(mode, "huge")) {
		r.leak = leak_huge;
		r.unit = HUGE;
	} else if (!strcmp(mode, "strdup")) {
		r.leak = leak_copy;
		r.unit = 200;
	} else if (strcmp(mode, "heap") && strcmp(mode, "thread")) {
		return 2;
	}
	lt_ready(&lt);
	lt_wait_go(&lt);
	if (!strcmp(mode, "thread")) {
		pthread_t th;
		pthread_create(&th, NULL, leak_in_thread, &r);
		pthread_join(th, NULL);
	} else {
		leak_loop(&r);
	}
	lt_say("done");
	return 0;
}
