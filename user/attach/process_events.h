/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The target's life as BPF sees it: the tracepoints that report its exec
 * (raw: the new image needs new probes) and its mmap of code (new modules for
 * symbols and the stack walk), and can hold it stopped at those moments
 * (bpf/leakbpf.bpf.c, hold_exec and hold_code).
 */
#ifndef PROCESS_EVENTS_H
#define PROCESS_EVENTS_H

struct bpf_link;
struct leakbpf_bpf;

struct process_events {
	struct bpf_link *exec, *mmap_enter, *mmap_exit; /* mmap_exit: code maps are seen */
};

/* Attach them: 0; 1 with the exec's alone (the mmap tracepoints need
 * tracefs: a reason in err, and new modules are noticed through the
 * dynamic loader or the periodic refresh); -1 with a reason in err when
 * the exec's cannot be attached either (the session then goes on without
 * noticing exec and new modules at once). */
int process_events_attach(struct process_events *pe, struct leakbpf_bpf *skel, char *err,
			  size_t errlen);
void process_events_detach(struct process_events *pe);

#endif
