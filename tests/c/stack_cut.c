// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Stacks leakbpf cannot walk in full, and must say so: strdup (glibc, no
 * frame pointers) called at the top of a coroutine stack with an unreadable
 * guard page right above it. The BPF stack repair reads the stack words
 * above %sp to find strdup's caller; here they run into the guard page, so
 * the caller (co_strdup) is lost and each such stack counts as a native
 * stack cut short ("stack_errors"). The blocks themselves are accounted.
 * Usage: stack_cut [--now] [--exit N]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "harness.h"

enum { DUP_N = 5 };

static const char text[] = "seventeen chars!!";
static ucontext_t main_ctx, co_ctx;

static void co_strdup(void)
{
	for (int i = 0; i < DUP_N; i++)
		lt_keep(strdup(text));
}

int main(int argc, char **argv)
{
	struct lt lt;
	long page = sysconf(_SC_PAGESIZE);
	char *stack =
	    mmap(NULL, 5 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	lt_init(&lt, argc, argv);
	if (stack == MAP_FAILED || mprotect(stack + 4 * page, page, PROT_NONE) ||
	    getcontext(&co_ctx)) {
		lt_say("unexpected: no coroutine stack");
		return 1;
	}
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = 4 * page; /* the guard page lies just above */
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, co_strdup, 0);
	lt_ready(&lt);
	lt_wait_go(&lt);
	swapcontext(&main_ctx, &co_ctx);
	lt_leak(&lt, "co_strdup", DUP_N, DUP_N * sizeof(text));
	lt_done(&lt);
	return lt_end(&lt);
}
