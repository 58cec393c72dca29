/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writing the final report to the files named on the command line. */
#ifndef SESSION_OUTPUTS_H
#define SESSION_OUTPUTS_H

#include <stdio.h>
#include "out/formats.h"

struct options;

/* Write every output the options name (--folded, --flamegraph, --json,
 * --pprof, --speedscope; "-" is stdout). 0, or -1 after a message. */
int outputs_write(const struct options *o, const struct rm_report *r);
/* Where tables go: stderr when an output is stdout, else stdout. */
FILE *outputs_table_stream(const struct options *o);

#endif
