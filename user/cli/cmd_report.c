// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `leakbpf report SNAPSHOT`: render a snapshot (or --json output) again, to
 * the table and to any output format, as if it were the live report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "out/registry.h"
#include "out/table.h"
#include "report/bound.h"
#include "snapshot/snapshot.h"

static const char report_usage_head[] =
    "Usage: leakbpf report SNAPSHOT [options]\n"
    "\n"
    "Render a snapshot (leakbpf-*.json.gz, or a --json file) as the table and files.\n"
    "\n"
    "  -T, --top N              stacks shown in the table (default 10)\n"
    "  -q, --quiet              no table\n";

/* the output formats' lines come from out/registry.c in between */
static const char report_usage_tail[] =
    "      --output-stacks N    stacks written to each file (default 1000; the others\n"
    "                           are summed into one; 0 = all)\n"
    "  -h, --help               this help\n"
    "\n"
    "With an output to standard output (-), the table is not printed.\n";

/* -T N: 1..100000, or 0 on error. */
unsigned cmd_parse_top(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 100000 || *s == '-') {
		fprintf(stderr, "leakbpf: -T/--top: '%s' is not a number from 1 to 100000\n", s);
		return 0;
	}
	return (unsigned)v;
}

enum { OPT_OUTPUT_STACKS = 256, OPT_OUTPUT };

int cmd_report(int argc, char **argv)
{
	static const struct option base_opts[] = {
	    {"top", required_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"output-stacks", required_argument, NULL, OPT_OUTPUT_STACKS},
	};
	const size_t nbase = sizeof(base_opts) / sizeof(base_opts[0]);
	struct option longopts[sizeof(base_opts) / sizeof(base_opts[0]) + OUT_NFORMATS + 1];
	struct out_paths paths = {0};
	size_t max_stacks = RM_OUTPUT_STACKS;
	unsigned top = 10;
	bool quiet = false;
	struct rm_report *r;
	char err[512], *end;
	int c, rc = 0;

	memcpy(longopts, base_opts, sizeof(base_opts));
	out_longopts(longopts + nbase, OPT_OUTPUT);
	memset(&longopts[nbase + OUT_NFORMATS], 0, sizeof(longopts[0]));
	optind = 0; /* getopt state starts afresh for the subcommand */
	while ((c = getopt_long(argc, argv, ":T:qh", longopts, NULL)) != -1) {
		if (c == 'T') {
			if (!(top = cmd_parse_top(optarg))) {
				fputs("Try 'leakbpf report --help'.\n", stderr);
				return 2;
			}
		} else if (c == 'q') {
			quiet = true;
		} else if (c == 'h') {
			fputs(report_usage_head, stdout);
			out_usage(stdout);
			fputs(report_usage_tail, stdout);
			return 0;
		} else if (c >= OPT_OUTPUT && c < OPT_OUTPUT + OUT_NFORMATS) {
			paths.path[c - OPT_OUTPUT] = optarg;
		} else if (c == OPT_OUTPUT_STACKS) {
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || v > 1ULL << 26) {
				fprintf(
				    stderr,
				    "leakbpf report: --output-stacks: '%s' is not a number from 0 "
				    "(all) to 64M\nTry 'leakbpf report --help'.\n",
				    optarg);
				return 2;
			}
			max_stacks = (size_t)v;
		} else {
			if (c == ':')
				fprintf(stderr, "leakbpf report: %s needs an argument\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "leakbpf report: unknown option %s\n",
					argv[optind - 1]);
			fputs("Try 'leakbpf report --help'.\n", stderr);
			return 2;
		}
	}
	if (argc - optind != 1 || out_stdout_count(&paths) > 1) {
		fputs(out_stdout_count(&paths) > 1 ? "leakbpf report: only one output can go to -\n"
						   : "leakbpf report: needs exactly one SNAPSHOT\n",
		      stderr);
		fputs("Try 'leakbpf report --help'.\n", stderr);
		return 2;
	}
	r = snapshot_load(argv[optind], err, sizeof(err));
	if (!r) {
		fprintf(stderr, "leakbpf: %s\n", err);
		return 1;
	}
	if (!quiet && !out_stdout_count(&paths))
		report_text_print(r, top, stdout);
	if (out_write(&paths, r, max_stacks, false))
		rc = 1;
	snapshot_report_free(r);
	return rc;
}
