/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --pause: every thread of the target stopped for a consistent census, with
 * ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT: no signal the target or its
 * parent could see, no code run in it). The kernel detaches, and so resumes,
 * every thread when leakbpf exits for any reason, killed or crashed: the
 * target is never left stopped.
 */
#ifndef PY_CENSUS_PAUSE_H
#define PY_CENSUS_PAUSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct census_pause {
	pid_t pid;
	struct paused_thread {
		pid_t tid;
		int sig; /* a signal that stopped it first, given back on detach */
	} * t;
	size_t n, cap;
	uint64_t start_ns;
};

/* Stop every thread of pid. 0, or -1 with a reason (what was stopped is
 * resumed). */
int census_pause(pid_t pid, struct census_pause *p, char *err, size_t errlen);
/* Resume them; seconds the target was stopped. */
double census_resume(struct census_pause *p);

#endif
