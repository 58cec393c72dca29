/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Attaching uprobes and keeping track of what got attached. */
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
struct elf_file;

struct probe_site;
struct probe_pending;

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
	char **strings;		 /* owned strings behind probes[] */
	size_t nprobes, capprobes, nstrings;
	struct probe_site *sites; /* entry sites attached, to skip aliases */
	size_t nsites, capsites;
};

struct probe_site {
	char *path;
	uint64_t file_off;
	const char *func;
};

/* Where a uprobe on a function's entry costs least while still seeing
 * every call that matters. Returns the byte offset from the function's
 * start and sets *emulated when the kernel emulates the instruction there
 * (no single-step). Only skips "test %rdi,%rdi; je" (NULL guard of free-like
 * functions), so it is only for functions whose NULL path is a no-op. */
unsigned probe_entry_skip(const uint8_t *code, size_t len, bool allow_null_guard_skip,
			  bool *emulated);
/* Whether the kernel emulates the instruction at code (push, nop, endbr64,
 * jmp/call rel, jcc). */
bool probe_insn_emulated(const uint8_t *code, size_t len);

/* Attach prog to `func` in the ELF at `path` (a path that resolves to the
 * target's file), for target pid. With `ret`, a uretprobe at the entry.
 * With `null_guard_skip`, the entry probe may move past a NULL guard.
 * Records the result (ok / missing / failed) under `label`.
 * Returns 0 when attached, -ENOENT when the symbol is missing, <0 else. */
int probe_function(struct probe_set *ps, struct elf_file *ef, const char *path,
		   const char *module_label, const char *func, struct bpf_program *prog,
		   struct bpf_program *ret_prog, pid_t pid, uint64_t cookie, bool null_guard_skip);

/* Use uprobe_multi links when the kernel has them: call before the BPF
 * object is loaded (its programs get the multi attach type). */
void probe_set_init(struct probe_set *ps, struct bpf_object *obj);

/* Attach prog at a raw file offset (for callers that find their own sites).
 * In multi mode the probe is only queued: probe_set_commit attaches it. */
int probe_attach_offset(struct probe_set *ps, const char *path, uint64_t file_off,
			struct bpf_program *prog, bool retprobe, pid_t pid, uint64_t cookie);

/* Multi mode: attach every queued probe, one link per program, file and
 * direction. Returns how many probes could not be attached (the first is
 * described in commit_err; nothing is printed); 0 in perf-event mode. */
size_t probe_set_commit(struct probe_set *ps);

void probe_set_note(struct probe_set *ps, const char *name, const char *module, const char *status);
void probe_set_destroy(struct probe_set *ps);

#endif
