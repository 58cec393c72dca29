/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Subcommands working on snapshots. main() dispatches on argv[1] and passes
 * the rest with the subcommand name first:
 *   if (argc > 1 && !strcmp(argv[1], "diff"))   return cmd_diff(argc - 1, argv + 1);
 *   if (argc > 1 && !strcmp(argv[1], "report")) return cmd_report(argc - 1, argv + 1);
 * Both return the process exit status (0 ok, 1 runtime error, 2 usage).
 */
#ifndef CMD_SNAPSHOT_H
#define CMD_SNAPSHOT_H

/* leakbpf diff A B [-T N] [--json FILE|-]: what grew from snapshot A to B. */
int cmd_diff(int argc, char **argv);

/* leakbpf report SNAPSHOT [-T N] [--folded F] [--flamegraph F] [--json F]
 * [--pprof F] [--speedscope F]: render a snapshot to any output. */
int cmd_report(int argc, char **argv);

/* leakbpf objects [options] -p PID [INTERVAL [COUNT]]: censuses of a running
 * CPython heap by type, holders of what grows, unreachable cycles. */
int cmd_objects(int argc, char **argv);

/* Shared by the subcommands: -T N, a number from 1 to 100000, or 0 after
 * printing why not. */
unsigned cmd_parse_top(const char *s);

#endif
