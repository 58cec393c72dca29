/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Intake: the only userspace reader of what the BPF programs send, the ring
 * buffer records (bpf/records.h) and the counters map. Records become
 * decoded allocations and frees for the aggregate; counters become the
 * drops and counts of the report model.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "account/aggregate.h"
#include "records.h"
#include "report/model.h"

struct intake_event;
struct intake_range;

struct intake {
	struct aggregate *agg;
	uint64_t malformed;    /* records that failed to decode: none unless a bug */
	uint64_t new_programs; /* LB_EV_NEW_PROGRAM records: the target executed a program */
	uint64_t code_maps;    /* LB_EV_CODE_MAP records: it mapped code */
	uint64_t exiting;      /* LB_EV_EXITING records: it called _exit */
	/* growth mode: where page and range records go (when unset, they
	 * count as malformed) */
	void (*page)(void *ctx, struct intake_event *ev);
	void (*range)(void *ctx, const struct intake_range *r);
	void *growth;
	/* growth mode with allocation windows: where the allocator probes'
	 * blocks go instead of the aggregate (when set) */
	void (*block)(void *ctx, const struct agg_alloc *al);
	void (*block_freed)(void *ctx, uint64_t addr);
	void *windows;
	/* --children: a traced process made process `pid`, held stopped
	 * (SIGSTOP) when `held` (whoever gets it must continue it) */
	void (*fork)(void *ctx, uint32_t pid, bool held);
	void *fork_ctx;
};

/* Growth mode: a system call that gave pages back, a move, an exec, an
 * exit (bpf/records.h, struct lb_range_event). */
struct intake_range {
	int type;	  /* LB_EV_RELEASE, LB_EV_MOVE, LB_EV_EXEC or LB_EV_EXIT */
	uint32_t tgid;	  /* the process */
	uint32_t nr;	  /* LB_EV_RELEASE: the x86_64 system call */
	uint64_t ts_ns;	  /* when it happened */
	uint64_t args[5]; /* its arguments (a move's new address in args[4]) */
};

/* One record, decoded. */
struct intake_event {
	int type;		/* enum lb_event_type */
	uint64_t addr;		/* LB_EV_FREE: the block that died; LB_EV_CODE_MAP: where */
	struct agg_alloc alloc; /* LB_EV_ALLOC and LB_EV_PAGE; its frames point into
				   the record (or into ips[] and py[] when it is not
				   8-byte aligned). alloc.addr is 0 when only inner
				   calls made blocks */
	unsigned n_inner;	/* LB_EV_ALLOC: blocks of nested allocator calls */
	struct lb_inner inner[LB_MAX_INNER];
	uint64_t ips[LB_MAX_NATIVE];
	struct agg_py_frame py[LB_MAX_PY];
	uint64_t inner_ips[LB_MAX_NATIVE]; /* intake_inner's stack */
	/* LB_EV_PAGE: the process, the faulting thread's stack pointer, and
	 * whether the kernel wrote the page (a system call) */
	uint32_t tgid;
	uint64_t sp;
	bool kernel;
	struct intake_range range; /* the range types */
};

/* Decode the size bytes of one record at data into ev. 0, or -1 when the
 * record is malformed (short, unknown type, counts out of bounds, an
 * allocation at address 0 with no inner block). */
int intake_decode(const void *data, size_t size, struct intake_event *ev);
/* Inner block i of a decoded allocation as an allocation of its own: the
 * record's stack under the inner call's return address (the outermost
 * native frame dropped when that makes more than LB_MAX_NATIVE). Its
 * frames are valid until ev changes. */
void intake_inner(struct intake_event *ev, unsigned i, struct agg_alloc *out);

/* The ring buffer's sample callback (libbpf ring_buffer_sample_fn): ctx is
 * a struct intake. Always 0: a malformed record is counted, not fatal. */
int intake_record(void *ctx, void *data, size_t size);

/* Sum the per-CPU counters map (its fd; ncpus possible CPUs) into the
 * drops and counts the BPF programs keep; the rest of d and c is zeroed. */
void intake_counters(int fd, int ncpus, struct rm_drops *d, struct rm_counts *c);
/* The same in two steps, for several objects (growth -a) and for the
 * counters that are not drops or counts: add one map into sum[LB_C_MAX],
 * then the drops and counts of the sum. */
void intake_counters_add(int fd, int ncpus, uint64_t *sum);
void intake_counters_report(const uint64_t *sum, struct rm_drops *d, struct rm_counts *c);

#endif
