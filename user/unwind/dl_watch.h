/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Libraries the target maps after attach (dlopen) get their unwind tables
 * at once: the dynamic loader calls _dl_debug_state whenever its list of
 * loaded objects changes (debuggers put a breakpoint there for the same
 * reason); a probe there counts the change and wakes leakbpf, which reads
 * the target's mappings again without waiting for its periodic refresh.
 */
#ifndef UNWIND_DL_WATCH_H
#define UNWIND_DL_WATCH_H

struct lb_target;
struct leakbpf_bpf;
struct probe_set;

/* Probe _dl_debug_state in the dynamic loader t maps (none in a static
 * binary: the periodic refresh remains). Returns 0 when probed (or queued
 * for probe_set_commit), -1 otherwise; the outcome is in the probe set. */
int dl_watch_attach(const struct lb_target *t, struct leakbpf_bpf *skel, struct probe_set *ps);

#endif
