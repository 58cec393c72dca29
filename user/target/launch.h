/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -c mode: start a command held before exec, trace it from its first
 * allocation, and see it stop before it exits (ptrace exit event) so its
 * mappings can still be read for symbolization. Signals are passed on
 * untouched, so the command behaves and exits exactly as without leakbpf.
 */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

struct launch {
	pid_t pid;
	int go_fd;	   /* write end: closing it lets the child exec */
	char *const *argv; /* the command's words (the caller's) */
	char *exe;	   /* resolved path of argv[0] */
	bool execed;	   /* child passed exec */
	bool exiting;	   /* child is stopped at its exit event */
	bool exited;
	int status;  /* wait status once exited */
	bool traced; /* under ptrace */
};

/* Fork a child that waits for launch_release(), then runs argv (argv[0]
 * looked up in PATH) with the environment envp. -1 with err on failure. */
int launch_start(struct launch *l, char *const *argv, char *const *envp, char *err, size_t errlen);
/* Let the child exec the command. */
void launch_release(struct launch *l);
/* After launch_release: wait until the command's image is mapped and the
 * child is held at its exec event (0), or it failed to start (-1, then
 * l->exited and l->status are set). launch_continue() lets it run. */
int launch_wait_exec(struct launch *l);
void launch_continue(struct launch *l);
/* From the exec stop, let the dynamic loader run one system call at a time
 * until a library whose name starts with prefix is mapped (the child is
 * then held again). 0 when it appeared, -1 when not within max_syscalls
 * or the child exited. */
int launch_run_until_mapped(struct launch *l, const char *prefix, int max_syscalls);
/* Let the held child run to its entry point (_start): by then the loader
 * has mapped every library it needs. The child is held again there.
 * 0 on success, -1 when that could not be done (it is then running). */
int launch_run_to_entry(struct launch *l);

enum launch_event {
	LAUNCH_NOTHING = 0,
	LAUNCH_EXECED,	/* just passed exec: a new image is mapped */
	LAUNCH_EXITING, /* about to exit, mappings still readable: resume with launch_resume */
	LAUNCH_EXITED,	/* gone; status in l->status */
};

/* Handle pending child state changes without blocking. */
enum launch_event launch_poll(struct launch *l);
/* Let a child stopped at LAUNCH_EXITING finish exiting. */
void launch_resume(struct launch *l);
/* Stop tracing the child (leave it running). */
void launch_detach(struct launch *l);
void launch_free(struct launch *l);

#endif
