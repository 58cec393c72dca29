// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "out/formats.h"
#include "out/registry.h"
#include "report/bound.h"
#include "util/outfile.h"

static int flamegraph_titled(const struct rm_report *r, FILE *f)
{
	return flamegraph_write(r, f, "leakbpf: outstanding bytes");
}

const struct out_format out_formats[OUT_NFORMATS] = {
#define OUT_FORMAT_ENTRY(option, arg, what, help, writer) {#option, arg, what, help, writer},
    OUT_FORMATS(OUT_FORMAT_ENTRY)
#undef OUT_FORMAT_ENTRY
};

void out_longopts(struct option *opts, int first_val)
{
	for (int i = 0; i < OUT_NFORMATS; i++)
		opts[i] =
		    (struct option){out_formats[i].option, required_argument, NULL, first_val + i};
}

void out_usage(FILE *out)
{
	for (int i = 0; i < OUT_NFORMATS; i++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--%s %s", out_formats[i].option, out_formats[i].arg);
		fprintf(out, "      %-20s %s\n", opt, out_formats[i].help);
	}
}

unsigned out_stdout_count(const struct out_paths *p)
{
	unsigned n = 0;

	for (int i = 0; i < OUT_NFORMATS; i++)
		n += p->path[i] && !strcmp(p->path[i], "-");
	return n;
}

FILE *out_table_stream(const struct out_paths *p)
{
	return out_stdout_count(p) ? stderr : stdout;
}

int out_check(const struct out_paths *p)
{
	char err[512];
	int rc = 0;

	for (int i = 0; i < OUT_NFORMATS; i++) {
		if (!p->path[i] || !outfile_check(p->path[i], err, sizeof(err)))
			continue;
		fprintf(stderr, "leakbpf: cannot write %s %s: %s\n", out_formats[i].what,
			p->path[i], err);
		rc = -1;
	}
	return rc;
}

int out_write_file(const char *path, const char *what, int (*write)(const void *ctx, FILE *out),
		   const void *ctx)
{
	struct outfile of;
	char err[512];

	if (outfile_open(&of, path, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: cannot write %s %s: %s\n", what, path, err);
		return -1;
	}
	errno = 0;
	if (write(ctx, of.f)) {
		fprintf(stderr, "leakbpf: writing %s %s failed: %s\n", what, path,
			strerror(errno ? errno : EIO));
		outfile_abort(&of);
		return -1;
	}
	if (outfile_close(&of, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: writing %s %s failed: %s\n", what, path, err);
		return -1;
	}
	return 0;
}

struct format_job {
	const struct out_format *fmt;
	const struct rm_report *r;
};

static int write_format(const void *ctx, FILE *out)
{
	const struct format_job *job = ctx;

	return job->fmt->write(job->r, out);
}

static int write_one(const struct out_format *fmt, const char *path, const struct rm_report *r,
		     bool say)
{
	struct format_job job = {fmt, r};

	if (out_write_file(path, fmt->what, write_format, &job))
		return -1;
	bool to_stdout = !strcmp(path, "-");

	if (say && !to_stdout)
		fprintf(stderr, "leakbpf: wrote %s to %s", fmt->what, path);
	else if (r->other_stacks)
		fprintf(stderr, "leakbpf: %s %s", fmt->what,
			to_stdout ? "on standard output" : path);
	else
		return 0;
	if (r->other_stacks)
		fprintf(stderr,
			": the %zu stacks with most outstanding bytes, and %" PRIu64
			" other stacks summed into one (--output-stacks to change)",
			r->nstacks - 1, r->other_stacks);
	fputc('\n', stderr);
	return 0;
}

int out_write(const struct out_paths *p, const struct rm_report *r, size_t max_stacks, bool say)
{
	struct rm_bounded b;
	int rc = 0;

	if (rm_bound(r, max_stacks, &b)) {
		fprintf(stderr, "leakbpf: out of memory writing the outputs\n");
		return -1;
	}
	for (int i = 0; i < OUT_NFORMATS; i++)
		if (p->path[i] && write_one(&out_formats[i], p->path[i], &b.r, say))
			rc = -1;
	rm_bounded_free(&b);
	return rc;
}
