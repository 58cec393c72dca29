/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -c mode: start a command held before exec and trace it from its first
 * allocation. It is under ptrace only from its start until tracing is set
 * up (exec, the loader's mapping of libpython, its entry point); then it is
 * detached and runs as without leakbpf: signals go straight to it, and its
 * exit is seen by waitpid (leakbpf is its parent).
 */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/* What the command gets in place of what leakbpf changed for itself. */
struct launch_child {
	char *const *envp; /* its environment */
	sigset_t mask;	   /* its signal mask (leakbpf blocks some for signalfd) */
	bool restore_mask;
	struct rlimit nofile; /* its open files limit (leakbpf raises its own) */
	bool restore_nofile;
};

struct launch {
	pid_t pid;
	int go_fd;	   /* write end: closing it lets the child exec */
	char *const *argv; /* the command's words (the caller's) */
	char *exe;	   /* resolved path of argv[0] */
	bool execed;	   /* child passed exec */
	bool exited;
	int status;  /* wait status once exited */
	bool traced; /* under ptrace */
};

/* Fork a child that waits for launch_release(), then runs argv (argv[0]
 * looked up in PATH) with what `child` gives back. 0; -ENOENT when argv[0]
 * is not found, -1 on other failures (err says why). */
int launch_start(struct launch *l, char *const *argv, const struct launch_child *child, char *err,
		 size_t errlen);
/* Let the child exec the command. */
void launch_release(struct launch *l);
/* After launch_release: wait until the command's image is mapped and the
 * child is held at its exec event (0), or it failed to start (-1, then
 * l->exited and l->status are set). */
int launch_wait_exec(struct launch *l);
/* From the exec stop, let the dynamic loader run one system call at a time
 * until a library whose name starts with prefix is mapped (the child is
 * then held again). 0 when it appeared, -1 when not within max_syscalls
 * or the child exited. */
int launch_run_until_mapped(struct launch *l, const char *prefix, int max_syscalls);
/* Let the held child run to its entry point (_start): by then the loader
 * has mapped every library it needs. The child is held again there.
 * 0 on success, -1 when that could not be done (it is then running). */
int launch_run_to_entry(struct launch *l);

/* Stop tracing the child and let it run (it is in a ptrace-stop when
 * `stopped`, as after launch_run_to_entry; else it is stopped first). From
 * then on the command runs as without leakbpf: its signals go straight to
 * it. 0, or -1 when it could not be done (it exited, or is still traced). */
int launch_detach(struct launch *l, bool stopped);
/* After launch_detach: whether the child has exited (reaped; status in
 * l->status). Never blocks. */
bool launch_poll_exit(struct launch *l);
/* After launch_detach: wait up to timeout_ms for the child to be stopped
 * by a signal (the BPF programs stop it at exec, bpf/leakbpf.bpf.c
 * hold_exec). 0 when it is, -1 when not (or when it exited). */
int launch_wait_stopped(struct launch *l, int timeout_ms);
void launch_free(struct launch *l);

#endif
