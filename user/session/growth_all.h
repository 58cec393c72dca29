/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `leakbpf --growth -a`: every process on the host, new ones included. One
 * BPF object traces them all with frame-pointer stacks; a CPython process,
 * and one that has grown by GROWTH_ALL_OBJECT_BYTES, gets an object of its
 * own (at most GROWTH_ALL_OBJECTS of them): its code ranges repair the
 * native stacks (callers of code without frame pointers) and its
 * interpreter's layout gives Python stacks. Each process seen has its own pages,
 * aggregate, symbols and mappings, created at its first page and dropped
 * when it exits or runs exec; the report holds every process's stacks under
 * a root frame "process PID (COMM)" and ranks the processes by growth.
 * The report is merged by session/report_merge.c, as for --children.
 */
#ifndef SESSION_GROWTH_ALL_H
#define SESSION_GROWTH_ALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "account/intake.h"
#include "report/model.h"

#define GROWTH_ALL_OBJECTS	16
#define GROWTH_ALL_OBJECT_BYTES (1u << 20)

struct growth_all;
struct options;
struct leakbpf_bpf;
struct built_report;

/* After the shared object is loaded and its ring buffer made: the objects
 * of processes of their own add their ring buffers to rb, read by the
 * intake in (whose page and range sinks are growth_all_page and
 * growth_all_range). */
struct growth_all *growth_all_new(const struct options *o, struct leakbpf_bpf *shared,
				  struct ring_buffer *rb, struct intake *in);
/* Read every process's anonymous RSS, then attach the shared programs:
 * 0, or -1 with a reason in err. */
int growth_all_attach(struct growth_all *ga, char *err, size_t errlen);
void growth_all_free(struct growth_all *ga);

/* Records, as for growth_page() and growth_range() (ctx: the growth_all). */
void growth_all_page(void *ctx, struct intake_event *ev);
void growth_all_range(void *ctx, const struct intake_range *r);

/* Now and then: forget processes that are gone, give new Python processes
 * their object, keep mappings and symbols current. */
void growth_all_tick(struct growth_all *ga);
/* The counters of the processes' own objects, added into sum[LB_C_MAX]. */
void growth_all_sum_counters(struct growth_all *ga, int ncpus, uint64_t *sum);

/* One report of every process (meta: the caller's run metadata; drops and
 * counters of the BPF objects, summed). */
int growth_all_build(struct growth_all *ga, const struct rm_report *meta,
		     const struct rm_drops *drops, const uint64_t *counters, size_t limit,
		     bool advance, struct built_report *out);

#endif
