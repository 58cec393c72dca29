// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mallocbench: a malloc+free loop of one fixed size, timed, for measuring
 * what a tracer adds per allocation. With -w it prints "ready" and waits for
 * SIGUSR1 so that a tracer can attach first; the libc allocator is warmed
 * up before that, so the timed loop never takes a slow path (one tcache
 * block is reused over and over).
 *
 * Output (stdout): "ns_per_pair=X cpu_ns_per_pair=Y pairs=N traced_pairs=T
 * size=S". X is wall-clock time, Y the thread's CPU time (user + kernel,
 * where uprobe handlers run): Y does not count time when other processes had
 * the CPU, so it is steadier on a busy machine, but it misses work a tracer
 * does in its own process. T counts the calibration pairs too (every pair
 * run after "ready"), to relate a tracer's own CPU time to pairs.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bench_opts {
	uint64_t pairs;	 /* fixed number of pairs, 0 = derive from seconds */
	int depth;	 /* frames of the call chain above the loop */
	double seconds;	 /* target duration of the timed loop */
	size_t size;	 /* bytes per malloc */
	int wait_signal; /* wait for SIGUSR1 before timing */
};

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* noinline keeps a small, fixed call stack: main -> churn -> malloc. */
static __attribute__((noinline)) void churn(uint64_t n, size_t size)
{
	for (uint64_t i = 0; i < n; i++) {
		void *p = malloc(size);
		/* The compiler may not elide the pair: p escapes. */
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

/* One block kept from the bottom of the chain after the timed loop, so
 * that a tracer's report shows the chain's stack. */
static void *volatile kept;

/* The loop at the bottom of a chain of depth frames (-d): a stack as deep
 * as a real program's, for the unwinder. Not a tail call: the barrier
 * after the call keeps each frame. n == 0: keep one block instead. */
static __attribute__((noinline)) void descend(int depth, uint64_t n, size_t size)
{
	if (depth > 0)
		descend(depth - 1, n, size);
	else if (n)
		churn(n, size);
	else
		kept = malloc(size);
	__asm__ volatile("" : : : "memory");
}

/* Wall-clock ns for n pairs; the thread's CPU ns in *cpu when not NULL. */
static uint64_t timed_churn(int depth, uint64_t n, size_t size, uint64_t *cpu)
{
	uint64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), t0 = now_ns(CLOCK_MONOTONIC);
	if (depth > 0)
		descend(depth, n, size);
	else
		churn(n, size);
	uint64_t t = now_ns(CLOCK_MONOTONIC) - t0;
	if (cpu)
		*cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return t;
}

/* Pairs that take about opts->seconds: double a pilot run until it lasts
 * 20 ms, then scale. Tracing is already active, so the pilot measures the
 * traced cost. */
static uint64_t calibrate(const struct bench_opts *o, uint64_t *pilot_pairs)
{
	uint64_t n = 1000, t;
	for (;;) {
		t = timed_churn(o->depth, n, o->size, NULL);
		*pilot_pairs += n;
		if (t >= 20000000ull || n >= (1ull << 40))
			break;
		n *= 2;
	}
	double per = (double)t / (double)n;
	uint64_t want = (uint64_t)(o->seconds * 1e9 / per);
	return want ? want : 1;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	int c;
	o->pairs = 0;
	o->seconds = 1.5;
	o->size = 64;
	o->wait_signal = 0;
	o->depth = 0;
	while ((c = getopt(argc, argv, "n:t:s:d:wh")) != -1) {
		char *end = NULL;
		errno = 0;
		switch (c) {
		case 'n':
			o->pairs = strtoull(optarg, &end, 10);
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			break;
		case 's':
			o->size = strtoull(optarg, &end, 10);
			break;
		case 'd':
			o->depth = (int)strtol(optarg, &end, 10);
			break;
		case 'w':
			o->wait_signal = 1;
			continue;
		default:
			fprintf(
			    stderr,
			    "usage: mallocbench [-n PAIRS | -t SECONDS] [-s SIZE] [-d DEPTH] [-w]\n"
			    "  -n  run exactly PAIRS malloc+free pairs\n"
			    "  -t  else run about SECONDS (default 1.5)\n"
			    "  -s  allocation size in bytes (default 64)\n"
			    "  -d  run the loop DEPTH frames down a call chain (default 0)\n"
			    "  -w  print \"ready\" and wait for SIGUSR1 before timing\n");
			return c == 'h' ? 1 : -1;
		}
		if (errno || !end || *end || end == optarg) {
			fprintf(stderr, "mallocbench: bad value for -%c: %s\n", c, optarg);
			return -1;
		}
	}
	if (optind != argc || o->seconds <= 0 || o->depth < 0 || o->depth > 1000) {
		fprintf(stderr, "mallocbench: bad arguments (see -h)\n");
		return -1;
	}
	return 0;
}

static int wait_for_go(void)
{
	sigset_t set;
	int sig;
	/* Blocked before "ready" is printed: an early signal stays pending. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	return sigwait(&set, &sig) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	int r = parse_opts(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : 2;

	churn(1000, o.size); /* warm up: arena and tcache exist before attach */
	if (o.wait_signal && wait_for_go()) {
		fprintf(stderr, "mallocbench: waiting for SIGUSR1: %s\n", strerror(errno));
		return 1;
	}
	uint64_t pilot = 0;
	uint64_t n = o.pairs ? o.pairs : calibrate(&o, &pilot);
	uint64_t cpu;
	uint64_t t = timed_churn(o.depth, n, o.size, &cpu);
	if (o.depth > 0)
		descend(o.depth, 0, o.size);
	printf("ns_per_pair=%.2f cpu_ns_per_pair=%.2f pairs=%llu traced_pairs=%llu size=%zu\n",
	       (double)t / (double)n, (double)cpu / (double)n, (unsigned long long)n,
	       (unsigned long long)(n + pilot), o.size);
	return 0;
}
