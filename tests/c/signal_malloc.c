// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocations made by a signal handler, many of them while the handler
 * interrupted a probed malloc (issue 10, item 7): a 100 us SIGALRM timer
 * whose handler keeps one malloc'ed block per signal, while main mallocs and
 * frees in a loop (and keeps nothing). malloc is not async-signal-safe in
 * general; here it holds up because the process has one thread (glibc
 * takes no lock) and main only ever takes and gives back one block of one
 * size class through its tcache bin, which the handler's size never
 * touches. With PER_SIGNAL (default 1) the handler mallocs that many
 * blocks per signal: beyond the few inner blocks leakbpf keeps for the
 * interrupted malloc, the rest are sent with their own stack, taken while
 * that malloc's return probe is pending.
 * Usage: signal_malloc [--now] [SIGNALS [PER_SIGNAL]]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "harness.h"

enum {
	HANDLER_SZ = 200,
	MAIN_SZ = 40,
	MAX_SIGNALS = 100000,
};

static void *kept[MAX_SIGNALS];
static volatile sig_atomic_t nsignals;
static volatile sig_atomic_t limit = 5000;
static int per_signal = 1;

static void on_alarm(int sig)
{
	(void)sig;
	if (nsignals >= limit)
		return;
	for (int i = 0; i < per_signal; i++)
		kept[nsignals * per_signal + i] = malloc(HANDLER_SZ);
	nsignals++;
}

static void main_loop(void)
{
	while (nsignals < limit) {
		void *p = malloc(MAIN_SZ);
		lt_keep(p);
		free(p);
	}
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	if (lt.argc > 0)
		limit = atoi(lt.argv[0]) < MAX_SIGNALS ? atoi(lt.argv[0]) : MAX_SIGNALS;
	if (lt.argc > 1 && atoi(lt.argv[1]) > 1 && atoi(lt.argv[1]) <= 16)
		per_signal = atoi(lt.argv[1]);
	limit = limit < MAX_SIGNALS / per_signal ? limit : MAX_SIGNALS / per_signal;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	/* the handler's size class, and main's, warmed up before tracing */
	free(malloc(HANDLER_SZ));
	free(malloc(MAIN_SZ));
	lt_ready(&lt);
	lt_wait_go(&lt);

	struct itimerval it = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &it, NULL);
	main_loop();
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);

	size_t kept_n = (size_t)nsignals * (size_t)per_signal;
	lt_leak(&lt, "on_alarm", kept_n, kept_n * HANDLER_SZ);
	lt_clean(&lt, "main_loop");
	lt_done(&lt);
	return lt_end(&lt);
}
