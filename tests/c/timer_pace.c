// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A command whose work is driven by a 1 ms timer (issue 10, item 11): one
 * work unit per SIGALRM, for SECONDS of its own clock, then "units N" on
 * stdout. Under a tracer that stays its ptracer every signal waits for the
 * tracer; detached, the pace is the one without leakbpf.
 * Usage: timer_pace [SECONDS]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "harness.h"

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigaction(SIGALRM, &sa, NULL);
	sigset_t block, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGALRM);

	struct itimerval it = {{0, 1000}, {0, 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	long units = 0;
	double end = now_s() + seconds;
	while (now_s() < end) {
		sigsuspend(&wait_mask); /* one tick, one unit of work */
		units++;
	}
	lt_say("units %ld", units);
	return 0;
}
