/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one writer of the BPF object's settings (bpf/settings.h): its .rodata
 * before load, and while tracing its .bss and the code ranges map. The
 * layers that know the values (python/, unwind/) fill structs; this file
 * puts them into the skeleton.
 */
#ifndef BPF_SETTINGS_H
#define BPF_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

struct leakbpf_bpf;
struct py_bpf_settings;
struct walk_ranges;

/* Everything .rodata holds. */
struct bpf_load_settings {
	uint32_t target_tgid;
	uint64_t min_size, max_size;	  /* -z, -Z */
	bool interp_stacks;		  /* --native */
	const struct py_bpf_settings *py; /* NULL: not a Python target */
	bool growth_all;		  /* --growth -a: every process but growth_self */
	uint32_t growth_self;		  /* leakbpf's own tgid */
	int cfi_rows_fd;		  /* > 0: the session's unwind tables' rows
					     (session/shared_tables.h), and room for kept
					     walks (bpf/cfi.h); else one row: frame pointers */
	uint32_t ringbuf_bytes;		  /* the events ring buffer (0: the object's) */
	int held_fd;			  /* > 0: the session's map of held children */
};

/* Before load. 0, or a negative errno when a map of the session cannot be
 * shared. */
int bpf_settings_load(struct leakbpf_bpf *skel, const struct bpf_load_settings *s);
/* After load, whenever the target's code changed. */
void bpf_settings_ranges(struct leakbpf_bpf *skel, const struct walk_ranges *r);
/* After attach: whether the code object deallocator is probed. */
void bpf_settings_code_watch(struct leakbpf_bpf *skel, bool watched);
/* While tracing: whether the programs stop the target (SIGSTOP) when it
 * executes a program, after it maps code, and when it calls _exit. */
void bpf_settings_hold(struct leakbpf_bpf *skel, bool at_exec, bool at_code, bool at_exit);
/* --children: whether the programs report the target's new processes,
 * held stopped (bpf/leakbpf.bpf.c on_fork); those that share its memory
 * (vfork, posix_spawn) at their exec once the exec program is attached
 * (`at_exec`). */
void bpf_settings_follow_forks(struct leakbpf_bpf *skel, bool follow, bool at_exec);
/* --children: whether the target, a child, is held in the session's map
 * of held processes at its exec and its _exit. */
void bpf_settings_hold_child(struct leakbpf_bpf *skel, bool hold);
/* The growth mode's allocation windows: the allocator probes do nothing
 * while they are being detached. */
void bpf_settings_mute_probes(struct leakbpf_bpf *skel, bool muted);
/* Growth -a: whether a process is traced by an object of its own, which
 * the shared one then leaves alone. */
void bpf_settings_skip(struct leakbpf_bpf *skel, uint32_t tgid, bool skip);

#endif
