/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One image of the target: the program it runs, from attach (or from its
 * exec) until it executes another program or exits. Everything leakbpf
 * knows of an image lives here: the process as /proc shows it, CPython, the
 * BPF object with its probes and its exec/mmap tracepoints, the aggregate,
 * the symbolizer and the report builder. When the target executes a new
 * program the session closes the image and opens one for the new program:
 * tracing starts over (session/trace.c).
 */
#ifndef SESSION_IMAGE_H
#define SESSION_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "account/aggregate.h"
#include "account/intake.h"
#include "attach/probe_set.h"
#include "attach/process_events.h"
#include "session/alloc_windows.h"
#include "session/growth.h"
#include "session/report_build.h"
#include "target/process.h"
#include "unwind/code_ranges.h"

struct options;
struct leakbpf_bpf;
struct py_support;
struct symbolizer;
struct ring_buffer;
struct growth_all;
struct shared_tables;

struct image {
	struct lb_target target;
	struct py_support *py; /* NULL: not CPython, or not supported */
	struct leakbpf_bpf *skel;
	struct probe_set probes;
	struct process_events events;
	bool watching; /* the exec and mmap tracepoints are attached */
	struct aggregate agg;
	struct intake intake;
	struct symbolizer *sym;
	struct ring_buffer *rb;
	struct report_builder builder;
	struct text_ranges tr;
	uint64_t code_maps_seen; /* intake.code_maps at the last module refresh */
	uint64_t exiting_seen;	 /* intake.exiting when last served */
	uint64_t dl_seen;	 /* dynamic loader changes acted on (bss dl_changes) */
	int ncpus;
	const struct options *o;
	struct growth growth;	      /* --growth, one target */
	struct alloc_windows windows; /* --growth --alloc-windows (options refuse it
					 otherwise and with -a) */
	struct growth_all *all;	      /* --growth -a: every process, no one target */
	bool unwind_tables;	      /* stacks from CFI (the session's tables) */
	struct bpf_link *fork_link;   /* --children: the fork program */
};

/* How to open an image. */
struct image_plan {
	const struct options *o;
	struct lb_target *target;	    /* opened by the caller; the image takes it */
	const struct lb_target *alloc_maps; /* whose mappings name the allocators:
					       target, or (held at exec) the image
					       before, whose libc the new one loads */
	const char *command_exe;	    /* -c: the command's executable, else NULL */
	bool launched;			    /* -c: the session is the target's parent */
	bool hold;			    /* stop the target at its exec and its _exit
					       (a command: the session is its parent) */
	bool hold_child;		    /* a process traced through --children: held
					       at its exec and its _exit in the map of
					       held ones */
	bool say;			    /* say each step on stderr */
	const char *cmdline;		    /* for reports */
	const char *kernel;		    /* for reports */
	/* --children and several processes */
	bool follow_forks;				  /* report new processes, held */
	int held_fd;					  /* the session's map of held ones */
	bool extra;					  /* not the first process: smaller
							     ring buffer */
	const struct shared_tables *tables;		  /* the session's unwind tables;
							     NULL: frame pointers (-a) */
	void (*fork)(void *ctx, uint32_t pid, bool held); /* struct intake */
	void *fork_ctx;
};

/* Kernel memory of an image beyond the first (several processes): the
 * events ring buffer (the unwind tables are the session's, one for all). */
#define IMAGE_EXTRA_RINGBUF (8u << 20)

/* Open an image for plan->target (held or running; with -a a target of
 * pid 0, every process), or NULL with one line in err (warnings are printed
 * on the way). An image does not move: the ring buffer and the report
 * builder point into it. */
struct image *image_open(const struct image_plan *p, char *err, size_t errlen);
void image_close(struct image *im);
/* The image's code ranges are read no more (its BPF programs are inert:
 * the program it traced is gone): its modules' unwind tables lose it as a
 * user. For an image closed away from the session's thread, which alone
 * touches the shared tables; image_close does it otherwise. */
void image_leave_tables(struct image *im);

/* Read the target's mappings again (new modules: symbols for after it
 * exits, code ranges and unwind tables for the stack walk). Nothing once
 * it is gone. With -a: every process's. */
void image_refresh_modules(struct image *im);
/* Whether the dynamic loader changed its objects since the last refresh
 * (new libraries want their unwind tables at once). */
bool image_loader_changed(const struct image *im);

/* Between reads of the ring buffer: the allocation windows open and
 * close (--growth --alloc-windows). */
void image_tick(struct image *im);

/* Whether the BPF programs saw the target execute a new program. */
bool image_execed(const struct image *im);

/* Stop the target after it maps code (while a module is awaited), or not. */
void image_hold_code(struct image *im, bool hold);

/* A report of the image now (session/report_build.h): `limit` stacks at
 * most, `advance` makes it the growth baseline, `final` marks it. */
int image_build(struct image *im, size_t limit, bool advance, bool final, bool exited,
		int exit_status, struct built_report *out);

/* What BPF lost or saw so far, summed into d and c (with the aggregate's
 * own counts), for the live status line. */
void image_counters(struct image *im, struct rm_drops *d, struct rm_counts *c);

/* Between reports: free names nothing uses any more, start caches over at
 * their memory bounds (python/, symbols/). */
void image_trim(struct image *im);

#endif
