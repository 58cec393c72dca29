/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The probes a session attached: uprobes or uprobe_multi links, detached
 * together, and the record of each probed function for reports. */
#ifndef PROBES_H
#define PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "report/model.h"

struct bpf_program;
struct bpf_link;
struct bpf_object;

struct probe_pending;

/* A function's entry probed with a program, to probe aliases once. */
struct probe_site {
	const char *path;
	uint64_t file_off;
	const struct bpf_program *prog;
	const char *func;
};

struct probe_set {
	struct bpf_link **links; /* one per probe (perf-event uprobes) */
	size_t nlinks, caplinks;
	bool multi;		    /* batch probes into uprobe_multi links */
	struct probe_pending *pend; /* multi: probes waiting for probe_set_commit */
	size_t npend, cappend;
	int *mfds; /* multi: link fds */
	size_t nmfds, capmfds;
	size_t nattached;	 /* probes attached (or queued, before commit) */
	char commit_err[256];	 /* the first probe probe_set_commit could not attach */
	struct rm_probe *probes; /* one per function, for reports */
	size_t nprobes, capprobes;
	char **strings; /* owned strings behind probes[], pend[] and sites[] */
	size_t nstrings, capstrings;
	struct probe_site *sites;
	size_t nsites, capsites;
};

/* Use uprobe_multi links when the kernel has them: call before the BPF
 * object is loaded (its programs get the multi attach type). */
void probe_set_init(struct probe_set *ps, struct bpf_object *obj);

/* Attach prog at a file offset of the file at path (a path that resolves to
 * the target's file), for process pid; a return probe with `retprobe`.
 * In multi mode the probe is only queued: probe_set_commit attaches it. */
int probe_attach_offset(struct probe_set *ps, const char *path, uint64_t file_off,
			struct bpf_program *prog, bool retprobe, pid_t pid, uint64_t cookie);

/* Multi mode: attach every queued probe, one link per program, file and
 * direction. Returns how many probes could not be attached (the first is
 * described in commit_err; nothing is printed); 0 in perf-event mode. */
size_t probe_set_commit(struct probe_set *ps);

/* Record a probed function and how it went ("ok", "missing", ...). */
void probe_set_note(struct probe_set *ps, const char *name, const char *module, const char *status);

/* The function whose entry at path+file_off already has prog (an alias
 * such as memalign of aligned_alloc), or NULL; and remembering one. */
const char *probe_set_site_owner(const struct probe_set *ps, const char *path, uint64_t file_off,
				 const struct bpf_program *prog);
void probe_set_site_add(struct probe_set *ps, const char *path, uint64_t file_off,
			const struct bpf_program *prog, const char *func);

void probe_set_destroy(struct probe_set *ps);
/* Detach every probe, keeping the record of the functions for reports
 * (the allocation windows of the growth mode, which mute the programs
 * first: what fires while links go is ignored). */
void probe_set_detach(struct probe_set *ps);
/* Destroy, then empty and ready to probe again in the same mode. */
void probe_set_reset(struct probe_set *ps);

#endif
