/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The output formats, listed once: the tracer's options and `leakbpf
 * report` both take them from here, check them before they start and
 * write them through here (safe files, bounded size). A new format is one
 * line of OUT_FORMATS:
 *
 *   X(option, argument in usage, what the file is in messages, usage line,
 *     writer)
 */
#ifndef OUT_REGISTRY_H
#define OUT_REGISTRY_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "report/model.h"

#define OUT_FORMATS(X)                                                                             \
	X(folded, "FILE|-", "folded stacks", "write folded stacks (flamegraph.pl input)",          \
	  folded_write)                                                                            \
	X(flamegraph, "FILE|-", "flame graph", "write an interactive SVG flame graph",             \
	  flamegraph_titled)                                                                       \
	X(json, "FILE|-", "JSON report", "write the report as JSON (schema leakbpf/v1)",           \
	  json_write)                                                                              \
	X(pprof, "FILE|-", "pprof profile", "write a gzipped pprof heap profile", pprof_write)     \
	X(speedscope, "FILE|-", "speedscope profile", "write a speedscope profile",                \
	  speedscope_write)

enum {
#define OUT_FORMAT_INDEX(option, arg, what, help, writer) OUT_FORMAT_##option,
	OUT_FORMATS(OUT_FORMAT_INDEX)
#undef OUT_FORMAT_INDEX
	    OUT_NFORMATS
};

struct out_format {
	const char *option; /* long option without "--" */
	const char *arg;    /* its argument in usage lines */
	const char *what;   /* what the file is, in messages */
	const char *help;   /* usage line */
	int (*write)(const struct rm_report *r, FILE *out);
};

extern const struct out_format out_formats[OUT_NFORMATS];

/* The destination of each format, indexed like out_formats; NULL for
 * none, "-" for standard output. */
struct out_paths {
	const char *path[OUT_NFORMATS];
};

/* Append one getopt_long entry per format to opts (room for
 * OUT_NFORMATS), returning `first_val + index` for each. */
void out_longopts(struct option *opts, int first_val);
/* The usage lines of the formats. */
void out_usage(FILE *out);
/* How many formats go to standard output. */
unsigned out_stdout_count(const struct out_paths *p);
/* Where tables go: stderr when an output is standard output, so that it
 * stays machine-readable, else stdout. */
FILE *out_table_stream(const struct out_paths *p);

/* Whether every output can be written, before any work is done: one line
 * on stderr per failing output. 0, or -1. */
int out_check(const struct out_paths *p);
/* Write every output with at most max_stacks stacks each (0: all, see
 * report/bound.h). `say` reports every file written on stderr; a failure
 * always is. 0, or -1 when any failed (the others are still written). */
int out_write(const struct out_paths *p, const struct rm_report *r, size_t max_stacks, bool say);
/* Write one file ("-": stdout) safely (util/outfile.h) with write(ctx, f);
 * `what` names it in the one-line message of a failure. 0, or -1. */
int out_write_file(const char *path, const char *what, int (*write)(const void *ctx, FILE *out),
		   const void *ctx);

#endif
