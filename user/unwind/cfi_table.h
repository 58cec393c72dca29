/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The unwind table of one ELF file: every address its CFI covers, as sorted
 * rows for the BPF walk (bpf/cfi.h). Built with libdw from .eh_frame (FDEs
 * found through .eh_frame_hdr) and from .debug_frame, in the file or in its
 * separate debug file, where .eh_frame says nothing.
 */
#ifndef UNWIND_CFI_TABLE_H
#define UNWIND_CFI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cfi.h"
#include "unwind/cfi_rules.h"

/* A PT_LOAD segment: turns a mapping's file offset into module addresses. */
struct cfi_segment {
	uint64_t vaddr, offset, filesz;
};

struct cfi_table {
	struct lb_cfi_row *rows; /* sorted by pc, no two neighbours alike */
	size_t nrows, cap;
	struct cfi_segment *segs;
	size_t nsegs, segcap;
	size_t fdes;		    /* FDEs read, both sources */
	size_t gaps[CFI_GAP_KINDS]; /* rows (before merging) per reason */
	bool eh_frame, debug_frame; /* which sources gave rows */
};

/* Build the table of the ELF file open at fd, of at most max_rows rows;
 * path (which may be a /proc/PID/map_files name) is where libdwfl looks for
 * separate debug info by debuglink, besides build-id under /usr/lib/debug.
 * Returns 0, or -1 with a one-line reason in err (no CFI at all, not
 * x86_64, addresses above 4 GiB, too many rows, out of memory). */
int cfi_table_build(int fd, const char *path, size_t max_rows, struct cfi_table *t, char *err,
		    size_t errlen);
void cfi_table_free(struct cfi_table *t);

/* The row that covers module address pc, or NULL before the first row. */
const struct lb_cfi_row *cfi_table_lookup(const struct cfi_table *t, uint64_t pc);

/* Load bias of a mapping of this file at start with file offset off:
 * module address = runtime address - bias. 0, or -1 when off is in no
 * segment. */
int cfi_table_bias(const struct cfi_table *t, uint64_t start, uint64_t off, uint64_t *bias);

#endif
