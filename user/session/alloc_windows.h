/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The growth mode's allocation windows (--alloc-windows LEN/EVERY): for
 * LEN every EVERY, the allocator probes of the exact mode are attached;
 * the blocks they see go to account/samples.c (their stacks interned in
 * the pages' aggregate), and the blocks still live at a window's end are
 * its survivors. Before each report account/page_owners.c gives the
 * pages to the survivors' stacks. Out of the windows nothing traps: the
 * target pays the exact mode's cost LEN out of every EVERY.
 */
#ifndef SESSION_ALLOC_WINDOWS_H
#define SESSION_ALLOC_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>
#include "account/page_owners.h"
#include "account/samples.h"
#include "report/model.h"

struct aggregate;
struct agg_alloc;
struct leakbpf_bpf;
struct lb_target;
struct probe_set;
struct py_support;
struct ring_buffer;

/* New pages held since the last window (or attach) before a window
 * opens: a window is only worth its cost where there is growth to tell,
 * and the blocks it sees then land in pages made since attach. A process
 * that does not grow never pays for one. */
#define ALLOC_WINDOWS_MIN_PAGES 16

/* Blocks sampled at most (about 40 bytes each). */
#define ALLOC_WINDOWS_MAX_BLOCKS (1u << 18)

struct alloc_windows {
	struct samples samples;
	struct page_owners_counts owners;
	struct aggregate *agg;	      /* the pages': stacks are interned there */
	struct probe_set *probes;     /* the image's (unused otherwise in growth mode) */
	struct leakbpf_bpf *skel;     /* its allocator programs loaded, unattached */
	struct ring_buffer *rb;	      /* read at a window's end */
	const struct lb_target *maps; /* whose mappings name the allocators */
	const char *command_exe;      /* -c: probed too when it defines malloc */
	struct py_support *py;	      /* CPython's object allocator, or NULL */
	uint64_t len_ns, every_ns;
	uint64_t next_ns;  /* when the next window may open */
	uint64_t pages_at; /* pages made resident when the last window closed */
	uint64_t open_ns;  /* the open window's start, 0 when none is open */
	uint64_t windows;  /* windows done */
	uint64_t failed;   /* windows whose probes could not be attached */
	/* -v: one stderr line per window (what opening and closing took,
	 * what it saw), for users weighing the windows' cost */
	bool verbose;
	uint64_t attach_ns; /* the open window's: probes attached in */
	uint64_t seen;	    /* blocks the open window's probes reported */
};

void alloc_windows_init(struct alloc_windows *w, double len_s, double every_s);
void alloc_windows_free(struct alloc_windows *w);

/* Open a window when one is due (EVERY since the last one opened, and
 * ALLOC_WINDOWS_MIN_PAGES more pages made resident since it closed, of
 * `pages` made so far), close the open one when its time is up (or with
 * `end`: tracing stops). */
void alloc_windows_tick(struct alloc_windows *w, uint64_t pages, bool end);

/* The intake's sinks (struct intake: block, block_freed), ctx = w. */
void alloc_windows_block(void *ctx, const struct agg_alloc *al);
void alloc_windows_freed(void *ctx, uint64_t addr);

/* Before a report: the pages without an owner to the survivors' stacks;
 * then what the report says of the windows. */
void alloc_windows_assign(struct alloc_windows *w);
void alloc_windows_report(const struct alloc_windows *w, struct rm_report *r);

#endif
