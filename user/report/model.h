/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The report model: a self-contained picture of what leakbpf saw at one
 * moment. Every output (table, folded, SVG, JSON, pprof, speedscope,
 * snapshots) is rendered from it, so they always agree.
 */
#ifndef REPORT_MODEL_H
#define REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report/drops.h"

enum rm_frame_kind {
	RM_FRAME_NATIVE = 0,
	RM_FRAME_PYTHON = 1,
};

/* Longest function name a frame carries, in bytes with the NUL: symbolizers
 * cut longer ones (C++ names demangle to any length). */
#define RM_FUNCTION_MAX 1024
/* Room for rm_frame_format() of a frame whose file is a path of PATH_MAX. */
#define RM_FRAME_TEXT_MAX (RM_FUNCTION_MAX + 4096 + 32)

/* One resolved frame. Strings are owned by whoever built the report and
 * stay valid as long as the report does. */
struct rm_frame {
	const char *function; /* NULL when unknown */
	const char *file;     /* NULL when unknown */
	int line;	      /* 0 when unknown */
	const char *module;   /* path of the ELF (native) or NULL */
	uint64_t offset;      /* address relative to module load base */
	uint64_t address;     /* raw address in the target (0 for Python) */
	enum rm_frame_kind kind;
	bool inlined; /* inlined into the frame before it (its caller), at the
		       * same address: one machine frame, several source frames */
};

struct rm_stack {
	uint32_t id;		       /* stable within one run */
	const struct rm_frame *frames; /* root first */
	unsigned nframes;
	uint64_t out_bytes; /* outstanding (honouring -o) */
	uint64_t out_count;
	uint64_t alloc_bytes; /* allocated through this stack since attach */
	uint64_t alloc_count;
	int64_t growth_bytes; /* out_bytes minus previous report's */
	int64_t growth_count;
	double first_seen_s; /* seconds since attach */
	double last_seen_s;
	uint32_t flags; /* RM_STACK_* */
};

enum rm_stack_flags {
	RM_STACK_NATIVE_TRUNC = 1 << 0, /* native stack was cut at the depth limit */
	RM_STACK_PY_TRUNC = 1 << 1,	/* Python stack was cut at the depth limit */
	RM_STACK_PY_MISSING = 1 << 2,	/* Python frames could not be read */
	RM_STACK_OTHERS = 1 << 3,	/* "[N other stacks]": stacks left out of a file, summed */
	RM_STACK_THREAD = 1 << 4,	/* growth mode: pages of thread stacks */
	RM_STACK_NATIVE_ANON = 1 << 5,	/* native walk stopped at JIT or anonymous code */
	RM_STACK_NATIVE_STOPPED = 1 << 6, /* native walk stopped: no rule, unreadable stack */
	RM_STACK_SAMPLED = 1 << 7,	  /* growth mode: pages given to this allocation stack by
					     the survivors of the allocation windows */
};

struct rm_counts {
	uint64_t allocs;	 /* allocation records received */
	uint64_t frees;		 /* free records received */
	uint64_t frees_unknown;	 /* frees of blocks allocated before attach/untracked */
	uint64_t nested_ignored; /* inner allocator calls accounted by the outer */
	uint64_t filtered;	 /* outside -z/-Z */
};

enum rm_mode {
	RM_MODE_EXACT = 0,  /* allocator probes: outstanding allocations */
	RM_MODE_GROWTH = 1, /* page faults: resident pages per stack */
};

/* Growth mode: where the pages came from, and the anonymous RSS they are
 * meant to explain. A "block" of the report is a page. */
struct rm_growth {
	uint64_t write_faults;	     /* write faults */
	uint64_t pages_resident;     /* pages the target made resident since attach */
	uint64_t pages_known;	     /* faults on pages already held (races, refaults) */
	uint64_t pages_released;     /* held pages given back */
	uint64_t pages_moved;	     /* held pages moved by mremap */
	uint64_t pages_gone;	     /* held pages found not resident at a report, unseen */
	uint64_t file_faults;	     /* faults that added pages of files: not counted */
	uint64_t huge_pages;	     /* huge pages among the resident ones */
	uint64_t thread_stack_bytes; /* outstanding bytes on thread stacks (RM_STACK_THREAD) */
	uint64_t anon_rss;	     /* RssAnon now (0: unknown) */
	uint64_t anon_rss_at_attach;
	/* --alloc-windows (windows 0 without): windows done, their length
	 * and period, the blocks that survived them, and the pages given to
	 * the survivors' stacks */
	uint64_t windows;
	double window_s, window_every_s;
	uint64_t survivors;
	uint64_t pages_sampled;
};

/* -a, and several processes traced (-p A,B, --children): one process. Its
 * stacks in the report start with a frame "process PID (COMM)". */
struct rm_process {
	int pid;
	const char *comm;
	const char *python;	     /* CPython when its frames were walked, else NULL */
	uint64_t out_bytes;	     /* what its stacks hold */
	uint64_t out_count;	     /* pages */
	uint64_t recent_bytes;	     /* of which made resident in the last interval_s */
	uint64_t anon_rss;	     /* its RssAnon now */
	uint64_t anon_rss_at_attach; /* when tracing began (0: started since) */
	/* several processes traced (not -a) */
	uint64_t rss_bytes;  /* its RSS (0: unknown, gone) */
	uint64_t drops_lost; /* its events and blocks lost (RM_DROP_LOST) */
	int parent;	     /* the traced process it was forked by, else 0 */
	bool exited;
};

struct rm_probe {
	const char *name;   /* "malloc", "PyObject_Malloc", ... */
	const char *module; /* file probed */
	const char *status; /* "ok", "ok (single-stepped)", "missing", "failed: ..." */
};

struct rm_report {
	/* run metadata */
	enum rm_mode mode;
	int pid;
	const char *comm;
	const char *cmdline;
	const char *leakbpf_version;
	const char *kernel;
	const char *python;	    /* "CPython 3.11.2 ..." or NULL */
	const char *allocator_note; /* what the probes cannot see, or NULL */
	double unix_time;	    /* when this report was made */
	double elapsed_s;	    /* since attach */
	double interval_s;	    /* since the previous report (growth window) */
	double min_age_s;	    /* -o: only allocations at least this old */
	bool final;
	bool target_exited;
	int exit_status; /* when target_exited and known, else -1 */
	unsigned execs;	 /* programs the target executed while traced: the numbers
			    cover the last one, since its exec */

	struct rm_counts counts;
	struct rm_drops drops;
	const struct rm_probe *probes;
	size_t nprobes;

	/* target memory */
	uint64_t rss_bytes;	  /* 0 when unknown (target gone) */
	int64_t rss_growth_bytes; /* since previous report */
	uint64_t rss_at_attach;

	struct rm_growth growth; /* growth mode only */
	/* -a: every process with pages held, by recent_bytes, then out_bytes
	 * (pid is 0 then); several processes traced: each, in the order they
	 * were found (pid is the first's) */
	const struct rm_process *processes;
	size_t nprocesses;

	/* totals over all stacks (outstanding honours -o) */
	uint64_t out_bytes;
	uint64_t out_count;
	int64_t growth_bytes;

	/* stacks with outstanding or allocated bytes, by rm_stack_rank */
	const struct rm_stack *stacks;
	size_t nstacks;
	/* stacks summed into the RM_STACK_OTHERS stack (rm_bound), else 0 */
	uint64_t other_stacks;
};

/* The rank of stacks in a report, for qsort of struct rm_stack: most
 * outstanding bytes first, then most allocated, then the lower id (ids are
 * unique in a report, so the order is total and the same every time). */
int rm_stack_rank(const void *a, const void *b);

/* "function (file:LINE)", "function", or "module+0xOFF" into buf. */
const char *rm_frame_format(const struct rm_frame *f, char *buf, size_t len);

#endif
