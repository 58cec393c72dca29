/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The human-readable table printed every interval and at the end. */
#ifndef REPORT_TEXT_H
#define REPORT_TEXT_H

#include <stdio.h>
#include "report/model.h"

/* Print the top `top` stacks of r, leaf frame first, with a header that
 * always includes events seen and drops. */
void report_text_print(const struct rm_report *r, unsigned top, FILE *out);
/* "drops: none\n", or "drops: " and every nonzero counter (report/drops.h). */
void table_print_drops(const struct rm_drops *d, FILE *out);
/* One frame line of a table: indent, the frame as text with whatever came
 * from the target escaped (util/escape.h), newline. */
void table_print_frame(const struct rm_frame *f, FILE *out);

#endif
