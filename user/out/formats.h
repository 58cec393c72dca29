/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writers of the report model to files. Each returns 0, or -1 with errno set. */
#ifndef OUT_FORMATS_H
#define OUT_FORMATS_H

#include <stdio.h>
#include "report/model.h"

/* Folded stacks for flamegraph.pl: "root;...;leaf BYTES\n" per stack with
 * outstanding bytes. */
int folded_write(const struct rm_report *r, FILE *out);
/* Self-contained interactive SVG flame graph of outstanding bytes. */
int flamegraph_write(const struct rm_report *r, FILE *out, const char *title);
/* JSON (schema in doc/json-schema.md). */
int json_write(const struct rm_report *r, FILE *out);
/* Gzipped pprof profile.proto (Go heap profile conventions). */
int pprof_write(const struct rm_report *r, FILE *out);
/* speedscope file-format JSON. */
int speedscope_write(const struct rm_report *r, FILE *out);

#endif
