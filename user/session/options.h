/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command line of the trace modes:
 *   leakbpf [--growth] [options] -p PID[,PID...] [INTERVAL [COUNT]]
 *   leakbpf [--growth] [options] -a [INTERVAL [COUNT]]
 *   leakbpf [--growth] [options] [INTERVAL [COUNT]] -c "CMD ARGS"
 *   leakbpf [--growth] [options] [INTERVAL [COUNT]] -- CMD ARG... */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "out/registry.h"

/* -p PID,PID...: processes named at most. */
#define OPTIONS_PIDS_MAX 64
/* --max-procs: default and largest. */
#define MAX_PROCS_DEFAULT 32
#define MAX_PROCS_MAX	  1024

struct options {
	pid_t pid;		      /* -p: the first process */
	pid_t pids[OPTIONS_PIDS_MAX]; /* -p: every process named (pids[0] == pid) */
	unsigned npids;		      /* 0 without -p */
	bool children;		      /* --children: their process trees too */
	unsigned max_procs;	      /* --max-procs: processes traced at once */
	bool per_process;	      /* --per-process: one table section per process */
	const char *command;	      /* -c "CMD ARGS", as given */
	char **command_argv;	      /* the command's words: -c split (owned), or after -- */
	bool command_owned;	      /* command_argv was allocated (-c) */
	char *const *command_env;     /* the command's environment (main's, as leakbpf got it) */
	double interval_s;	      /* positional INTERVAL, default 5 */
	long count;		      /* positional COUNT: reports before exiting, 0 = unlimited */
	double duration_s;	      /* -d, 0 = until target exits or signal */
	double min_age_s;	      /* -o */
	unsigned top;		      /* -T, default 10 */
	uint64_t min_size;	      /* -z */
	uint64_t max_size;	      /* -Z */
	bool native;		      /* --native: show every native frame */
	bool no_python;		      /* --no-python: native-only tracing */
	bool py_alloc_all;	      /* --py-alloc all: every pymalloc block (else objects) */
	bool py_alloc_set;	      /* --py-alloc was given */
	bool growth;		      /* --growth: resident pages per stack, from page faults */
	bool all;		      /* -a: every process on the host (growth mode) */
	bool alloc_windows;	      /* --alloc-windows: growth mode with allocator probes
					 for window_s every window_every_s */
	double window_s, window_every_s;
	bool verbose;		  /* -v */
	bool quiet;		  /* -q: no periodic tables, final report only */
	struct out_paths outputs; /* --folded, --flamegraph, --json, ... (out/registry.h) */
	uint64_t output_stacks;	  /* --output-stacks: stacks per file, 0 = all */
	double snapshot_every_s;  /* --snapshot-every */
	const char *snapshot_dir; /* --snapshot-dir */
	unsigned snapshot_keep;	  /* --snapshot-keep, default 48 */
	uint64_t max_tracked;	  /* --max-tracked: outstanding blocks tracked, default 4M */
	uint64_t max_stacks;	  /* --max-stacks: distinct stacks kept, default 256k */
};

/* Parse argv. Returns 0 to run, 1 when --help/--version was printed (exit 0),
 * -1 after printing a one-line error (exit 2). */
int options_parse(int argc, char **argv, struct options *o);
/* Free what options_parse allocated. */
void options_free(struct options *o);

/* --alloc-windows without a value: 1 s of allocator probes a minute. */
#define ALLOC_WINDOW_S	     1.0
#define ALLOC_WINDOW_EVERY_S 60.0

/* Longest duration taken (-d, INTERVAL, -o, --snapshot-every): a year. */
#define DURATION_MAX_S (365.0 * 86400)

/* "10", "10s", "250ms", "2m", "1h" -> seconds. `bare_unit_s` is the unit of a
 * bare number (1 for seconds, 0.001 for milliseconds). -1 on error, and for
 * more than DURATION_MAX_S. */
double parse_duration(const char *s, double bare_unit_s);
/* A process id (1 to the kernel's largest). 0, or -1. */
int parse_pid(const char *s, pid_t *pid);
/* "12,34": distinct process ids, at most `max`, none `self`. 0, or -1 with
 * why in err. */
int parse_pid_list(const char *s, pid_t self, pid_t *pids, unsigned max, unsigned *n, char *err,
		   size_t errlen);
/* "4096", "4k", "1M", "2G" -> bytes. Returns -1 on error. */
int parse_size(const char *s, uint64_t *out);

#endif
