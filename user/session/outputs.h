/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The files named on the command line: checked at start, written at the
 * final report (through out/registry.h). */
#ifndef SESSION_OUTPUTS_H
#define SESSION_OUTPUTS_H

#include <stdio.h>
#include "report/model.h"

struct options;

/* Before tracing starts: every output file and the snapshot directory can
 * be written. 0, or -1 after one line per problem on stderr. */
int outputs_check(const struct options *o);
/* Write every output the options name ("-" is stdout), bounded by
 * --output-stacks. 0, or -1 after a message. */
int outputs_write(const struct options *o, const struct rm_report *r);
/* Where tables go: stderr with a command (its stdout is its own) or when
 * an output is stdout, else stdout. */
FILE *outputs_table_stream(const struct options *o);

#endif
