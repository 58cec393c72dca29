/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Watching code objects die, so that the BPF frame walk may keep the tags
 * of code objects from one allocation to the next (bpf/python.bpf.h). */
#ifndef PY_CODEWATCH_H
#define PY_CODEWATCH_H

struct py_build;
struct leakbpf_bpf;
struct probe_set;

/* After load: probe the code object deallocator (PyCode_Type.tp_dealloc);
 * once it is attached, BPF may keep tags across walks. Without it
 * (not found, attach failed) tags are kept within a walk only. Returns 0
 * when the probe is attached, -1 otherwise (nothing is printed: the walk
 * is correct either way). */
int py_codewatch_attach(const struct py_build *b, pid_t pid, struct leakbpf_bpf *skel,
			struct probe_set *ps);

#endif
