// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* leakbpf: outstanding memory per stack in a running process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "session/options.h"
#include "session/outputs.h"
#include "session/preflight.h"
#include "session/trace.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "objects"))
		return cmd_objects(argc - 1, argv + 1);

	struct options o;
	int r = options_parse(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : 2;
	char err[256];
	if (preflight_check(err, sizeof(err))) {
		fprintf(stderr, "leakbpf: %s\n", err);
		return 1;
	}
	/* a path that cannot be written fails now, not after the whole trace */
	if (outputs_check(&o))
		return 1;
	/* Symbols come from the target's files and local debug files only:
	 * never let elfutils query debuginfod servers on every module. That
	 * is leakbpf's own: a command it starts gets the environment as it
	 * was (a copy of the pointers taken before unsetenv moves them). */
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof(*env));
	if (!env) {
		fprintf(stderr, "leakbpf: out of memory\n");
		return 1;
	}
	memcpy(env, environ, n * sizeof(*env));
	o.command_env = env;
	unsetenv("DEBUGINFOD_URLS");
	r = trace_run(&o);
	free(env);
	options_free(&o);
	return r;
}
