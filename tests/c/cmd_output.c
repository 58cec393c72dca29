// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A command for `leakbpf -c`: writes a known text to stdout (through stdio,
 * large enough to need several buffer flushes) and to stderr, echoes its
 * stdin when asked, leaks in leak_in_command, and exits with the status given.
 * Usage: cmd_output EXIT_STATUS [LINES [echo]]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

enum {
	LEAK_N = 4,
	LEAK_SZ = 999,
};

static void leak_in_command(void)
{
	for (int i = 0; i < LEAK_N; i++)
		lt_keep(malloc(LEAK_SZ));
	printf("leak %s %d %d\n", __func__, LEAK_N, LEAK_N * LEAK_SZ);
}

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;
	long lines = argc > 2 ? atol(argv[2]) : 2000;
	char buf[256];

	printf("cmd_output start, %d args\n", argc);
	for (long i = 0; i < lines; i++)
		printf("line %ld: the quick brown fox jumps over the lazy dog %ld\n", i, i * i);
	fprintf(stderr, "cmd_output: a line on stderr\n");
	leak_in_command();
	if (argc > 3 && strcmp(argv[3], "echo") == 0) {
		while (fgets(buf, sizeof(buf), stdin))
			printf("echo: %s", buf);
	}
	printf("no newline at the end, exit %d", status);
	return status;
}
