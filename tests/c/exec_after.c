// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A program that leaks, then executes another one (issue 10, item 9): the
 * blocks of this image go away with it, and the new program (a Python
 * leaker in tests/test_exec.py) is a new image to trace.
 * Usage: exec_after PROGRAM [ARG...]   (protocol: harness.h up to "go",
 * then exec)
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>
#include "harness.h"

enum {
	LEAK_N = 10,
	LEAK_SZ = 1000,
};

static void leak_before_exec(const struct lt *lt)
{
	for (int i = 0; i < LEAK_N; i++)
		lt_keep(malloc(LEAK_SZ));
	lt_leak(lt, __func__, LEAK_N, LEAK_N * LEAK_SZ);
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	if (lt.argc < 1) {
		lt_say("usage: exec_after PROGRAM [ARG...]");
		return 2;
	}
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_before_exec(&lt);
	execv(lt.argv[0], lt.argv);
	lt_say("exec failed");
	return 127;
}
