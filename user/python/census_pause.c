// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "python/census_pause.h"
#include "util/array.h"
#include "util/clock.h"

#define MAX_ROUNDS 16

static bool seized(const struct census_pause *p, pid_t tid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].tid == tid)
			return true;
	return false;
}

/* Seize and interrupt the threads not stopped yet; how many were new, or
 * -1 with errno. */
static int seize_new(struct census_pause *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int added = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0 || seized(p, (pid_t)tid))
			continue;
		if (ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL)) {
			if (errno == ESRCH)
				continue; /* exited meanwhile */
			int err = errno;
			closedir(d);
			errno = err;
			return -1;
		}
		if (ARRAY_RESERVE(p->t, p->cap, p->n + 1)) {
			ptrace(PTRACE_DETACH, (pid_t)tid, NULL, NULL);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		p->t[p->n++] = (struct paused_thread){.tid = (pid_t)tid};
		ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL);
		/* wait for this thread's stop */
		int status;
		for (;;) {
			pid_t w = waitpid((pid_t)tid, &status, __WALL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
				p->n--; /* gone */
				break;
			}
			if (WIFSTOPPED(status)) {
				int sig = WSTOPSIG(status);
				/* a signal arriving first: keep it for the detach */
				if ((status >> 16) == 0 && sig != SIGTRAP)
					p->t[p->n - 1].sig = sig;
				break;
			}
		}
		added++;
	}
	closedir(d);
	return added;
}

int census_pause(pid_t pid, struct census_pause *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start_ns = mono_ns();
	/* threads started meanwhile are seized by the next round; once all are
	 * stopped none can start */
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int added = seize_new(p);
		if (added < 0) {
			snprintf(err, errlen, "cannot pause pid %d: %s%s", (int)pid,
				 strerror(errno),
				 errno == EPERM ? " (already traced by a debugger?)" : "");
			census_resume(p);
			return -1;
		}
		if (added == 0)
			return 0;
	}
	snprintf(err, errlen, "cannot pause pid %d: it keeps starting threads", (int)pid);
	census_resume(p);
	return -1;
}

double census_resume(struct census_pause *p)
{
	for (size_t i = 0; i < p->n; i++)
		ptrace(PTRACE_DETACH, p->t[i].tid, NULL, (void *)(long)p->t[i].sig);
	double s = (double)(mono_ns() - p->start_ns) / 1e9;
	free(p->t);
	p->t = NULL;
	p->n = p->cap = 0;
	return s;
}
