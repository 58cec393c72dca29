/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The growth mode's part of a session (the growth programs of
 * bpf/leakbpf.bpf.c, account/pages.c): which BPF programs load, the
 * tracepoints attached, the page and range records (decoded by
 * account/intake.c) turned into resident pages per stack, and what the
 * report says of them (faults, pages given back, the anonymous RSS they
 * explain).
 */
#ifndef SESSION_GROWTH_H
#define SESSION_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "account/intake.h"
#include "account/pages.h"
#include "report/model.h"
#include "target/resident.h"

struct leakbpf_bpf;
struct lb_target;

struct growth {
	struct page_acct pages;
	struct resident_probe rp;
	struct lb_target *target; /* its mappings tell a page's kind */
	uint64_t maps_read_ns;	  /* when they were last re-read for a page */
	bool thp;		  /* transparent huge pages are enabled */
	uint64_t huge_pages;
	uint64_t file_pages; /* copy-on-write of a private file mapping's page */
	uint64_t anon_rss_at_attach;
	uint64_t anon_rss; /* read by growth_read_rss */
	bool rss_read;
};

/* Before load, in either mode: the exact mode loads the allocator probes,
 * the growth mode the tracepoint programs, and with allocation windows
 * the allocator probes too (but _exit's: a window holds nothing). */
void growth_select_programs(struct leakbpf_bpf *skel, bool growth, bool windows);

int growth_init(struct growth *g, struct aggregate *agg, struct lb_target *target);
void growth_free(struct growth *g);
/* Attach the tracepoint programs, after reading the anonymous RSS the
 * pages will be compared with: 0, or -1 with a reason in err. */
int growth_attach(struct growth *g, struct leakbpf_bpf *skel, char *err, size_t errlen);
/* The programs alone (-a: no one target). */
int growth_attach_programs(struct leakbpf_bpf *skel, char *err, size_t errlen);

/* A page record (its stack's flags get the page's kind), and a range
 * record: the intake's sinks (struct intake: page, range) with growth = g. */
void growth_page(void *g, struct intake_event *ev);
void growth_range(void *g, const struct intake_range *r);

/* Before a report, and before the ring buffer is read for it: the
 * target's anonymous RSS, so that every fault it counts has its record
 * read by the time the report compares the two (read after, the RSS could
 * hold pages whose records are still in the ring buffer). */
void growth_read_rss(struct growth *g);

/* Before a report: forget the held pages that are no longer resident
 * (target/resident.c reads the target's pagemap). */
void growth_check(struct growth *g);

/* The growth part of a report: BPF counters (summed, LB_C_MAX of them)
 * and the anonymous RSS growth_read_rss read (0 once the target exited). */
void growth_report(const struct growth *g, const uint64_t *counters, bool exited,
		   struct rm_report *r);

#endif
