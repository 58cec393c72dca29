/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning the aggregate into a report model (symbolized, merged stacks). */
#ifndef REPORT_BUILD_H
#define REPORT_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include "report/model.h"

struct aggregate;
struct symbolizer;
struct py_support;

/* A stack's outstanding bytes and count at the previous report: the
 * baseline of its growth. serial tells a stack id taken again after
 * compaction from the stack that had it. */
struct growth_baseline {
	uint64_t serial;
	uint64_t out_bytes, out_count;
};

/* What persists between reports of one run. */
struct report_builder {
	struct aggregate *agg;
	struct symbolizer *sym;
	struct py_support *py; /* NULL when not Python */
	bool native_all;       /* --native */
	double min_age_s;      /* -o */
	uint64_t attach_ns;    /* CLOCK_MONOTONIC at attach */
	uint64_t prev_ns;      /* previous report */
	uint64_t rss_attach, rss_prev;
	struct growth_baseline *base; /* by stack id */
	size_t base_cap;
	struct rm_report meta; /* run metadata filled by the caller */
};

/* A built report and the memory behind it. */
struct built_report {
	struct rm_report r;
	struct rm_stack *stacks;
	struct rm_frame *frames;
	uint64_t *scratch;
};

/* Build a report of the current state. `limit` stacks at most (0 = all),
 * by outstanding bytes. `advance` makes this the new growth baseline.
 * drops/counts from BPF are passed in (userspace ones are added here). */
int report_build(struct report_builder *b, const struct rm_drops *bpf_drops,
		 const struct rm_counts *bpf_counts, size_t limit, bool advance,
		 struct built_report *out);
void report_release(struct built_report *br);
/* Free what the builder keeps between reports. */
void report_builder_free(struct report_builder *b);

#endif
