/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Several processes' reports as one: each stack under a root frame
 * "process PID (COMM)", ranked together by outstanding bytes, the totals
 * and drops summed, one struct rm_process per process. Used by --growth -a
 * (session/growth_all.c) and by sessions of several processes (-p A,B,
 * --children: session/trace.c).
 */
#ifndef SESSION_REPORT_MERGE_H
#define SESSION_REPORT_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include "session/report_build.h"

/* Stack ids of the merged report: the part's serial above these bits. */
#define MERGE_ID_BITS 18

struct merge_part {
	const struct rm_report *r; /* the process's own report */
	const char *root;	   /* its root frame's text, "process PID (COMM)", raw */
	uint32_t serial;	   /* distinct per process in a run: stack ids */
	struct rm_process proc;	   /* what the report says of it (pid, comm...):
				      outstanding bytes and count are filled here */
};

/* Into out (released with report_release): meta's metadata, every part's
 * stacks (`limit` at most, 0 = all), sums of their totals, counts and drops
 * (added to meta's drops), and the parts' processes in the order given. A
 * part without stacks is listed all the same. 0, or -1 (out of memory). */
int report_merge(const struct rm_report *meta, struct merge_part *parts, size_t n, size_t limit,
		 struct built_report *out);

#endif
