// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A parent that forks children after "go" (--children, tests/test_children.py):
 * child k (0..CHILDREN-1) leaks (k + 1) * CHILD_SZ bytes in CHILD_N blocks in
 * child_leak and exits; with PROGRAM given, one more child executes it. The
 * parent waits for them all, then says "done".
 * Usage: fork_leak [PROGRAM [ARG...]]   (protocol: harness.h)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

enum {
	CHILDREN = 3,
	CHILD_N = 5,
	CHILD_SZ = 1000,
};

static __attribute__((noinline)) void child_leak(int k)
{
	for (int i = 0; i < CHILD_N; i++)
		lt_keep(malloc((size_t)(k + 1) * CHILD_SZ));
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	pid_t kids[CHILDREN + 1];
	int n = 0;
	for (int k = 0; k < CHILDREN; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			child_leak(k);
			lt_say("child %d %d", (int)getpid(), CHILD_N * (k + 1) * CHILD_SZ);
			_exit(0);
		}
		kids[n++] = pid;
	}
	if (lt.argc >= 1) {
		pid_t pid = fork();
		if (pid == 0) {
			execvp(lt.argv[0], lt.argv);
			_exit(127);
		}
		kids[n++] = pid;
	}
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	lt_done(&lt);
	return lt_end(&lt);
}
