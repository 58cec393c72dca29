// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leaks from signal handlers: the walk goes from the handler through the
 * kernel's signal frame (glibc's __restore_rt) into the interrupted code,
 * once on the thread's own stack and once on an alternate signal stack.
 * The interrupted function spins, so the signal lands in it.
 * Usage: cfi_signal [--now] [--exit N]
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "../harness.h"

#define STEP __attribute__((noinline, noipa))

enum { HANDLER_SZ = 200, ALT_SZ = 300 };

static volatile sig_atomic_t fired;
static void *kept[2];
static char altstack[64 * 1024];

STEP static void *leak_in_handler(size_t n)
{
	void *p = malloc(n);
	lt_keep(p);
	return p;
}

STEP static void on_signal(int sig)
{
	(void)sig;
	kept[0] = leak_in_handler(HANDLER_SZ);
	fired = 1;
}

STEP static void on_signal_altstack(int sig)
{
	(void)sig;
	kept[1] = leak_in_handler(ALT_SZ);
	fired = 1;
}

STEP static void spin_until_signalled(void)
{
	while (!fired)
		__asm__ volatile("" : : : "memory");
}

/* One SIGALRM 10 ms from now, handled by fn (on the alternate stack with
 * SA_ONSTACK), while this thread spins. */
STEP static void take_signal(void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
	fired = 0;
	struct itimerval it = {.it_value = {.tv_usec = 10000}};
	setitimer(ITIMER_REAL, &it, NULL);
	spin_until_signalled();
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	lt_ready(&lt);
	lt_wait_go(&lt);
	take_signal(on_signal, 0);
	take_signal(on_signal_altstack, SA_ONSTACK);
	lt_leak(&lt, "on_signal", 1, HANDLER_SZ);
	lt_leak(&lt, "on_signal_altstack", 1, ALT_SZ);
	lt_done(&lt);
	return lt_end(&lt);
}
