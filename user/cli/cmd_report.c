// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `leakbpf report SNAPSHOT`: render a snapshot (or --json output) again, to
 * the table and to any output format, as if it were the live report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "out/formats.h"
#include "out/table.h"
#include "snapshot/snapshot.h"

static const char report_usage[] =
    "Usage: leakbpf report SNAPSHOT [options]\n"
    "\n"
    "Render a snapshot (leakbpf-*.json.gz, or a --json file) as the table and files.\n"
    "\n"
    "  -T, --top N              stacks shown in the table (default 10)\n"
    "  -q, --quiet              no table\n"
    "      --folded FILE        write folded stacks\n"
    "      --flamegraph FILE    write an SVG flame graph\n"
    "      --json FILE|-        write JSON (schema leakbpf/v1)\n"
    "      --pprof FILE|-       write a gzipped pprof heap profile\n"
    "      --speedscope FILE|-  write a speedscope profile\n"
    "  -h, --help               this help\n"
    "\n"
    "With an output to standard output (-), the table is not printed.\n";

typedef int (*writer_fn)(const struct rm_report *, FILE *);

static int flamegraph_titled(const struct rm_report *r, FILE *f)
{
	return flamegraph_write(r, f, "leakbpf: outstanding bytes");
}

enum { OUT_FOLDED, OUT_FLAMEGRAPH, OUT_JSON, OUT_PPROF, OUT_SPEEDSCOPE, OUT_N };

static const struct {
	const char *option, *what;
	writer_fn fn;
} outputs[OUT_N] = {
    [OUT_FOLDED] = {"folded", "folded stacks", folded_write},
    [OUT_FLAMEGRAPH] = {"flamegraph", "flame graph", flamegraph_titled},
    [OUT_JSON] = {"json", "JSON report", json_write},
    [OUT_PPROF] = {"pprof", "pprof profile", pprof_write},
    [OUT_SPEEDSCOPE] = {"speedscope", "speedscope profile", speedscope_write},
};

static int write_one(const char *path, unsigned which, const struct rm_report *r)
{
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "we");
	int err;

	if (!f) {
		fprintf(stderr, "leakbpf: cannot write %s %s: %s\n", outputs[which].what, path,
			strerror(errno));
		return -1;
	}
	err = outputs[which].fn(r, f);
	if (err)
		fprintf(stderr, "leakbpf: writing %s %s failed: %s\n", outputs[which].what, path,
			strerror(errno));
	if (!to_stdout && fclose(f) && !err) {
		fprintf(stderr, "leakbpf: writing %s %s failed: %s\n", outputs[which].what, path,
			strerror(errno));
		err = -1;
	}
	return err;
}

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

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"folded", required_argument, NULL, 256 + OUT_FOLDED},
	    {"flamegraph", required_argument, NULL, 256 + OUT_FLAMEGRAPH},
	    {"json", required_argument, NULL, 256 + OUT_JSON},
	    {"pprof", required_argument, NULL, 256 + OUT_PPROF},
	    {"speedscope", required_argument, NULL, 256 + OUT_SPEEDSCOPE},
	    {0},
	};
	const char *paths[OUT_N] = {0};
	unsigned top = 10, to_stdout = 0;
	bool quiet = false;
	struct rm_report *r;
	char err[512];
	int c, rc = 0;

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
			fputs(report_usage, stdout);
			return 0;
		} else if (c >= 256 && c < 256 + OUT_N) {
			paths[c - 256] = optarg;
			to_stdout += !strcmp(optarg, "-");
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
	if (argc - optind != 1 || to_stdout > 1) {
		fputs(to_stdout > 1 ? "leakbpf report: only one output can go to -\n"
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
	if (!quiet && !to_stdout)
		report_text_print(r, top, stdout);
	for (unsigned i = 0; i < OUT_N; i++)
		if (paths[i] && write_one(paths[i], i, r))
			rc = 1;
	snapshot_report_free(r);
	return rc;
}
