/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Intake: the only userspace reader of what the BPF programs send, the ring
 * buffer records (bpf/records.h) and the counters map. Records become
 * decoded allocations and frees for the aggregate; counters become the
 * drops and counts of the report model.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include "account/aggregate.h"
#include "records.h"
#include "report/model.h"

struct intake {
	struct aggregate *agg;
	uint64_t malformed; /* records that failed to decode: none unless a bug */
};

/* One record, decoded. */
struct intake_event {
	int type;		/* LB_EV_ALLOC or LB_EV_FREE */
	uint64_t addr;		/* LB_EV_FREE: the block that died */
	struct agg_alloc alloc; /* LB_EV_ALLOC; its frames point into the record (or
				   into ips[] and py[] when it is not 8-byte aligned) */
	uint64_t ips[LB_MAX_NATIVE];
	struct agg_py_frame py[LB_MAX_PY];
};

/* Decode the size bytes of one record at data into ev. 0, or -1 when the
 * record is malformed (short, unknown type, counts out of bounds, an
 * allocation at address 0). */
int intake_decode(const void *data, size_t size, struct intake_event *ev);

/* The ring buffer's sample callback (libbpf ring_buffer_sample_fn): ctx is
 * a struct intake. Always 0: a malformed record is counted, not fatal. */
int intake_record(void *ctx, void *data, size_t size);

/* Sum the per-CPU counters map (its fd; ncpus possible CPUs) into the
 * drops and counts the BPF programs keep; the rest of d and c is zeroed. */
void intake_counters(int fd, int ncpus, struct rm_drops *d, struct rm_counts *c);

#endif
