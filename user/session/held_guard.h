/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --children holds each new process stopped at its fork (SIGSTOP from the
 * BPF program) until its probes are in place. Such a process must never
 * stay stopped, not even when leakbpf is killed (SIGKILL): the BPF objects
 * share one map of the processes held, and a small guardian process,
 * forked by leakbpf before anything is held, waits for leakbpf's end (a
 * pipe that closes with it) and then continues every process still in the
 * map. The guardian ignores every signal it can: `pkill leakbpf` matches
 * it too, and must not end it before leakbpf. A child traced is held the same way at each exec (the
 * new program's probes), and so is a process that shares its parent's memory (vfork) at its exec,
 * where it is first traced.
 */
#ifndef SESSION_HELD_GUARD_H
#define SESSION_HELD_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

struct held_guard {
	int map_fd; /* pid -> 1, written by the BPF programs (bpf/leakbpf.bpf.c held) */
	int pipe_w; /* closed when leakbpf ends, however */
	pid_t pid;  /* the guardian */
};

/* Create the map and start the guardian: 0, or -1 with why in err. */
int held_guard_start(struct held_guard *g, char *err, size_t errlen);
/* Let a held process run on (and forget it). */
void held_guard_release(struct held_guard *g, pid_t pid);
/* Whether pid is held (the BPF programs put it in the map). */
bool held_guard_holds(const struct held_guard *g, pid_t pid);
/* At the end: continue what is still held, stop the guardian. */
void held_guard_stop(struct held_guard *g);

#endif
