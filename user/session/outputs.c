// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writing the final report to the files named on the command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "session/options.h"
#include "session/outputs.h"

static int write_file(const char *path, const char *what, const struct rm_report *r,
		      int (*fn)(const struct rm_report *, FILE *))
{
	bool to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "we");
	if (!f) {
		fprintf(stderr, "leakbpf: cannot write %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	int err = fn(r, f);
	if (err)
		fprintf(stderr, "leakbpf: writing %s %s failed: %s\n", what, path, strerror(errno));
	if (to_stdout)
		fflush(f);
	else if (fclose(f) && !err)
		err = -1;
	if (!err && !to_stdout)
		fprintf(stderr, "leakbpf: wrote %s to %s\n", what, path);
	return err;
}

static int flamegraph_titled(const struct rm_report *r, FILE *f)
{
	return flamegraph_write(r, f, "leakbpf: outstanding bytes");
}

int outputs_write(const struct options *o, const struct rm_report *r)
{
	int err = 0;
	if (o->folded)
		err |= write_file(o->folded, "folded stacks", r, folded_write);
	if (o->flamegraph)
		err |= write_file(o->flamegraph, "flame graph", r, flamegraph_titled);
	if (o->json)
		err |= write_file(o->json, "JSON report", r, json_write);
	if (o->pprof)
		err |= write_file(o->pprof, "pprof profile", r, pprof_write);
	if (o->speedscope)
		err |= write_file(o->speedscope, "speedscope profile", r, speedscope_write);
	return err ? -1 : 0;
}

/* Tables go to stderr when an output file is stdout ("-"), so that the
 * file stays machine-readable. */
FILE *outputs_table_stream(const struct options *o)
{
	const char *outs[] = {o->folded, o->flamegraph, o->json, o->pprof, o->speedscope};
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (outs[i] && !strcmp(outs[i], "-"))
			return stderr;
	return stdout;
}
