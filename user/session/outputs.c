// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The files named on the command line: checked at start, written at the
 * final report. */
#include <stdio.h>
#include "session/options.h"
#include "session/outputs.h"
#include "snapshot/snapshot.h"

int outputs_check(const struct options *o)
{
	char err[512];
	int rc = out_check(&o->outputs);

	if (o->snapshot_dir && snapshot_dir_check(o->snapshot_dir, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: %s\n", err);
		rc = -1;
	}
	return rc;
}

int outputs_write(const struct options *o, const struct rm_report *r)
{
	return out_write(&o->outputs, r, o->output_stacks, true);
}

FILE *outputs_table_stream(const struct options *o)
{
	/* a command's standard output is its own: never mixed with a report */
	return o->command_argv ? stderr : out_table_stream(&o->outputs);
}
